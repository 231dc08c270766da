# upip device client: the start of get's request: the URL parsed, the
# connection made (over TLS with the context the step tls made) and the
# request sent; read reads the answer. A step of its own, loaded by get for
# each request and gone before the answer comes: over HTTPS the TLS context
# is on the heap too, and this code and read's never are at once.
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
_TLS = const(21)


def run(o, url):
    # -> (s, poll): the socket, which does not block now, and a poll of it
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
        return s, p
    except OSError as e:
        s.close()
        raise OSError(e.args[0] if e.args else 0, url)
    except BaseException:
        s.close()
        raise
