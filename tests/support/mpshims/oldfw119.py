# MicroPython code. Imported first, it makes today's unix port look like the
# firmware of MicroPython 1.19 (see oldfw.py): besides having no tls or
# deflate, its socket and ssl modules are named usocket and ussl.
import socket as _socket

import oldfw
import swap


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


swap.HIDDEN.update(("socket", "ssl"))
del swap.SWAPPED["ssl"]
swap.SWAPPED.update({"usocket": usocket, "ussl": ussl})
USED = oldfw.USED
