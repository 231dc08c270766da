# upip device client: the step after unpack: pick the dist's files out of
# what unpack staged, read its metadata, write its records into the stage,
# drop the rest, queue its dependencies.
import os

from upip import UpipError


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
    # a staged path -> 0-3: the metadata read (PKG-INFO, the .egg-info's
    # PKG-INFO, requires.txt, top_level.txt), -1 a file of the dist, -2
    # dropped (setup files, READMEs, other metadata, caches), -3 setup.py,
    # pyproject.toml or setup.cfg (dropped too: a standard sdist)
    rel = path.encode()  # (bytes: a b"..." literal is no qstr; path: no new qstr)
    low = rel.lower()
    if low == b"pkg-info":
        return 0
    if low[-19:] == b".egg-info/pkg-info":
        return 1
    if low[-22:] == b".egg-info/requires.txt":
        return 2
    if low[-23:] == b".egg-info/top_level.txt":
        return 3
    if rel in (b"setup.py", b"pyproject.toml", b"setup.cfg"):
        return -3
    if (rel[:6] == b"setup." or rel[:6] == b"README" or b".egg-info" in rel or
            b"__pycache__" in rel or rel[-4:] == b".pyc"):
        return -2
    return -1


def run(o):
    # Dependencies: Requires-Dist in PKG-INFO, else requires.txt. A standard
    # sdist (setup.py, pyproject.toml or setup.cfg) installs only its
    # packages and modules (top_level.txt, else found by select); upip's
    # own sdists, all their files. The list is read again for each pass:
    # nothing on the heap grows with the number of files.
    b = memoryview(bytearray(512))
    meta = [None, None, None, None]  # the slots of the metadata (see sort)
    build = False
    for n, rel, h, size in items(o):
        k = sort(rel)
        if k >= 0:
            meta[k] = n
        elif k == -3:
            build = True
    h, e, r, top = [read(o, meta[k], b, k < 2) for k in range(4)]
    b = None  # (not on the heap through select and the records)
    deps = h or e or r or []
    select = None
    if build:
        import upip.select as select
        root, want = select.run(lambda: (p[1] for p in items(o) if sort(p[1]) == -1),
                                top or [])
    ab = b"ab".decode()  # (a mode as bytes: no qstr)
    with open(o.path + "/.upip-tx/new", ab) as out:
        out.write("dist\t{}\t{}\t{}\t{}\t{}\n".format(o.name, o.version, o.flags, o.sha256,
                                                       o.url).encode())
        for r in deps:
            out.write(b"req\t" + r.encode() + b"\n")
        for n, rel, h, size in items(o):
            k = sort(rel)
            if k >= 0:
                continue  # (read, and removed)
            dest = select.get(root, want, rel) if select else rel
            if k != -1 or not dest:
                os.remove(o.path + "/.upip-tx/n" + n)
                continue
            # Refuse a file that would take the place of a module built into
            # the firmware (since 1.21, os.py or os/ is imported before its
            # own os), as the old micropython-os on PyPI has: upip imports os
            # too, and would not run again. The firmware has the module if
            # its u-name imports (which never reads a file). The names: the
            # host's upip/shadow.py, less those no unix port has as qstrs.
            top, _, rest = dest.partition("/")
            if not rest:
                top = top[:-3] if top[-3:] == ".py" else top[:-4] if top[-4:] == ".mpy" else ""
            if not o.force and top in (
                    "array", "binascii", "collections", "cryptolib", "errno", "hashlib",
                    "heapq", "io", "json", "machine", "os", "platform", "random", "re",
                    "select", "socket", "ssl", "struct", "time", "websocket"):
                try:
                    __import__((b"u" + top.encode()).decode())  # (b"": no qstr)
                except ImportError:
                    top = ""  # the firmware has none: nothing is hidden
                if top:
                    raise UpipError("{} would hide the firmware's {} module; --force "
                                    "installs it anyway".format(dest, top))
            out.write("file\t{}\t{}\t{}\t{}\n".format(dest, h, size, n).encode())
    with open(o.path + "/.upip-tx/q", ab) as q:  # the dependencies, queued
        for r in deps:
            q.write(b"0\t" + r.encode() + b"\n")
    os.remove(o.path + "/.upip-tx/f")
    o.step = "next"
