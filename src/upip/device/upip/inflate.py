# upip device client: the inflate step for a heap with no room for the
# firmware's window (deflate runs it on a MemoryError, get when the heap is
# too small to try): gzip/RFC 1951 in Python, from the stage's "a" into "t"
# like deflate. The history a back-reference reads (up to 32 KiB) is the
# output file itself, so the heap holds 256 bytes of output, 64 of input
# and the code tables (~1 KB)
# instead of a 4 or 32 KiB window: small heaps install any sdist, slowly.
# Codes are decoded a bit at a time, the canonical way (as zlib's puff.c).
# The tar's member sizes are checked on the way, as in deflate. A wheel's
# member (o.zip, from zip: ..., where its raw stream starts, its slot,
# its size) is inflated into its slot, then zip goes on.
from micropython import const

from upip import UpipError

# Errors by name (see throw)
_BOMB = const(10)
_CORRUPT = const(11)
_TRUNCATED = const(22)

_BIG = const(33554432)  # per member; twice that in all


def run(o):
    import os
    from array import array
    z = getattr(o, "zip", None)
    f = open(o.path + "/.upip-tx/a", "rb")
    w = open(o.path + ("/.upip-tx/n" + str(z[2]) if z else "/.upip-tx/t"),
             b"w+b".decode())  # (b"": no qstr)
    inb = bytearray(64)
    # the output being filled (the newest history), half a tar block: the
    # header fields checked (name, size) are in a header's first half
    ob = bytearray(256)
    tmp = bytearray(64)  # older history, read back from w
    lens = bytearray(320)  # code lengths
    # (made from a range, whose length sizes them: from bytes, a copy of
    # their size would be on the heap at once; the values are filled in)
    h = b"H".decode()
    lcnt, dcnt = array(h, range(16)), array(h, range(16))  # codes per length
    lsym, dsym = array(h, range(288)), array(h, range(32))  # symbols by code
    i = n = v = c = 0  # input: position, end; bit buffer, bits in it
    t = tw = 0  # bytes out; bytes written to w (t - tw are in ob)
    size = top = 0  # tar: member sizes so far; where the next header starts
    if z:
        f.seek(z[1])
        top = -1  # (no tar)

    # (The helpers' names and parameters are ones the firmware has as qstrs
    # already: new names would stay on the heap after the step.)
    def get():  # the next input byte
        nonlocal i, n
        if i == n:
            n = f.readinto(inb)
            if not n:
                raise EOFError
            i = 0
        i += 1
        return inb[i - 1]

    def read(n):  # the next n bits
        nonlocal v, c
        while c < n:
            v |= get() << c
            c += 8
        r = v & ((1 << n) - 1)
        v >>= n
        c -= n
        return r

    def put(value):  # one output byte
        nonlocal t, tw, size, top
        ob[t - tw] = value
        t += 1
        if z and t > z[3]:
            raise ValueError  # more than the wheel says
        if t - tw == 256:
            if tw == top:  # a member's header: refuse a bomb before it lands
                top += 512
                if ob[0]:
                    k = (int(bytes(ob[124:136]).split(b"\0", 1)[0].strip() or b"0", 8)
                         if not ob[124] & 0x80 else _BIG + 1)
                    size += k
                    if k > _BIG or size > 2 * _BIG:
                        raise UpipError(_BOMB, bytes(ob[:100]).split(b"\0", 1)[0].decode())
                    top += (k + 511) // 512 * 512
            w.write(ob)
            tw += 256

    def fill(count, values, start, end):
        # the canonical code of lens[start:end]: count[k], the codes k bits
        # long; values, the symbols in code order
        for k in range(16):
            count[k] = 0
        for k in range(start, end):
            count[lens[k]] += 1
        count[0] = 0
        offs = [0, 0]
        for k in range(1, 15):
            offs.append(offs[k] + count[k])
        for k in range(start, end):
            if lens[k]:
                values[offs[lens[k]]] = k - start
                offs[lens[k]] += 1

    def decode(count, values):  # the next symbol
        code = first = index = 0
        for k in range(1, 16):
            code |= read(1)
            m = count[k]
            if code < first + m:
                return values[index + code - first]
            index += m
            first = (first + m) << 1
            code <<= 1
        raise ValueError

    def copy(pos, n):
        # n bytes from pos back: from ob, or read back from the file
        while n:
            s = t - pos
            if s < 0:
                raise ValueError
            if s < tw:
                m = min(n, tw - s, 64)
                w.seek(s)
                w.readinto(memoryview(tmp)[:m])
                w.seek(tw)
                for j in range(m):
                    put(tmp[j])
                n -= m
            else:
                put(ob[s - tw])
                n -= 1

    try:
        flags = 0
        if z:
            pass
        elif get() != 31 or get() != 139 or get() != 8:
            raise ValueError
        else:
            flags = get()
        for _ in range(0 if z else 6):
            get()
        if flags & 4:  # extra field
            for _ in range(get() | get() << 8):
                get()
        for m in (8, 16):  # file name, comment
            if flags & m:
                while get():
                    pass
        if flags & 2:
            get()
            get()
        last = 0
        while not last:
            last = read(1)
            kind = read(2)
            if kind == 0:  # stored
                v = c = 0
                m = get() | get() << 8
                get()
                get()
                for _ in range(m):
                    put(get())
                continue
            if kind == 1:  # the fixed code
                for k in range(288):
                    lens[k] = 8 if k < 144 or k > 279 else 9 if k < 256 else 7
                fill(lcnt, lsym, 0, 288)
                for k in range(30):
                    lens[k] = 5
                fill(dcnt, dsym, 0, 30)
            elif kind == 2:  # a code of its own, itself coded
                nl, nd, m = read(5) + 257, read(5) + 1, read(4) + 4
                for k in range(19):
                    lens[k] = 0
                for k in range(m):
                    lens[b"\x10\x11\x12\0\x08\x07\x09\x06\x0a\x05\x0b\x04\x0c\x03\x0d\x02\x0e\x01\x0f"[k]] = read(3)
                fill(dcnt, dsym, 0, 19)
                k = 0
                while k < nl + nd:
                    s = decode(dcnt, dsym)
                    if s < 16:
                        lens[k] = s
                        k += 1
                        continue
                    if s == 16:
                        if not k:
                            raise ValueError
                        x, r = lens[k - 1], 3 + read(2)
                    else:
                        x, r = 0, 3 + read(3) if s == 17 else 11 + read(7)
                    if k + r > nl + nd:
                        raise ValueError
                    for _ in range(r):
                        lens[k] = x
                        k += 1
                fill(lcnt, lsym, 0, nl)
                fill(dcnt, dsym, nl, nl + nd)
            else:
                raise ValueError
            while True:
                s = decode(lcnt, lsym)
                if s < 256:
                    put(s)
                elif s == 256:
                    break
                else:
                    s -= 257
                    if s > 28:
                        raise ValueError
                    k = (s + 3 if s < 8 else ((4 + (s & 3)) << ((s >> 2) - 1)) + 3 +
                         read((s >> 2) - 1)) if s < 28 else 258
                    s = decode(dcnt, dsym)
                    if s > 29:
                        raise ValueError
                    copy(s + 1 if s < 4 else ((2 + (s & 1)) << ((s >> 1) - 1)) + 1 +
                         read((s >> 1) - 1), k)
        w.write(ob[:t - tw])
    except ValueError:  # not a gzip stream, a bad code or size field
        raise UpipError(_CORRUPT)
    except EOFError:
        raise UpipError(_TRUNCATED)
    finally:
        f.close()
        w.close()
    if z:
        o.step = "zip"
        return
    os.remove(o.path + "/.upip-tx/a")
    o.step = "unpack"
