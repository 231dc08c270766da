# upip device client: the step after unpack (or zip) for a PyPI package:
# pick the dist's files out of what was staged (the stage's "f" written
# again with their paths in the image, the rest dropped), read its
# metadata: its dependencies into the stage's "r" (a line: the queue's
# flag and spec, the records' requirement), for the step add.
import os

from micropython import const

# What a staged path is (sort): the metadata read, by the slot it takes in
# run's list (0-3), or a file of the dist, or one dropped
_PKG_INFO = const(0)  # PKG-INFO, or a wheel's METADATA
_EGG_PKG_INFO = const(1)  # the .egg-info's PKG-INFO
_REQUIRES = const(2)  # the .egg-info's requires.txt
_TOP_LEVEL = const(3)  # the .egg-info's top_level.txt
_FILE = const(-1)  # a file of the dist
_DROPPED = const(-2)  # setup files, READMEs, other metadata, caches
_BUILD = const(-3)  # setup.py, pyproject.toml or setup.cfg: a standard sdist (dropped too)


def read(o, index, buf, mode):
    # The lines of the metadata file staged in slot index (then removed),
    # None if index is None: Requires-Dist headers (mode 1, until the blank line
    # that ends them), or the lines before any [section] (mode 0:
    # requires.txt, top_level.txt).
    if index is None:
        return None
    name = "/.upip-tx/n" + str(index)
    stream = open(o.path + name, "rb")
    data = []
    line = b""
    done = False
    length = stream.seek(0, 2)
    stream.seek(0)
    while length > 0:
        k = min(512, length)
        if stream.readinto(buf[:k]) != k:
            raise OSError(5)
        length -= 512
        if done:
            continue
        parts = (line + bytes(buf[:k])).split(b"\n")
        line = parts.pop()[:1024]
        if length <= 0:
            parts.append(line)  # the last line, without a newline
        for raw in parts:
            t = raw.strip()
            if mode:
                if not raw.rstrip(b"\r"):
                    done = True  # folded lines are never empty
                    break
                if t[:14].lower() == b"requires-dist:":
                    data.append(t[14:].strip().decode())
            elif t[:1] == b"[":
                done = True
                break
            elif t and t[:1] != b"#":
                data.append(t.decode())
    stream.close()
    os.remove(o.path + name)
    return data


def items(o):
    # the files unpack staged, from the stage's "f": [slot, path, sha256,
    # size] each (names of the firmware's own: no qstr)
    with open(o.path + "/.upip-tx/f") as f:
        for line in f:
            if line[:1] != "-":  # (a link unpack skipped)
                yield line.rstrip("\n").split("\t")


def sort(path):
    # a staged path -> what it is (_PKG_INFO ... _BUILD above)
    rel = path.encode()  # (bytes: a b"..." literal is no qstr; path: no new qstr)
    low = rel.lower()
    if low == b"pkg-info" or (low[-19:] == b".dist-info/metadata" and low.count(b"/") == 1):
        return _PKG_INFO
    if b".dist-info/" in low:
        return _DROPPED
    if low[-19:] == b".egg-info/pkg-info":
        return _EGG_PKG_INFO
    if low[-22:] == b".egg-info/requires.txt":
        return _REQUIRES
    if low[-23:] == b".egg-info/top_level.txt":
        return _TOP_LEVEL
    if rel in (b"setup.py", b"pyproject.toml", b"setup.cfg"):
        return _BUILD
    if (rel[:6] == b"setup." or rel[:6] == b"README" or b".egg-info" in rel or
            b"__pycache__" in rel or rel[-4:] == b".pyc"):
        return _DROPPED
    return _FILE


def run(o):
    # Dependencies: Requires-Dist in PKG-INFO (a wheel's METADATA), else
    # requires.txt. A standard sdist (setup.py, pyproject.toml or
    # setup.cfg) installs only its packages and modules (top_level.txt,
    # else found by select); upip's own sdists and wheels, all their files.
    # The list is read again for each pass: nothing on the heap grows with
    # the number of files.
    b = memoryview(bytearray(512))
    meta = [None, None, None, None]  # the stage's slots of the metadata (by sort)
    build = False
    for n, rel, h, size in items(o):
        k = sort(rel)
        if k >= _PKG_INFO:
            meta[k] = n
        elif k == _BUILD:
            build = True
    # (PKG-INFOs are read for their Requires-Dist headers, the .txt files
    # line by line)
    h, e, r, top = [read(o, meta[k], b, k <= _EGG_PKG_INFO) for k in range(4)]
    b = None  # (not on the heap through select and the records)
    select = None
    if build:  # (loaded by name: "upip.select" is a qstr only then)
        import upip
        select = upip.load("select")
        root, want = select.run(lambda: (p[1] for p in items(o) if sort(p[1]) == _FILE),
                                top or [])
    with open(o.path + "/.upip-tx/r", "wb") as out:  # (dependencies of PyPI's: flag 2)
        for r in h or e or r or []:
            out.write(b"2\t" + r.encode() + b"\t" + r.encode() + b"\n")
    with open(o.path + "/.upip-tx/g", "wb") as out:
        for n, rel, h, size in items(o):
            k = sort(rel)
            if k >= _PKG_INFO:
                continue  # (read, and removed)
            dest = select.get(root, want, rel) if select else rel
            if k != _FILE or not dest:
                os.remove(o.path + "/.upip-tx/n" + n)
                continue
            out.write("{}\t{}\t{}\t{}\n".format(n, dest, h, size).encode())
    os.rename(o.path + "/.upip-tx/g", o.path + "/.upip-tx/f")
    o.step = "add"
