# upip device client: the step after get (and after read, for a
# redirect): the start of the request get asked (o.request), the URL
# parsed, the connection made (over TLS with the context the step tls made)
# and the request sent; the step read reads the answer. Steps of their own:
# over HTTPS the TLS context is on the heap too, and this code, read's and
# get's never are at once.
try:
    import socket
except ImportError:  # firmware before 1.20 (names as bytes: no qstr where unused)
    socket = __import__(b"usocket".decode())

from micropython import const

from upip import UpipError

# Errors by name (see throw)
_BAD_URL = const(13)
_NO_HOST = const(14)
_TLS = const(21)


def run(o):
    # -> the socket, which does not block now, as o.request's last item
    # (o.step "read"); or, for the first request over HTTPS, o.step "tls",
    # which makes o.context and comes back here. scheme://host[:port] up to j, the path from j:
    # no copy of the path lives through the handshake (it is long on PyPI)
    url = o.request[0]
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
    if proto == "https:" and not o.context:
        o.step = "tls"
        return
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
        o.request[7] = s
        o.step = "read"
    except OSError as e:
        s.close()
        raise OSError(e.args[0] if e.args else 0, url)
    except BaseException:
        s.close()
        raise
