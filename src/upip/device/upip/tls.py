# upip device client: the step connect sends first when a package's first
# request is over HTTPS, which makes the TLS context (o.context). A step of
# its own: the context (1.7 KB on 32-bit) is the biggest block an install
# allocates and the CA file the next, so both come while the heap holds no
# other step's code nor a socket, and this code is gone before the
# handshake.
from micropython import const

from upip import UpipError

# Errors by name (see throw)
_CA_MISSING = const(20)
_CA_NOT_DER = const(23)


def run(o):
    # o.context: the context, its certificate check against the CA file
    # (DER): --ca, else upip/ca.der beside this client; without one, one
    # warning. Firmware with only the older ssl module gets an SSLContext
    # of this module's instead. Then connect again (o.step).
    try:
        import tls
        c = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
        c.verify_mode = tls.CERT_NONE
    except ImportError:
        c = SSLContext()
    o.context = c
    o.step = "connect"
    if o.ca is False:  # --insecure, or warned already
        return
    path = o.ca
    if path is None:
        import upip
        path = upip.__file__[:upip.__file__.rfind("/")] + b"/ca.der".decode()
    try:
        with open(path, "rb") as f:
            ca = f.read(f.seek(0, 2) + f.seek(0))  # (exact: read() grows a 1 KB block)
    except OSError:
        if o.ca:
            raise UpipError(_CA_MISSING, o.ca)
        o.ca = False  # warned once, not at every connection
        print("warning: TLS certificates are NOT verified: no CA file (put a DER "
              "certificate at {}, or pass --ca)".format(path))
        return
    if type(c) is SSLContext:
        c.cadata = ca
        return
    try:
        c.load_verify_locations(ca)  # (parsed into c: the DER goes with this step)
    except ValueError:
        raise UpipError(_CA_NOT_DER, path)
    c.verify_mode = tls.CERT_REQUIRED


class SSLContext:
    # firmware before 1.20 (no tls module): ssl.wrap_socket, with the CA as
    # cadata. (Names the firmware has: no qstr; its code stays on the heap
    # only there, while get runs.)
    cadata = None

    def wrap_socket(self, s, server_hostname):
        try:
            import ssl
        except ImportError:  # firmware before 1.20
            ssl = __import__(b"ussl".decode())
        if self.cadata:
            return ssl.wrap_socket(s, server_hostname=server_hostname,
                                   cert_reqs=ssl.CERT_REQUIRED, cadata=self.cadata)
        return ssl.wrap_socket(s, server_hostname=server_hostname)
