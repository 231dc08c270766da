# upip device client: untar an sdist (inflated by deflate into the stage's
# "t") into the stage DIR/.upip-tx/n<slot>, with the host's safety rules: no
# absolute paths, no "..", no hard links or devices, links never written.
# Member names stay bytes until they are recorded (b"..." is no qstr).
# Long-name and pax headers, which few sdists have, are read by the module
# tar, loaded only when one comes (its name as bytes: no qstr).
from micropython import const

import upip
from upip import UpipError

# Errors by name (see throw): why a member is refused, or the archive
_CONTROL = const(1)
_ABSOLUTE = const(2)
_DOTDOT = const(3)
_TWICE = const(4)
_LINK_ABSOLUTE = const(5)
_LINK_OUT = const(6)
_HARD_LINK = const(7)
_DEVICE = const(8)
_MEMBER_TYPE = const(9)
_CORRUPT = const(11)
_TRUNCATED = const(22)
_NOT_UTF8 = const(25)


def fill(stream, buf):
    # the next 512-byte block
    n = 0
    while n < 512:
        k = stream.readinto(buf[n:])
        if not k:
            raise UpipError(_TRUNCATED)
        n += k


def search(o, f, path, buf):
    # Whether path (bytes) was staged before: the stage's "f" (open as f)
    # is read only when buf, a Bloom filter of the paths so far (two bits a
    # path, from its sha256: hash() has 8 bits on rp2), says maybe (path is
    # put in). core.filter's kind, not core.filter: importing core would put
    # its code on this step's heap, and a module of its own would cost
    # qstrs. (Names the firmware has: no qstr.)
    import hashlib
    d = hashlib.sha256(path).digest()
    n = len(buf) * 8
    hit = True
    for j in (0, 2):
        i = (d[j] << 8 | d[j + 1]) % n
        if not buf[i >> 3] & 1 << (i & 7):
            hit = False
            buf[i >> 3] |= 1 << (i & 7)
    if not hit:
        return False
    f.flush()
    with open(o.path + "/.upip-tx/f", "rb") as r:
        for line in r:
            if line.split(b"\t")[1] == path:
                return True
    return False


def run(o):
    # Stage every file of the tar in the stage's "t", each listed in the
    # stage's "f" (a line: slot, path, sha256, size, tab-separated; slot "-"
    # for a link skipped: a file, so the heap holds no list that grows with
    # the archive); o.count, the next free slot; o.step "update", which
    # picks the dist's files and reads its metadata.
    import binascii
    import hashlib
    import os
    b = memoryview(bytearray(512))
    slot = o.count
    longname = None
    d = open(o.path + "/.upip-tx/t", "rb")
    seen = bytearray(min(256, 8 + d.seek(0, 2) // 1024))  # (see search: a member
    d.seek(0)  # takes 512 bytes at least, so 4 bits for each one there may be)
    f = open(o.path + "/.upip-tx/f", "wb")
    try:
        while True:
            fill(d, b)
            if b[0] == 0:
                break  # end-of-archive block
            kind = b[156]
            # (fields split at their first NUL only: each piece is an object,
            # and a field's NUL padding would make dozens at once)
            size = int(bytes(b[124:136]).split(b"\0", 1)[0].strip() or b"0", 8)
            name = bytes(b[:100]).split(b"\0", 1)[0]
            if longname:
                name, longname = longname, None
            elif bytes(b[257:262]) == b"ustar" and b[345]:
                name = bytes(b[345:500]).split(b"\0", 1)[0] + b"/" + name
            blocks = (size + 511) // 512
            if kind in (76, 75, 120, 103):  # L K x g: GNU long names, pax headers
                longname = upip.run(b"tar".decode(), b, kind, d, size, fill) or longname
                continue
            parts = [p for p in name.split(b"/") if p and p != b"."]
            rel = b"/".join(parts[1:])
            # why: a reason to refuse the member, by name (throw words it:
            # the words would be on the heap while this step runs)
            why = t = 0
            for c in name:
                if c in (0, 9, 10, 13, 92):
                    why = _CONTROL
                elif c > 127 and not why:  # (the records are text: UTF-8 only)
                    try:
                        name.decode()
                    except ValueError:
                        why = _NOT_UTF8
            if why:
                pass
            elif name[:1] == b"/" or name[1:2] == b":":
                why = _ABSOLUTE
            elif b".." in parts:
                why = _DOTDOT
            elif not rel or kind == 53:  # the top folder, directories
                d.seek(blocks * 512, 1)
                continue
            elif search(o, f, rel, seen):
                why = _TWICE
            elif kind == 50:  # symbolic link: refused if it leaves, never written
                t = bytes(b[157:257]).split(b"\0", 1)[0]
                depth = len(parts) - 1
                if not t or t[:1] == b"/" or b"\\" in t:
                    why = _LINK_ABSOLUTE
                for p in t.split(b"/"):
                    if p == b"..":
                        depth -= 1
                        if depth < 0 and not why:
                            why = _LINK_OUT
                    elif p and p != b".":
                        depth += 1
                if not why:
                    f.write(b"-\t" + rel + b"\t-\t0\n")  # (listed, for the check above)
                    print("warning: skipped {} (symbolic link to {})".format(
                        rel.decode(), t.decode()))
                    continue
            elif kind == 49:
                why = _HARD_LINK
            elif kind in (51, 52, 54):
                why = _DEVICE  # a device node or FIFO
            elif kind not in (48, 55, 0):
                why = _MEMBER_TYPE
            if why:
                raise UpipError(why, name, t)
            h = hashlib.sha256()
            with open(o.path + "/.upip-tx/n" + str(slot), "wb") as w:
                left = size
                while left > 0:
                    fill(d, b)
                    k = min(512, left)
                    h.update(b[:k])
                    w.write(b[:k])
                    left -= k
            f.write(str(slot).encode() + b"\t" + rel + b"\t" + binascii.hexlify(h.digest()) +
                    b"\t" + str(size).encode() + b"\n")  # (no tab in rel: refused above)
            slot += 1
    except ValueError:  # a size field that is no number, a link's target not UTF-8
        raise UpipError(_CORRUPT)
    finally:
        f.close()
        d.close()
    os.remove(o.path + "/.upip-tx/t")
    o.count = slot
    o.step = "update"
