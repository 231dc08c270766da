# upip device client: the step after unpack (or zip, or get for the mip
# index and package.json): pick the dist's files out of what was staged,
# read its metadata, write its records into the stage, drop the rest,
# queue its dependencies. The firmware's own modules: a dependency that
# only brings some again is skipped; a file that would hide a built-in one
# refused (unless --force); a folder that extends one gets the shim that
# keeps it importable.
import os

import upip
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
    # a staged path -> 0-3: the metadata read (PKG-INFO or a wheel's
    # METADATA, the .egg-info's PKG-INFO, requires.txt, top_level.txt), -1 a
    # file of the dist, -2 dropped (setup files, READMEs, other metadata,
    # caches), -3 setup.py, pyproject.toml or setup.cfg (dropped too: a
    # standard sdist)
    rel = path.encode()  # (bytes: a b"..." literal is no qstr; path: no new qstr)
    low = rel.lower()
    if low == b"pkg-info" or (low[-19:] == b".dist-info/metadata" and low.count(b"/") == 1):
        return 0
    if b".dist-info/" in low:
        return -2
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
    # Dependencies: Requires-Dist in PKG-INFO (a wheel's METADATA), else
    # requires.txt; from the mip index or a package.json, the stage's "r"
    # (the step mip wrote it). A standard sdist (setup.py, pyproject.toml
    # or setup.cfg) installs only its packages and modules (top_level.txt,
    # else found by select); upip's own sdists, wheels and the other
    # sources, all their files. The list is read again for each pass:
    # nothing on the heap grows with the number of files.
    pypi = o.state in (b"p", b"n")
    deps = []
    select = None
    if pypi:
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
        if build:
            import upip.select as select
            root, want = select.run(lambda: (p[1] for p in items(o) if sort(p[1]) == -1),
                                    top or [])

    if not select:
        root = want = None
    files = lambda: values(o, (pypi, select, root, want))  # noqa: E731
    if not o.flags:  # a dependency the firmware has already: skipped
        has = upip.run("module", files, module)
        if has:
            print("{} skipped: the firmware has {}".format(o.name, has))
            for n, dest, h, size in files():
                os.remove(o.path + "/.upip-tx/n" + n)
            os.remove(o.path + "/.upip-tx/f")
            o.step = "next"
            return
    ab = b"ab".decode()  # (a mode as bytes: no qstr)
    if not pypi:  # [spec, requirement] each
        try:
            with open(o.path + "/.upip-tx/r") as r:
                deps = [line.rstrip("\n").split("\t") for line in r]
            os.remove(o.path + "/.upip-tx/r")
        except OSError:  # (one file: no dependencies)
            pass
    done = []  # the built-ins whose folder got the shim
    with open(o.path + "/.upip-tx/new", ab) as out:
        out.write("dist\t{}\t{}\t{}\t{}\t{}\n".format(o.name, o.version, o.flags, o.sha256,
                                                       o.url if pypi else o.src).encode())
        for r in deps:
            out.write(b"req\t" + (r if pypi else r[1]).encode() + b"\n")
        for n, dest, h, size in files():
            if not dest:
                os.remove(o.path + "/.upip-tx/n" + n)
                continue
            # Refuse a file that would take the place of a module built into
            # the firmware (since 1.21, os.py or os/__init__.py is imported
            # before its own os), as the old micropython-os on PyPI has: upip
            # imports os too, and would not run again. A folder that only
            # extends one (os/path.py) gets X/__init__.py, which imports the
            # built-in (a folder alone would hide it as an empty namespace
            # package). The firmware has the module if its u-name imports
            # (which never reads a file). The names: the host's
            # upip/shadow.py, less those no unix port has as qstrs.
            top, _, rest = dest.partition("/")
            init = not rest or rest in ("__init__.py", "__init__.mpy")
            if not rest:
                top = top[:-3] if top[-3:] == ".py" else top[:-4] if top[-4:] == ".mpy" else ""
            if module(top):
                if init and not o.force:
                    raise UpipError("{} would hide the firmware's {} module; --force "
                                    "installs it anyway".format(dest, top))
                if not init and top not in done:
                    done.append(top)
                    upip.run("module", files, o, out, top)
            out.write("file\t{}\t{}\t{}\t{}\n".format(dest, h, size, n).encode())
    with open(o.path + "/.upip-tx/q", ab) as q:  # the dependencies, queued
        for r in deps:
            q.write((b"2\t" if pypi else b"0\t") + (r if pypi else r[0]).encode() + b"\n")
    os.remove(o.path + "/.upip-tx/f")
    o.step = "next"


def values(o, args):
    # (slot, the image path or None when dropped, sha256, size) of each
    # file staged; args: (from PyPI, select or None, root, want) (names
    # the firmware has: no qstr)
    pypi, select, root, want = args
    for n, rel, h, size in items(o):
        k = sort(rel) if pypi else -1
        if k >= 0:
            continue  # (read, and removed)
        dest = select.get(root, want, rel) if select else rel
        yield n, dest if k == -1 else None, h, size


def module(name):
    # whether name is an extensible module the firmware has built in (one a
    # file or folder of the same name hides)
    if name not in (
            "array", "binascii", "collections", "cryptolib", "errno", "hashlib",
            "heapq", "io", "json", "machine", "os", "platform", "random", "re",
            "select", "socket", "ssl", "struct", "time", "websocket"):
        return False
    try:
        __import__((b"u" + name.encode()).decode())  # (b"": no qstr)
    except ImportError:
        return False  # the firmware has none: nothing is hidden
    return True
