# upip device client: the body of get's request (connect read its head),
# saved into the stage and hashed on the way, within get's bounds. A step of
# its own: connect's code is gone (over HTTPS the TLS context and the
# socket's state are on the heap too).
import time

from micropython import const

from upip import UpipError

# Errors by name (see throw)
_CUT_SHORT = const(17)
_NOT_HTTP = const(26)
_TOO_BIG = const(27)
_TOO_SLOW = const(28)


def run(*args):
    # run(o, url, path, count, s, poll, t, n, chunked, readline, wait) ->
    # (the body's sha256, its size), saved as DIR + path: at most count
    # bytes, n of them (-1: until the connection closes; chunked: 1), from
    # s (poll: of it), within the bounds t holds (readline and wait: get's).
    # (The arguments unpacked into locals: parameter names would be qstrs.)
    o, url, path, count, s, poll, t, n, chunked, readline, wait = args
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
    return binascii.hexlify(sha.digest()).decode(), size
