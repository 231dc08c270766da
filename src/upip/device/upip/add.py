# upip device client: the step that adds a package to the stage's new
# records (after update for PyPI's, get for the mip index's and
# package.json's, get for one file, which it stages): its files (the stage's "f": slot,
# path in the image, sha256, size) and its dependencies (the stage's "r":
# the queue's flag and spec, the records' requirement), queued. The
# firmware's own modules: a dependency that only brings some again is
# skipped; a file that would hide a built-in one is warned about, and
# refused (unless --force) when upip needs that one; a folder that extends
# one gets the shim that keeps it importable (module does those, loaded
# only then). Files MicroPython never
# reads (type stubs: .pyi, py.typed) never land, nor, unless --boot-files,
# those a board runs by itself at the image's top (main.py, boot.py,
# main.mpy, boot.mpy, usetup.py), as on the host.
import os

import upip


def items(o, value=False):
    # [slot, path, sha256, size] of each file staged that lands (value
    # True: of each that does not; names the firmware has: no qstr)
    with open(o.path + "/.upip-tx/f") as f:
        for line in f:
            p = line.rstrip("\n").split("\t")
            if bool(filter(o, p[1])) == value:
                yield p


def filter(o, path):
    # whether path stays out of the image: 1 a type stub, 2 a file a board
    # runs by itself (unless o.main: --boot-files). (Bytes: no qstr.)
    b = path.encode()
    if b[-4:] == b".pyi" or b[b.rfind(b"/") + 1:] == b"py.typed":
        return 1
    return 2 if not o.main and b in (b"main.py", b"boot.py", b"main.mpy", b"boot.mpy",
                                     b"usetup.py") else 0


def run(o):
    if o.state == b"f":
        file(o)
    boot = []
    for p in items(o, True):  # (their staged copies dropped)
        os.remove(o.path + "/.upip-tx/n" + p[0])
        if filter(o, p[1]) == 2:
            boot.append(p[1])
    if boot:
        boot.sort()  # (as the host says it)
        print("note: {} {}: left out {}, which a board would run by itself at start "
              "(--boot-files installs it)".format(o.name, o.version, ", ".join(boot)))
    files = lambda: items(o)  # noqa: E731
    has = None if o.flags else upip.run("module", files, module)
    if has:  # a dependency the firmware has already: skipped
        print("{} skipped: the firmware has {}".format(o.name, has))
        for p in files():
            os.remove(o.path + "/.upip-tx/n" + p[0])
        deps = []
    else:
        deps = write(o, files)
    with open(o.path + "/.upip-tx/q", b"ab".decode()) as q:  # the dependencies, queued
        for r in deps:
            q.write(r[0].encode() + b"\t" + r[1].encode() + b"\n")
    for p in (o.path + "/.upip-tx/f", o.path + "/.upip-tx/r"):
        try:
            os.remove(p)
        except OSError:  # (one file: no dependencies)
            pass
    o.step = "next"


def file(o):
    # a .py or .mpy file (get saved it as "j"), at the image's top
    n, ref = upip.load("url").split(o.url)
    n = n.split("?")[0]
    with open(o.path + "/.upip-tx/f", "wb") as f:
        f.write("{}\t{}\t{}\t{}\n".format(o.count, n[n.rfind("/") + 1:], o.sha256,
                                         os.stat(o.path + "/.upip-tx/j")[6]).encode())
    os.rename(o.path + "/.upip-tx/j", o.path + "/.upip-tx/n" + str(o.count))
    o.count += 1
    o.version = ref or b"0".decode()  # (b"": no qstr)
    print("Installing {} {} from {}".format(o.name, o.version, o.src))


def write(o, keys):
    # the dist's records into the stage's new records -> its dependencies
    # ([flag, spec, requirement] each: few)
    try:
        with open(o.path + "/.upip-tx/r") as r:
            deps = [line.rstrip("\n").split("\t") for line in r]
    except OSError:
        deps = []
    done = []  # the built-ins whose folder got the shim
    seen = []  # the built-ins whose X.py or X/__init__ was looked at
    with open(o.path + "/.upip-tx/new", b"ab".decode()) as out:  # (a mode as bytes: no qstr)
        out.write("dist\t{}\t{}\t{}\t{}\t{}\n".format(
            o.name, o.version, o.flags, o.sha256,
            o.url if o.state in (b"p", b"n") else o.src).encode())
        for r in deps:
            out.write(b"req\t" + r[2].encode() + b"\n")
        for n, dest, h, size in keys():
            # A file that takes the place of a module built into the firmware
            # (since 1.21, os.py or os/__init__.py is imported before its own
            # os), as the old micropython-os on PyPI has, is warned about, or
            # refused when upip needs that module (module.hides). A folder
            # that only extends one (os/path.py) gets X/__init__.py, which
            # imports the built-in (a folder alone would hide it as an empty
            # namespace package). The firmware has the module if its u-name imports
            # (which never reads a file). The names: the host's
            # upip/shadow.py, less those no unix port has as qstrs.
            top, _, rest = dest.partition("/")
            init = not rest or rest in ("__init__.py", "__init__.mpy")
            if not rest:
                top = top[:-3] if top[-3:] == ".py" else top[:-4] if top[-4:] == ".mpy" else ""
            if module(top):
                if init and top not in seen:
                    seen.append(top)
                    upip.run("module", o, n, dest)
                if not init and top not in done:
                    done.append(top)
                    upip.run("module", keys, o, out, top)
            out.write("file\t{}\t{}\t{}\t{}\n".format(dest, h, size, n).encode())
    return deps


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
