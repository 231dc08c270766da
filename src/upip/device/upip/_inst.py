# upip device client: the bookkeeping steps of one install run (upip.install
# drives them, and the _net and _tar steps in between). Breadth-first
# over dependencies, each package once; everything is staged in DIR/.upip-tx
# and committed together, so an error anywhere leaves DIR as it was.
import os

from upip import Opts, UpipError, drop, norm, part


def start(specs, path, index, ca, insecure, force, timeout):
    o = Opts()
    o.path = path or part("_tx").lib_path()
    o.index = (index or "https://pypi.org/pypi").rstrip("/")
    o.ca, o.insecure, o.force, o.timeout, o.warned = ca, insecure, force, timeout, False
    o.buf = memoryview(bytearray(512))  # the one buffer every step shares
    o.todo = [(s, 1) for s in specs]  # (spec, asked for by the user)
    o.seen = set()  # keys of the packages queued
    o.i = o.slot = o.ok = 0  # position in todo; next free stage slot
    part("_tx").recover(o.path)
    o.made = part("_tx").begin(o.path)  # (no local name: drop() must free the module)
    return o


def next(o):
    # The next package to install -> True (o.name, o.pin set), or False.
    o.name = None
    while o.i < len(o.todo):
        s, asked = o.todo[o.i]
        o.i += 1
        p = spec(s)
        if p is None:
            continue
        name, pin, rng = p
        key = norm(name)
        if key in o.seen:
            continue
        o.seen.add(key)
        have = part("_tx").version(o.path, key)
        drop("_tx")
        if have is not None and (pin is None or pin == have):
            if asked:
                print("{} {} is already installed".format(name, have))
            continue
        if rng:
            print("warning: {}{}: the device takes the newest release (upip on a PC "
                  "resolves ranges)".format(name, rng))
        o.name, o.pin, o.asked = name, pin, asked
        return True
    return False


def run(o):
    # After unpacking: write the dist's records, drop what is not installed,
    # queue its dependencies.
    stage = o.path + "/.upip-tx/"
    chosen = None
    if o.build:  # a standard sdist: only its packages and modules
        chosen = part("_sel").select([x[1] for x in o.files], o.top)
    with open(stage + "new", "a") as out:
        out.write("dist\t{}\t{}\t{}\t{}\t{}\n".format(o.dname, o.version, o.asked, o.sha256,
                                                       o.url))
        for r in o.deps:
            out.write("req\t{}\n".format(r))
        for n, rel, h, size in o.files:
            dest = rel if chosen is None else chosen.get(rel)
            if dest:
                out.write("file\t{}\t{}\t{}\t{}\n".format(dest, h, size, n))
            else:
                os.remove(stage + "n" + str(n))
    os.remove(stage + "a")
    o.todo += [(d, 0) for d in o.deps]
    o.files = o.deps = None


def why(o, e):
    # An error while installing o.name, as the user reads it.
    if isinstance(e, MemoryError):
        e = "out of memory"
    elif isinstance(e, OSError):
        e = part("_net").oserror(e)
    elif not isinstance(e, UpipError):
        return e
    return UpipError("{}: {}".format(o.name, e))


def commit(o):
    try:
        part("_img").commit(o.path, (), o.made, o.force, o.buf)
    except MemoryError:
        raise UpipError(o.path + ": out of memory while committing")
    except OSError as e:
        raise UpipError("{}: cannot commit: {}".format(o.path, part("_net").oserror(e)))


def end(o):
    if not o.ok:
        o.files = o.deps = None  # let go of everything before cleaning up
        part("_tx").abort(o.path, o.made)


def _marker(m):
    # The part of PEP 508 markers a device needs: == and != joined by and/or.
    import sys
    env = {"implementation_name": "micropython", "platform_python_implementation": "MicroPython",
           "python_version": "3.4", "sys_platform": sys.platform, "extra": ""}
    for alt in m.split(" or "):
        ok = True
        for c in alt.split(" and "):
            c = c.strip().strip("()")
            for op in ("==", "!="):
                i = c.find(op)
                if i > 0:
                    a, b = c[:i].strip(), c[i + 2:].strip().strip("'\"")
                    if a[:1] in "'\"":
                        a, b = b, a.strip("'\"")
                    if a in env:
                        ok = ok and ((env[a] == b) == (op == "=="))
                    break
        if ok:
            return True
    return False


def spec(s):
    # A requirement -> (name, pin, range), or None when a marker says it is
    # not for MicroPython.
    s = s.strip()
    i = s.find(";")
    if i >= 0:
        if not _marker(s[i + 1:]):
            return None
        s = s[:i].strip()
    i = 0
    while i < len(s) and (s[i:i + 1].isalpha() or s[i:i + 1].isdigit() or
                         s[i:i + 1] in "-_."):  # (s[i] would intern the character)
        i += 1
    name, rest = s[:i], s[i:].strip()
    if rest[:1] == "[":
        rest = rest[rest.find("]") + 1:].strip()
    if not name:
        raise UpipError("invalid requirement: " + s)
    if rest[:1] == "@":
        return name, rest[1:].strip(), None
    if rest[:2] == "==" and "," not in rest and "*" not in rest:
        return name, rest[2:].strip(), None
    return name, None, rest or None
