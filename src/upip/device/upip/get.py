# upip device client: the network step. One HTTP/1.1 GET over a socket or
# TLS, with redirects and chunked or sized bodies; the body is saved into
# the stage and hashed on the way, and the connection is closed before any
# other step runs, so the TLS buffers never share the heap with the JSON
# scanner or the inflate window.
try:
    import socket
except ImportError:  # firmware before 1.20 (names as bytes: no qstr where unused)
    socket = __import__(b"usocket".decode())

from upip import UpipError


def run(o):
    # The package's document (o.version None): the first of the sources
    # next listed in the stage's "u" (a line: its kind, a tab, its URL) that
    # answers (a 404 of m, p or n goes on to the next; none answers: an
    # error naming them), saved as the stage's "j" (o.src: the URL that
    # answered; o.state its kind, after i the sources again); o.step "json"
    # (p, n: PyPI), "index" (i: the mip index's index.json), "add" (f: one
    # file, which add stages) or "mip". Then PyPI's archive, o.url, saved
    # as "a", its sha256 o.sha256 (o.step "deflate" or "zip"); a package's
    # files are fetch's. Other statuses than 200 (and a 404 of u, f or i)
    # are errors. An OSError gets the URL as its second argument.
    # Over HTTPS, the step before sends the step tls first, which makes
    # o.context; it goes when this step is done.
    if o.version is not None and o.state in (b"p", b"n"):
        sha = request(o, o.url, "/.upip-tx/a")[1]
        if sha != o.sha256:
            raise UpipError(18, o.url, sha, o.sha256)
        o.context = None
        o.step = "zip" if o.url.encode().split(b"?")[0][-4:] == b".whl" else "deflate"
        return
    if o.version is not None:  # the files the step mip listed (tls returns here)
        o.step = b"fetch".decode()  # (b"": no qstr)
        return
    with open(o.path + "/.upip-tx/u", "rb") as f:
        for line in f:
            url = line[2:-1].decode()
            code, sha, _ = request(o, url, "/.upip-tx/j")
            if code == 404 and line[0] not in b"mpn":
                raise UpipError(16, url, code)
            if code != 404:
                o.sha256 = sha
                o.state = line[:1] + (o.state if line[0] == 105 else b"")  # (i)
                o.step = "json" if line[0] in b"pn" else "index" if line[0] == 105 else (
                    "add" if line[0] == 102 else b"mip".decode())  # (f; b"": no qstr)
                o.context = None
                return
    raise UpipError(12, o.name, o.state)  # found nowhere (throw words the numbers)


def request(o, url, path):
    # GET url -> (the HTTP status, the body's sha256, its size), the body
    # saved as DIR + path (a 404 only returned for a document, "j"); nothing is kept
    # (the inflate window comes next, and wants the heap as it was).
    import binascii
    import hashlib
    json = path == "/.upip-tx/j"
    if json:
        o.src = url
    for _ in range(6):
        # scheme://host[:port] up to j, the path from j: no copy of the
        # path lives through the handshake (it is long on PyPI)
        j = url.find("/", url.find(":") + 3)
        if j < 0:
            url += "/"
            j = len(url) - 1
        host = url[:j].split("/", 2)  # [scheme:, "", host[:port]]
        proto = host[0]
        if len(host) < 3 or proto not in ("http:", "https:"):
            raise UpipError(13, url)
        host = host[2]
        port = 443 if proto == "https:" else 80
        i = host.rfind(":")
        if i > 0 and i > host.encode().rfind(b"]"):  # (b"": no qstr)
            host, port = host[:i], int(host[i + 1:])
        if proto == "https:" and not o.context:  # (redirected from http)
            import upip
            upip.run("tls", o)
        try:
            ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
        except OSError:
            raise UpipError(14, host)
        s = socket.socket(ai[0], socket.SOCK_STREAM, ai[2])
        try:
            s.settimeout(o.timeout)
            s.connect(ai[-1])
            ai = None  # (not through the handshake)
            if proto == "https:":
                try:  # (the context tls made; on firmware before 1.20, its stand-in)
                    s = o.context.wrap_socket(s, server_hostname=host)
                except ValueError as e:
                    raise UpipError(21, host, " ".join(str(e).split()))
            s.write("GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n"
                    "User-Agent: upip-device\r\n\r\n".format(url[j:], host).encode())
            line = s.readline()
            if not line:
                raise UpipError(15, url)
            code = int(line.split(None, 2)[1])
            n, chunked, loc = -1, 0, None  # n: body bytes left, -1: until close
            while True:
                line = s.readline()
                if not line or line == b"\r\n":
                    break
                i = line.find(b":")
                k, v = line[:i].lower(), line[i + 1:].strip()
                if k == b"content-length":
                    n = int(v)
                elif k == b"transfer-encoding" and b"chunked" in v.lower():
                    chunked, n = 1, 0
                elif k == b"location":
                    loc = v
            if code in (301, 302, 303, 307, 308) and loc:
                s.close()
                top = url[:j]  # scheme://host[:port]
                here = url[:url.rfind("/") + 1]
                url = loc.decode()
                if b"://" not in loc:  # relative: to the host, or to the folder
                    url = (top if loc[:1] == b"/" else here) + url
                if json:
                    o.src = url
                continue
            if code == 404 and json:
                s.close()
                return code, None, 0
            if code != 200:
                raise UpipError(16, url, code)
            sha = hashlib.sha256()
            size = 0
            b = memoryview(bytearray(256))  # (the TLS buffers are on the heap too)
            with open(o.path + path, "wb") as f:
                while True:
                    if chunked and not n:
                        if chunked == 2:
                            s.readline()  # the CRLF after a chunk
                        chunked = 2
                        line = s.readline()
                        if not line:
                            raise UpipError(17, url)
                        n = int(line.split(b";")[0], 16)
                        if not n:
                            break  # the last chunk (trailers: the connection closes)
                    if not n:
                        break
                    k = s.readinto(b if n < 0 or n >= len(b) else b[:n])
                    if not k:
                        if n > 0:
                            raise UpipError(17, url)
                        break
                    if n > 0:
                        n -= k
                    sha.update(b[:k])
                    f.write(b[:k])
                    size += k
            s.close()
            return code, binascii.hexlify(sha.digest()).decode(), size
        except OSError as e:
            s.close()
            raise OSError(e.args[0] if e.args else 0, url)
        except BaseException:
            s.close()
            raise
    raise UpipError(19, url)

