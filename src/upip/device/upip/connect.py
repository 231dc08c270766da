# upip device client: the head of get's request: the URL parsed, the
# connection made (over TLS with the context the step tls made), the
# request sent and the answer's status line and headers read. Loaded by get
# for each request and gone before the body comes: over HTTPS the TLS
# context is on the heap too, and this code and the body's loop never are
# at once.
try:
    import select
    import socket
except ImportError:  # firmware before 1.20 (names as bytes: no qstr where unused)
    socket = __import__(b"usocket".decode())
    select = __import__(b"uselect".decode())

from micropython import const

from upip import UpipError

# Errors by name (see throw)
_BAD_URL = const(13)
_NO_HOST = const(14)
_CLOSED = const(15)
_TLS = const(21)
_NOT_HTTP = const(26)


def run(*args):
    # run(o, url, t, readline) -> (s, poll, status, n, chunked, location):
    # the socket, not blocking, and a poll of it; n: the body's
    # Content-Length, -1 if none; t and readline: get's bounds and its way
    # of reading a line within them. (The arguments unpacked into locals:
    # parameter names would be qstrs.)
    o, url, t, readline = args
    # scheme://host[:port] up to j, the path from j: no copy of the path
    # lives through the handshake (it is long on PyPI)
    j = url.find("/", url.find(":") + 3)
    if j < 0:
        url += "/"
        j = len(url) - 1
    host = url[:j].split("/", 2)  # [scheme:, "", host[:port]]
    proto = host[0]
    if len(host) < 3 or proto not in ("http:", "https:"):
        raise UpipError(_BAD_URL, url)
    a = host = host[2]  # a: the Host header, with the port when the URL gives one
    port = 443 if proto == "https:" else 80
    i = host.rfind(":")
    if i > 0 and i > host.encode().rfind(b"]"):  # (b"": no qstr)
        host, port = host[:i], host[i + 1:]
        if not port.isdigit():
            raise UpipError(_BAD_URL, url)
        port = int(port)
    if proto == "https:" and not o.context:  # (redirected from http)
        import upip
        upip.run("tls", o)
    try:
        ai = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)[0]
    except OSError:
        raise UpipError(_NO_HOST, host)
    s = socket.socket(ai[0], socket.SOCK_STREAM, ai[2])
    try:
        s.settimeout(o.timeout)
        s.connect(ai[-1])
        ai = None  # (not through the handshake)
        if proto == "https:":
            try:  # (the context tls made; on firmware before 1.20, its stand-in)
                s = o.context.wrap_socket(s, server_hostname=host)
            except ValueError as e:
                raise UpipError(_TLS, host, " ".join(str(e).split()))
        s.write("GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n"
                "User-Agent: upip-device\r\n\r\n".format(url[j:], a).encode())
        s.setblocking(False)
        p = select.poll()
        p.register(s, select.POLLIN)
        line = readline(s, p, t)
        if not line:
            raise UpipError(_CLOSED, url)
        try:
            if line[:5] != b"HTTP/":
                raise ValueError
            code = int(line[9:12])  # ("HTTP/1.1 200 OK")
            n, chunked, loc = -1, 0, None
            while True:
                line = readline(s, p, t)
                if not line or line == b"\r\n":
                    break
                i = line.find(b":")
                k, v = line[:i].lower(), line[i + 1:].strip()
                if k == b"content-length":
                    n = int(v)
                    if n < 0:
                        raise ValueError
                elif k == b"transfer-encoding" and b"chunked" in v.lower():
                    chunked, n = 1, 0
                elif k == b"location":
                    loc = v.decode()
        except ValueError:  # a status line or header that is no HTTP
            raise UpipError(_NOT_HTTP, url)
        return s, p, code, n, chunked, loc
    except OSError as e:
        s.close()
        raise OSError(e.args[0] if e.args else 0, url)
    except BaseException:
        s.close()
        raise
