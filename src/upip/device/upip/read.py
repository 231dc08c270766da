# upip device client: the step after connect: the answer to the request
# get asked (o.request; connect sent it): its status line and headers, and
# its body, saved into the stage and hashed on the way, within get's
# bounds; then back to get with the answer, or, for a redirect, to connect
# again. A step of its own: connect's code and get's are gone (over HTTPS
# the TLS context and the socket's state are on the heap too).
import time

from micropython import const

from upip import UpipError

try:
    import select
except ImportError:  # firmware before 1.20 (its name as bytes: no qstr where unused)
    select = __import__(b"uselect".decode())

# Errors by name (see throw)
_CLOSED = const(15)
_STATUS = const(16)
_CUT_SHORT = const(17)
_REDIRECTS = const(19)
_NOT_HTTP = const(26)
_TOO_BIG = const(27)
_TOO_SLOW = const(28)


def run(o):
    # o.request: [url, path, count, when it began and how long it may
    # take (ms), the redirects followed, get's pos, the socket connect
    # made] (get.request). The answer from the socket (closed after),
    # within those bounds, each wait at
    # most o.timeout: a 200's body saved as DIR + path, at most count
    # bytes, then o.request = [the status, the body's sha256, its size,
    # pos] (a 404 of a document, "j", without its body; other statuses are
    # errors), o.step "get"; a redirect, o.step "connect" again (o.request
    # naming its URL; o.src too for a document). An OSError gets the URL as
    # its second argument.
    r = o.request
    url = r[0]
    s, r[7] = r[7], None
    try:
        poll = select.poll()
        poll.register(s, select.POLLIN)
        t = [r[3], r[4], int(o.timeout * 1000)]  # start, length, wait (ms)
        code, sha, size, loc = read(o, url, r[1], r[2], s, poll, t)
    except OSError as e:
        raise OSError(e.args[0] if e.args else 0, url)
    finally:
        s.close()
    if not loc:
        o.request = [code, sha, size, r[6]]
        o.step = "get"
        return
    if b"://" not in loc.encode():  # (relative)
        import upip
        loc = upip.load("url").join(url, loc)
    r[5] += 1
    if r[5] > 5:
        raise UpipError(_REDIRECTS, loc)
    r[0] = loc
    if r[1] == "/.upip-tx/j":
        o.src = loc
    o.step = "connect"


def read(o, url, path, count, s, poll, t):
    # -> (status, the body's sha256, its size, a redirect's location): the
    # answer from s (poll: of it) within the bounds t holds (start,
    # length, wait; read's helpers below). (Names the firmware has: no
    # qstr.)
    json = path == "/.upip-tx/j"
    line = readline(s, poll, t)
    if not line:
        raise UpipError(_CLOSED, url)
    try:
        if line[:5] != b"HTTP/":
            raise ValueError
        code = int(line[9:12])  # ("HTTP/1.1 200 OK")
        n, chunked, loc = -1, 0, None  # n: the body's length, -1: until the end
        while True:
            line = readline(s, poll, t)
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
    if code in (301, 302, 303, 307, 308) and loc or code == 404 and json:
        return code, None, 0, loc
    if code != 200:
        raise UpipError(_STATUS, url, code)
    if n > count:
        raise UpipError(_TOO_BIG, url, count)
    import binascii
    import hashlib
    sha = hashlib.sha256()
    size = 0
    b = memoryview(bytearray(256))  # (the TLS buffers are on the heap too)
    t.append(time.ticks_ms())  # when the body began
    with open(o.path + path, "wb") as f:
        while True:
            if chunked and not n:
                if chunked == 2:
                    readline(s, poll, t)  # the CRLF after a chunk
                chunked = 2
                line = readline(s, poll, t)
                if not line:
                    raise UpipError(_CUT_SHORT, url)
                try:
                    n = int(line.split(b";")[0], 16)
                except ValueError:
                    raise UpipError(_NOT_HTTP, url)
                if not n:
                    break  # the last chunk (trailers: the connection closes)
            if not n:
                break
            k = s.readinto(b if n < 0 or n >= len(b) else b[:n])
            if k is None:  # nothing yet
                wait(poll, t)
                continue
            if not k:
                if n > 0:
                    raise UpipError(_CUT_SHORT, url)
                break
            if n > 0:
                n -= k
            size += k
            if size > count:
                raise UpipError(_TOO_BIG, url, count)
            sha.update(b[:k])
            f.write(b[:k])
            i = time.ticks_diff(time.ticks_ms(), t[3])  # ms since the body began
            if i > t[2] and size < i // 125 * 256 or time.ticks_diff(
                    time.ticks_ms(), t[0]) > t[1]:  # (i // 125 * 256: 2048 bytes a second)
                raise UpipError(_TOO_SLOW, url, size, i // 1000)
    return code, binascii.hexlify(sha.digest()).decode(), size, None


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
