# upip device client: the answer to get's request (connect sent it): its
# status line and headers, and its body, saved into the stage and hashed on
# the way, within get's bounds. A step of its own: connect's code is gone
# (over HTTPS the TLS context and the socket's state are on the heap too).
import time

from micropython import const

from upip import UpipError

# Errors by name (see throw)
_CLOSED = const(15)
_STATUS = const(16)
_CUT_SHORT = const(17)
_NOT_HTTP = const(26)
_TOO_BIG = const(27)
_TOO_SLOW = const(28)


def run(*args):
    # run(o, url, path, count, s, poll, t, json, readline, wait) -> (status,
    # the body's sha256, its size, a redirect's location): the answer from
    # s (poll: of it) within the bounds t holds (readline and wait: get's);
    # the body, of a 200, saved as DIR + path, at most count bytes (a 404
    # of a document, json, and a redirect are returned, without their body;
    # other statuses are errors). (The arguments unpacked into locals:
    # parameter names would be qstrs.)
    o, url, path, count, s, poll, t, json, readline, wait = args
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
