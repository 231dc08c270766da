# upip device client: inflate the archive (its sha256 checked by get; gzip, a
# 4 KiB window first, then 32 KiB; where the heap has no room for the window,
# inflate does it in Python) from the stage's "a" into "t", a plain tar that
# unpack reads without the inflate state: the window is the biggest block
# on the heap, and here it is alone with a few lines of code. The tar's
# member sizes are checked on the way (decompression bombs are refused
# before they fill the flash); unpack checks everything else.
from micropython import const

from upip import UpipError

# Errors by name (see throw)
_BOMB = const(10)
_CORRUPT = const(11)
_TRUNCATED = const(22)

_BIG = const(33554432)  # per member; twice that in all


def run(o):
    import gc
    import os
    for n in (12, 15):
        b = None
        gc.collect()
        f = open(o.path + "/.upip-tx/a", "rb")
        try:
            try:
                import deflate
                d = deflate.DeflateIO(f, deflate.GZIP, n)
            except ImportError:  # firmware before 1.21; names spelt as bytes, which
                # are no qstrs where the firmware lacks them
                d = getattr(__import__(b"uzlib".decode()), b"DecompIO".decode())(f, 16 + n)
            # The window (the biggest block) before the 512-byte buffer: the
            # first read makes it; the buffer would take the start of the one
            # free region it fits in (measured: 128 bytes less heap).
            c = bytearray(1)
            k = d.readinto(c)
            b = memoryview(bytearray(512))
            b[0] = c[0]
            c = None
            size = pos = top = 0  # top: where the next member's header starts
            with open(o.path + "/.upip-tx/t", "wb") as w:
                while True:
                    while k < 512:  # whole 512-byte blocks, as the tar is laid out
                        i = d.readinto(b[k:])
                        if not i:
                            break
                        k += i
                    if not k:
                        break
                    if pos == top:  # a member's header: refuse a bomb before it lands
                        top += 512
                        if k == 512 and b[0]:
                            i = (int(bytes(b[124:136]).split(b"\0", 1)[0].strip() or b"0", 8)
                                 if not b[124] & 0x80 else _BIG + 1)
                            size += i
                            if i > _BIG or size > 2 * _BIG:
                                raise UpipError(_BOMB, bytes(b[:100]).split(b"\0", 1)[0].decode())
                            top += (i + 511) // 512 * 512
                    pos += k
                    w.write(b[:k])
                    k = 0
            os.remove(o.path + "/.upip-tx/a")
            o.step = "unpack"
            return
        except MemoryError:  # no room for the window: inflate in Python
            o.step = b"inflate".decode()  # (b"": no qstr unless it runs)
            return
        except ValueError:  # a size field that is no octal number
            raise UpipError(_CORRUPT)
        except EOFError:  # the stream ends early
            raise UpipError(_TRUNCATED)
        except OSError as e:
            if not e.args or e.args[0] != 22:  # EINVAL: a back-reference beyond the
                raise  # window (try a bigger one), or a corrupt stream
        finally:
            d = None
            f.close()
    raise UpipError(_CORRUPT)
