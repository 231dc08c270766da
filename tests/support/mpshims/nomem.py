# MicroPython code. Imported first, it makes every socket's connect fail
# with ENOMEM (errno 12), as lwIP or mbedtls do on a board whose heap is
# spent; everything else is the firmware's own socket module.
import socket as _socket

import swap


class _Socket:
    def __init__(self, *args):
        self.s = _socket.socket(*args)

    def settimeout(self, t):
        self.s.settimeout(t)

    def connect(self, addr):
        raise OSError(12)

    def close(self):
        self.s.close()


class socket:
    SOCK_STREAM = _socket.SOCK_STREAM
    socket = _Socket

    @staticmethod
    def getaddrinfo(*args):
        return _socket.getaddrinfo(*args)


swap.SWAPPED["socket"] = socket
