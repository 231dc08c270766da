# upip device client: the network step. One HTTP/1.1 GET over a socket or
# TLS, with redirects and chunked or sized bodies; the body is saved into
# the stage and hashed on the way, and the connection is closed before any
# other step runs, so the TLS buffers never share the heap with the JSON
# scanner or the inflate window.
import time

from micropython import const

from upip import UpipError

# Errors by name (see throw)
_NOWHERE = const(12)
_STATUS = const(16)
_HASH = const(18)
_REDIRECTS = const(19)
# Bounds, the host's (DESIGN.md, "Bounds on the network"): each wait for the
# server lasts at most o.timeout; once a body has had that long, it must
# average _RATE bytes a second; a request (its redirects included) ends by
# 4 x o.timeout, plus, for a file, the most it may be / _RATE; a body is
# at most the size its index declares (PyPI's "size"), else _CAP, and a
# larger Content-Length is refused before a byte of it is read.
_RATE = const(2048)
_CAP = const(67108864)  # 64 MiB


def run(o):
    # The package's document (o.version None): the first of the sources
    # next listed in the stage's "u" (a line: its kind, a tab, its URL) that
    # answers (a 404 of m, p or n goes on to the next; none answers: an
    # error naming them), saved as the stage's "j" (o.src: the URL that
    # answered; o.state its kind, after i the sources again); o.step "json"
    # (p, n: PyPI), "index" (i: the mip index's index.json), "add" (f: one
    # file, which add stages) or "mip". Then PyPI's archive, o.url, saved
    # as "a", its sha256 o.sha256 (o.step "deflate" or "zip"); a package's
    # files are fetch's. o.src, once json or range chose the archive: its
    # size as PyPI declares it (None if it does not). Other statuses than 200 (and a 404 of u, f or i)
    # are errors. An OSError gets the URL as its second argument.
    # Over HTTPS, the step before sends the step tls first, which makes
    # o.context; it goes when this step is done.
    if o.version is not None and o.state in (b"p", b"n"):
        sha = request(o, o.url, "/.upip-tx/a", o.src or _CAP)[1]  # (o.src: its size)
        if sha != o.sha256:
            raise UpipError(_HASH, o.url, sha, o.sha256)
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
                raise UpipError(_STATUS, url, code)
            if code != 404:
                o.sha256 = sha
                o.state = line[:1] + (o.state if line[0] == 105 else b"")  # (i)
                o.step = "json" if line[0] in b"pn" else "index" if line[0] == 105 else (
                    "add" if line[0] == 102 else b"mip".decode())  # (f; b"": no qstr)
                o.context = None
                return
    raise UpipError(_NOWHERE, o.name, o.state)  # (throw words it)


def request(o, url, path, count=_CAP):
    # GET url -> (the HTTP status, the body's sha256, its size), the body
    # saved as DIR + path (a 404 only returned for a document, "j"), at most
    # count bytes; nothing is kept (the inflate window comes next, and wants
    # the heap as it was). connect sends each request (and each redirect),
    # read reads its answer: steps of their own, so their code is never on
    # the heap at once; read waits for the server with wait and readline
    # below, within the bounds t holds.
    import upip
    json = path == "/.upip-tx/j"
    if json:
        o.src = url
    w = int(o.timeout * 1000)  # (ms)
    t = [time.ticks_ms(), 4 * w + (0 if json else count // _RATE * 1000), w]  # start, end, wait
    for _ in range(6):
        s, poll = upip.run("connect", o, url)
        try:
            code, sha, size, loc = upip.run("read", o, url, path, count, s, poll, t, json,
                                            readline, wait)
        except OSError as e:
            raise OSError(e.args[0] if e.args else 0, url)
        finally:
            s.close()
        if not loc:
            return code, sha, size
        url = loc if b"://" in loc.encode() else upip.load("url").join(url, loc)  # (relative)
        if json:
            o.src = url
    raise UpipError(_REDIRECTS, url)


def wait(poll, t):
    # Wait for the server (poll: of the socket, which does not block): at
    # most t[2] ms (o.timeout), and not past the request's end (t: its
    # start, its length in ms, ...). (The parameters' names are the
    # firmware's: no qstr.)
    i = t[1] - time.ticks_diff(time.ticks_ms(), t[0])
    if i <= 0 or not poll.poll(min(i, t[2])):
        raise OSError(110)  # timed out


def readline(s, poll, t):
    # the next line from s (not blocking); b"" at the end. (A line stops at
    # 1 KB too, but is read unbounded: readline(n) allocates n bytes first.)
    line = b""
    while True:
        k = s.readline()
        if k is None:  # nothing yet
            wait(poll, t)
            continue
        line += k
        if not k or line[-1:] == b"\n" or len(line) >= 1024:
            return line
