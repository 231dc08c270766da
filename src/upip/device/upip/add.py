# upip device client: the step that adds a package to the stage's new
# records (after update for PyPI's, fetch for the mip index's and
# package.json's, mip for one file): its files (the stage's "f": slot,
# path in the image, sha256, size) and its dependencies (the stage's "r":
# the queue's flag and spec, the records' requirement), queued. The
# firmware's own modules: a dependency that only brings some again is
# skipped; a file that would hide a built-in one is refused (unless
# --force); a folder that extends one gets the shim that keeps it
# importable (module does those, loaded only then).
import os

import upip
from upip import UpipError


def items(o):
    # [slot, path, sha256, size] of each file staged (names the firmware
    # has: no qstr)
    with open(o.path + "/.upip-tx/f") as f:
        for line in f:
            yield line.rstrip("\n").split("\t")


def run(o):
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


def write(o, keys):
    # the dist's records into the stage's new records -> its dependencies
    # ([flag, spec, requirement] each: few)
    try:
        with open(o.path + "/.upip-tx/r") as r:
            deps = [line.rstrip("\n").split("\t") for line in r]
    except OSError:
        deps = []
    done = []  # the built-ins whose folder got the shim
    with open(o.path + "/.upip-tx/new", b"ab".decode()) as out:  # (a mode as bytes: no qstr)
        out.write("dist\t{}\t{}\t{}\t{}\t{}\n".format(
            o.name, o.version, o.flags, o.sha256,
            o.url if o.state in (b"p", b"n") else o.src).encode())
        for r in deps:
            out.write(b"req\t" + r[2].encode() + b"\n")
        for n, dest, h, size in keys():
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
