# upip device client: HTTP/1.1 GET over a socket or TLS, with redirects and
# chunked or sized bodies. fetch() with a file name saves the body there and
# returns its sha256, computed on the way.
try:
    import socket
except ImportError:
    import usocket as socket

from upip import UpipError


class Body:
    # A response body: readinto() hides Content-Length, chunked and close.
    def __init__(self, s, left, chunked):
        self.s = s
        self.left = left  # bytes left in the body or chunk; -1: until close
        self.chunked = chunked  # 1: before the first chunk, 2: after one, 0: no

    def readinto(self, buf):
        s = self.s
        if self.chunked and not self.left:
            if self.chunked == 2:
                s.readline()  # the CRLF after a chunk
            self.chunked = 2
            line = s.readline()
            if not line:
                raise UpipError("connection closed mid-body")
            self.left = int(line.split(b";")[0], 16)
            if not self.left:
                while s.readline() not in (b"\r\n", b""):
                    pass
                self.chunked = 0
        if not self.left:
            return 0
        n = s.readinto(buf if self.left < 0 or self.left >= len(buf) else buf[:self.left])
        if not n:
            if self.left > 0:
                raise UpipError("connection closed mid-body")
            return 0
        if self.left > 0:
            self.left -= n
        return n


def oserror(e):
    n = e.args[0] if e.args else 0
    return {28: "no space left on device", 27: "file too large (disk full?)", 110: "timed out",
            116: "timed out",
            104: "connection reset", 111: "connection refused", 113: "no route to host",
            5: "I/O error"}.get(n, "error " + str(e))


def fetch(url, o, fname=None):
    # -> (status, Body); with fname: the body saved there -> its sha256
    for _ in range(6):
        proto, _, host, path = (url + ("/" if url.count("/") < 3 else "")).split("/", 3)
        port = 443 if proto == "https:" else 80
        if proto not in ("http:", "https:"):
            raise UpipError("unsupported URL " + url)
        i = host.rfind(":")
        if i > 0 and host[-1] != "]":
            host, port = host[:i], int(host[i + 1:])
        try:
            ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
        except OSError:
            raise UpipError("cannot resolve host " + host)
        s = socket.socket(ai[0], socket.SOCK_STREAM, ai[2])
        try:
            s.settimeout(o.timeout)
            s.connect(ai[-1])
            if proto == "https:":
                try:
                    s = _tls(s, host, o)
                except ValueError as e:
                    raise UpipError("TLS with {} failed: {}".format(host, " ".join(
                        str(e).split())))
            s.write("GET /{} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n"
                    "User-Agent: upip-device\r\n\r\n".format(path, host).encode())
            line = s.readline()
            if not line:
                raise UpipError(url + " closed the connection")
            status = int(line.split(None, 2)[1])
            length, chunked, loc = -1, 0, None
            while True:
                h = s.readline()
                if not h or h == b"\r\n":
                    break
                h = h.decode()
                i = h.find(":")
                k, v = h[:i].lower(), h[i + 1:].strip()
                if k == "content-length":
                    length = int(v)
                elif k == "transfer-encoding" and "chunked" in v.lower():
                    chunked = 1
                elif k == "location":
                    loc = v
            if status in (301, 302, 303, 307, 308) and loc:
                s.close()
                if "://" not in loc:  # relative: to the host, or to the folder
                    i = url.find("/", url.find("//") + 2)
                    loc = (url[:i] if loc[:1] == "/" else url[:url.rfind("/") + 1]) + loc
                url = loc
                continue
            body = Body(s, 0 if chunked else length, chunked)
            if fname is None:
                return status, body
            if status != 200:
                raise UpipError("{} answered HTTP {}".format(url, status))
            try:
                import binascii
                import hashlib
            except ImportError:
                import ubinascii as binascii
                import uhashlib as hashlib
            sha = hashlib.sha256()
            buf = o.buf
            with open(fname, "wb") as f:
                while True:
                    n = body.readinto(buf)
                    if not n:
                        break
                    sha.update(buf[:n])
                    f.write(buf[:n])
            s.close()
            return binascii.hexlify(sha.digest()).decode()
        except OSError as e:
            s.close()
            raise UpipError("{}: {}".format(url, oserror(e)))
        except BaseException:
            s.close()
            raise
    raise UpipError("too many redirects at " + url)


def _tls(s, host, o):
    ca = None
    if not o.insecure:
        path = o.ca
        if path is None:
            import upip
            path = upip.__file__[:upip.__file__.rfind("/")] + "/ca.der"
        try:
            with open(path, "rb") as f:
                ca = f.read()
        except OSError:
            if o.ca:
                raise UpipError("cannot read the CA file " + o.ca)
            if not o.warned:
                o.warned = True
                print("warning: TLS certificates are NOT verified: no CA file (put a DER "
                      "certificate at {}, or pass --ca)".format(path))
    try:
        import tls
    except ImportError:
        tls = None
    if tls:
        c = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
        c.verify_mode = tls.CERT_NONE
        if ca:
            c.load_verify_locations(ca)
            c.verify_mode = tls.CERT_REQUIRED
        return c.wrap_socket(s, server_hostname=host)
    try:
        import ssl
    except ImportError:
        import ussl as ssl
    if ca:
        return ssl.wrap_socket(s, server_hostname=host, cert_reqs=ssl.CERT_REQUIRED, cadata=ca)
    return ssl.wrap_socket(s, server_hostname=host)
