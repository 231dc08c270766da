# upip device client: HTTP/1.1 GET over socket or TLS, redirects, chunked
# and sized bodies; downloads go to a file with their sha256 computed on the way.
try:
    import socket
except ImportError:
    import usocket as socket

from upip import UpipError


class Body:
    # A response body: readinto() hides Content-Length / chunked / close.
    def __init__(self, s, length, chunked):
        self.s = s
        self.left = length  # bytes left in the body (or chunk); -1: until close
        self.chunked = chunked
        self.first = True

    def readinto(self, buf):
        s = self.s
        if self.chunked and self.left == 0:
            if not self.first:
                s.readline()  # CRLF after the chunk
            self.first = False
            line = s.readline()
            if not line:
                raise UpipError("connection closed mid-body")
            self.left = int(line.split(b";")[0].strip(), 16)
            if self.left == 0:
                while s.readline() not in (b"\r\n", b""):
                    pass
                self.chunked = False
        if self.left == 0:
            return 0
        want = len(buf) if self.left < 0 else min(len(buf), self.left)
        n = s.readinto(buf[:want] if want < len(buf) else buf)
        if not n:
            if self.left > 0:
                raise UpipError("connection closed mid-body")
            return 0
        if self.left > 0:
            self.left -= n
        return n

    def close(self):
        self.s.close()


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
        del ca
        return c.wrap_socket(s, server_hostname=host)
    try:
        import ssl
    except ImportError:
        import ussl as ssl
    if ca:
        return ssl.wrap_socket(s, server_hostname=host, cert_reqs=ssl.CERT_REQUIRED, cadata=ca)
    return ssl.wrap_socket(s, server_hostname=host)


def _join(url, loc):
    if "://" in loc:
        return loc
    i = url.find("/", url.find("//") + 2)
    if loc[:1] == "/":
        return url[:i] + loc if i > 0 else url + loc
    return url[:url.rfind("/") + 1] + loc


def get(url, o):
    # -> (status, Body) after following redirects
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
                s = _tls(s, host, o)
            s.write("GET /{} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n"
                    "User-Agent: upip-device\r\n\r\n".format(path, host).encode())
            line = s.readline()
            if not line:
                raise UpipError(url + " closed the connection")
            status = int(line.split(None, 2)[1])
            length, chunked, loc = -1, False, None
            while True:
                h = s.readline()
                if not h or h == b"\r\n":
                    break
                h = h.decode()
                k = h[:h.find(":")].lower()
                v = h[h.find(":") + 1:].strip()
                if k == "content-length":
                    length = int(v)
                elif k == "transfer-encoding" and "chunked" in v.lower():
                    chunked = True
                elif k == "location":
                    loc = v
        except OSError as e:
            s.close()
            from upip._inst import oserror
            raise UpipError("{}: {}".format(url, oserror(e)))
        except BaseException:
            s.close()
            raise
        if status in (301, 302, 303, 307, 308) and loc:
            s.close()
            url = _join(url, loc)
            continue
        return status, Body(s, 0 if chunked else length, chunked)
    raise UpipError("too many redirects at " + url)


def download(url, fname, o):
    # Save the body of url to fname; return its sha256 (hex).
    try:
        import binascii
        import hashlib
    except ImportError:
        import ubinascii as binascii
        import uhashlib as hashlib
    st, body = get(url, o)
    try:
        if st != 200:
            raise UpipError("{} answered HTTP {}".format(url, st))
        h = hashlib.sha256()
        buf = o.buf
        with open(fname, "wb") as f:
            while True:
                n = body.readinto(buf)
                if not n:
                    break
                h.update(buf[:n])
                f.write(buf[:n])
    except OSError as e:
        from upip._inst import oserror
        raise UpipError("{}: {}".format(url, oserror(e)))
    finally:
        body.close()
    return binascii.hexlify(h.digest()).decode()
