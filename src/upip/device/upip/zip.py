# upip device client: zip a py3-none-any wheel (its sha256 checked by
# get; the stage's "a") into the stage as unpack does a tar: each member
# into a slot, listed in "f" (slot, path, sha256, size). The central
# directory is read an entry at a time from the file, never held. A member
# is stored, or deflated (raw, up to a 32 KiB window): the firmware inflates
# it with a window no bigger than the member (most of a wheel's files need
# far less than 32 KiB), or, where the heap has no room for that, the step
# inflate does in Python and hands back (o.zip: the next entry of the
# central directory, then the member's start, slot, size and path). The refusals are unpack's: no absolute
# paths, no "..", no links; and no member other than it says it is.
# (Names the firmware has, and bytes: no qstr.)
from micropython import const

from upip import UpipError

# Errors by name (see throw)
_CONTROL = const(1)
_ABSOLUTE = const(2)
_DOTDOT = const(3)
_MEMBER_TYPE = const(9)
_BOMB = const(10)
_CORRUPT = const(11)
_TRUNCATED = const(22)
_NOT_UTF8 = const(25)

_BIG = const(33554432)  # per member


def le(b, i, n):
    # the little-endian number of n bytes at b[i:]
    return int.from_bytes(bytes(b[i:i + n]), "little")


def run(o):
    # -> the wheel's files staged, o.step "update" (or "inflate", and back)
    import os
    b = memoryview(bytearray(512))
    a = open(o.path + "/.upip-tx/a", "rb")
    z = o.zip
    f = open(o.path + "/.upip-tx/f", b"ab".decode() if z else "wb")
    try:
        if z:  # the member inflate wrote
            import upip
            n = o.path + "/.upip-tx/n" + str(z[2])
            if os.stat(n)[6] != z[3]:
                raise UpipError(_CORRUPT)
            f.write("{}\t{}\t{}\t{}\n".format(z[2], z[4], upip.run("digest", n), z[3]).encode())
            nxt = z[0]
        else:  # the end of central directory record
            end = a.seek(0, 2)
            k = min(end, 512)
            a.seek(end - k)
            a.readinto(b[:k])
            i = bytes(b[:k]).rfind(b"PK\x05\x06")
            if i < 0:
                raise UpipError(_CORRUPT)
            nxt = le(b, i + 16, 4)
        o.zip = z = None
        while True:
            a.seek(nxt)
            if a.readinto(b[:46]) != 46 or bytes(b[:4]) != b"PK\x01\x02":
                break
            method, csize, usize = le(b, 10, 2), le(b, 20, 4), le(b, 24, 4)
            k, attr, at = le(b, 28, 2), le(b, 38, 4), le(b, 42, 4)
            nxt += 46 + k + le(b, 30, 2) + le(b, 32, 2)
            name = a.read(k)
            why = 0
            for c in name:
                if c in (0, 9, 10, 13, 92):
                    why = _CONTROL
            try:
                name.decode()  # (the records are text)
            except ValueError:
                why = why or _NOT_UTF8
            parts = [p for p in name.split(b"/") if p and p != b"."]
            if why:
                pass
            elif name[:1] == b"/" or name[1:2] == b":":
                why = _ABSOLUTE
            elif b".." in parts:
                why = _DOTDOT
            elif name[-1:] == b"/" or not parts:
                continue  # a folder
            elif (attr >> 16) & 0o170000 == 0o120000:
                why = _MEMBER_TYPE  # a link
            elif usize > _BIG:
                why = _BOMB
            elif method not in (0, 8) or csize == 0xFFFFFFFF:
                why = _MEMBER_TYPE
            if why:
                raise UpipError(why, name, "")
            if parts[0][-5:] == b".data":  # NAME.data/purelib/...: the image's top
                if len(parts) < 3 or parts[1] not in (b"purelib", b"platlib"):
                    continue
                parts = parts[2:]
            rel = b"/".join(parts).decode()
            a.seek(at)
            a.readinto(b[:30])
            if bytes(b[:4]) != b"PK\x03\x04":
                raise UpipError(_CORRUPT)
            at += 30 + le(b, 26, 2) + le(b, 28, 2)
            a.seek(at)
            slot = o.count
            if not member(o, a, b, method, csize, usize, slot, f, rel):
                o.zip = (nxt, at, slot, usize, rel)
                o.count += 1
                o.step = b"inflate".decode()  # (b"": no qstr unless it runs)
                return
            o.count += 1
    finally:
        f.close()
        a.close()
    os.remove(o.path + "/.upip-tx/a")
    o.step = "update"


def member(o, a, b, method, csize, usize, slot, f, rel):
    # the member at a's position into the slot, listed in f; False when
    # the heap has no room for its window (inflate does it then)
    import binascii
    import hashlib
    h = hashlib.sha256()
    size = 0
    d = a
    if method:
        n = 5
        while n < 15 and 1 << n < usize:
            n += 1
        try:
            import deflate
            d = deflate.DeflateIO(a, deflate.RAW, n)
        except ImportError:  # firmware before 1.21 (names as bytes: no qstr)
            d = getattr(__import__(b"uzlib".decode()), b"DecompIO".decode())(a, -n)
    with open(o.path + "/.upip-tx/n" + str(slot), "wb") as w:
        left = csize
        while True:
            try:
                k = d.readinto(b if left >= 512 or method else b[:left])
            except MemoryError:
                if size:
                    raise
                return False  # (the window is made at the first read)
            except (ValueError, OSError, EOFError):
                raise UpipError(_CORRUPT)
            if not k:
                break
            size += k
            left -= k
            if size > usize:
                raise UpipError(_CORRUPT)  # more than it says
            h.update(b[:k])
            w.write(b[:k])
            if not method and not left:
                break
    if size != usize:
        raise UpipError(_CORRUPT if method else _TRUNCATED)
    f.write("{}\t{}\t{}\t{}\n".format(slot, rel, binascii.hexlify(h.digest()).decode(),
                                      size).encode())
    return True
