# MicroPython code. Imported first, it makes today's unix port look like the
# firmware of MicroPython 1.19 (see oldfw.py): besides having no tls or
# deflate, its socket and ssl modules are named usocket and ussl.
import socket as _socket

import oldfw


class usocket:
    SOCK_STREAM = _socket.SOCK_STREAM
    socket = _socket.socket

    @staticmethod
    def getaddrinfo(*args):
        oldfw.USED.append("usocket")
        return _socket.getaddrinfo(*args)


class ussl(oldfw.ssl):
    @staticmethod
    def wrap_socket(sock, **kw):
        oldfw.USED.append("ussl")
        return oldfw.ssl.wrap_socket(sock, **kw)


oldfw.HIDDEN += ["socket", "ssl"]
del oldfw.OLD["ssl"]
oldfw.OLD["usocket"] = usocket
oldfw.OLD["ussl"] = ussl
USED = oldfw.USED
