# MicroPython code. Imported first, it makes today's unix port look like the
# firmware of MicroPython 1.20 to what runs after it: no tls or deflate
# module, and uzlib.DecompIO and ssl.wrap_socket(cadata=...) as that
# firmware had them, over this firmware's own C code (deflate, tls). USED
# records which of the older names were called, so a test can tell the
# fallbacks really ran. HIDDEN and OLD are what it hides and what it offers
# in their place (oldfw119 adds the names of 1.19).
import builtins
import ssl as _ssl

import deflate

USED = []
_import = builtins.__import__


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


HIDDEN = ["tls", "deflate"]
OLD = {"uzlib": uzlib, "ssl": ssl}


def _older(name, *args):
    if name in HIDDEN:
        raise ImportError("no module named '" + name + "'")
    return OLD.get(name) or _import(name, *args)


builtins.__import__ = _older
