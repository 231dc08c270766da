# upip device client: the step that asks for a package's files over the
# network, one request at a time: its document (the first source that
# answers), then PyPI's archive, or the files a mip index or a package.json
# lists. A request is made by the steps connect and read (o.request), which
# answer back here: this step's code is not on the heap while they run (the
# socket, and over HTTPS the TLS context, are); connect sends the step tls
# first when a request is the first over HTTPS. Each body is saved into the
# stage and hashed on the way, and the connection is closed before any
# other step runs, so the TLS buffers never share the heap with the JSON
# scanner or the inflate window.
import time

from micropython import const

from upip import UpipError

# Errors by name (see throw)
_NOWHERE = const(12)
_STATUS = const(16)
_HASH = const(18)
# Bounds, the host's (DESIGN.md, "Bounds on the network"): each wait for the
# server lasts at most o.timeout; once a body has had that long, it must
# average _RATE bytes a second (read keeps these two); a request (its
# redirects included) ends by 4 x o.timeout, plus, for a file, the most it
# may be / _RATE; a body is at most the size its index declares (PyPI's
# "size"), else _CAP, and a larger Content-Length is refused before a byte
# of it is read.
_RATE = const(2048)
_CAP = const(67108864)  # 64 MiB
# The firmware's inflate (the step deflate) takes 5.5 KB at once, its 4
# KiB window in one block: with less than this free here (measured on
# 32-bit: it ran from 5.8 KB free here, and failed at 5.3 KB), an sdist
# goes straight to the step inflate (its Python), without deflate's code
# loaded, and its names interned, only to fail.
_ROOM = const(5632)


def run(o):
    # The package's document (o.version None): the first of the sources
    # next listed in the stage's "u" (a line: its kind, a tab, its URL) that
    # answers (a 404 of m, p or n goes on to the next; none answers: an
    # error naming them), saved as the stage's "j" (o.src: the URL that
    # answered; o.state its kind, after i the sources again); o.step "json"
    # (p, n: PyPI), "index" (i: the mip index's index.json), "add" (f: one
    # file, which add stages) or "mip". Then PyPI's archive, o.url, saved
    # as "a", its sha256 o.sha256 (o.step "deflate" or "zip"; o.src, once
    # json or range chose the archive: its size as PyPI declares it, None if
    # it does not), or the files the step mip listed (urls below). Other
    # statuses than 200 (and a 404 of u, f or i) are errors. o.context, the
    # TLS context, goes when a document, an archive or a package's files are
    # in.
    a = o.request  # the answer to the request this step asked, or None
    o.request = None
    if o.version is not None and o.state in (b"p", b"n"):
        if not a:
            request(o, o.url, "/.upip-tx/a", o.src or _CAP, 0)
            return
        if a[1] != o.sha256:
            raise UpipError(_HASH, o.url, a[1], o.sha256)
        o.context = None
        o.step = "zip" if o.url.encode().split(b"?")[0][-4:] == b".whl" else "deflate"
        import gc
        gc.collect()
        if o.step == "deflate" and gc.mem_free() < _ROOM:
            o.step = b"inflate".decode()  # (b"": no qstr unless it runs)
        return
    if o.version is not None:
        urls(o, a)
        return
    with open(o.path + "/.upip-tx/u", "rb") as f:
        if a:  # the answer for the line at a[3]
            f.seek(a[3])
            line = f.readline()
            if a[0] == 404 and line[0] not in b"mpn":
                raise UpipError(_STATUS, line[2:-1].decode(), 404)
            if a[0] != 404:
                o.sha256 = a[1]
                o.state = line[:1] + (o.state if line[0] == 105 else b"")  # (i)
                o.step = "json" if line[0] in b"pn" else "index" if line[0] == 105 else (
                    "add" if line[0] == 102 else b"mip".decode())  # (f; b"": no qstr)
                o.context = None
                return
        at = f.tell()
        line = f.readline()
    if not line:
        raise UpipError(_NOWHERE, o.name, o.state)  # (throw words it)
    request(o, line[2:-1].decode(), "/.upip-tx/j", _CAP, at)


def urls(o, r):
    # The files the step mip listed in the stage's "m" (a line: URL,
    # destination, the start of its sha256 or nothing), each into the next
    # slot of the stage (o.count) and listed in "f" as unpack lists an
    # archive's; a short hash (the mip index's) is checked as each arrives,
    # so nothing unchecked lands. Then o.step "add".
    if not r:
        open(o.path + "/.upip-tx/f", "wb").close()
    with open(o.path + "/.upip-tx/m", "rb") as f:
        if r:  # the answer for the line at r[3]
            f.seek(r[3])
            url, dest, h = f.readline()[:-1].split(b"\t")
            if r[1][:len(h)] != h.decode():  # (the mip index's short hash)
                raise UpipError(_HASH, url.decode(), r[1], h.decode())
            with open(o.path + "/.upip-tx/f", b"ab".decode()) as out:  # (b"": no qstr)
                out.write(str(o.count).encode() + b"\t" + dest + b"\t" + r[1].encode() +
                          b"\t" + str(r[2]).encode() + b"\n")
            o.count += 1
        at = f.tell()
        line = f.readline()
    if not line:
        o.context = None
        o.step = "add"
        return
    request(o, line[:line.find(b"\t")].decode(), "/.upip-tx/n" + str(o.count), _CAP, at)


def request(o, url, path, count, pos):
    # GET url, its body saved as DIR + path, at most count bytes: o.request
    # = [url, path, count, when it began and how long it may take (ms), the
    # redirects followed, pos: where this step's list goes on, the socket
    # (connect's, for read)], for connect and read, which answer [the HTTP
    # status, the body's sha256, its size, pos] (a 404 only of a document,
    # "j", whose URL is o.src, the last one it was redirected to). (Names
    # the firmware has: no qstr.)
    json = path == "/.upip-tx/j"
    if json:
        o.src = url
    o.request = [url, path, count, time.ticks_ms(),
                 int(o.timeout * 1000) * 4 + (0 if json else count // _RATE * 1000), 0, pos,
                 None]
    o.step = "connect"
