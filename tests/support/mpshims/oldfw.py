# MicroPython code. Imported first, it makes today's unix port look like the
# firmware of MicroPython 1.20 to what runs after it: no tls or deflate
# module, and uzlib.DecompIO and ssl.wrap_socket(cadata=...) as that
# firmware had them, over this firmware's own C code (deflate, tls). USED
# records which of the older names were called, so a test can tell the
# fallbacks really ran. (Through swap.py; oldfw119 adds the names of 1.19.)
import ssl as _ssl

import deflate
import swap

USED = []


class uzlib:
    @staticmethod
    def DecompIO(stream, wbits):  # 16 + n: gzip with a 2**n window
        USED.append("uzlib")
        return deflate.DeflateIO(stream, deflate.GZIP, wbits - 16)


class ssl:
    CERT_NONE = _ssl.CERT_NONE
    CERT_REQUIRED = _ssl.CERT_REQUIRED

    @staticmethod
    def wrap_socket(sock, **kw):
        USED.append("ssl+ca" if kw.get("cadata") else "ssl")
        return _ssl.wrap_socket(sock, **kw)


swap.HIDDEN.update(("tls", "deflate"))
swap.SWAPPED.update({"uzlib": uzlib, "ssl": ssl})
