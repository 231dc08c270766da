# upip device client: the bookkeeping steps of one install run (upip.install
# drives them, and the get, json, deflate and unpack steps in between).
# Breadth-first over dependencies, each package once; everything is staged
# in DIR/.upip-tx and committed together, so an error anywhere leaves DIR as
# it was.
import os

from upip import Opts, UpipError, load, norm


def start(args, path, index, ca, insecure, force, timeout):
    # -> o, the state of the run. Besides the arguments: o.buf, the one
    # buffer every step shares; o.args, (requirement, 1 if the user asked
    # for it) to install, o.pos the next one; o.keys, the names queued;
    # o.count, the next free slot in the stage; o.mkdir, the folders made
    # for DIR; o.done once committed. Each package then sets o.name,
    # o.target (its pin), o.flags (1 if asked for), o.urls (its JSON),
    # o.src (the URL that answered), o.code (its HTTP status), o.version,
    # o.url, o.sha256 (the sdist), o.data (the
    # files staged), o.deps and o.modules (a standard sdist's top-level
    # names; None for upip's own sdists).
    o = Opts()
    o.index = (index or "https://pypi.org/pypi").rstrip("/")
    o.ca, o.insecure, o.force, o.timeout = ca, insecure, force, timeout
    o.buf = memoryview(bytearray(512))
    o.args = [(s, 1) for s in args]
    o.keys = set()
    o.pos = o.count = o.done = 0
    o.name = o.target = o.flags = o.urls = o.src = o.code = o.version = o.url = None
    o.sha256 = o.data = o.deps = o.modules = None  # (the dict, sized once)
    o.path = path
    return o


def next(o):
    # The next package to install -> True (o.name, o.target, o.urls set),
    # or False.
    while o.pos < len(o.args):
        s, flags = o.args[o.pos]
        o.pos += 1
        p = spec(s)
        if p is None:
            continue
        name, pin, rng = p
        key = norm(name)
        if key in o.keys:
            continue
        o.keys.add(key)
        have = None
        try:  # (a scan of its own: loading _tx here needs 3 KB more heap, measured)
            with open(o.path + "/.upip-records") as f:
                for line in f:
                    p = line.split("\t")
                    if p[0] == "dist" and norm(p[1]) in (key, "micropython-" + key):
                        have = p[2]
        except OSError:
            pass
        if have is not None and (pin is None or pin == have):
            if flags:
                print("{} {} is already installed".format(name, have))
            continue
        if rng:
            print("warning: {}{}: the device takes the newest release (upip on a PC "
                  "resolves ranges)".format(name, rng))
        o.name, o.target, o.flags, o.urls = name, pin, flags, []
        for n in [name] if key[:12] == "micropython-" else [name, "micropython-" + name]:
            if pin:
                o.urls.append("{}/{}{}/json".format(o.index, n, "/" + pin))
            o.urls.append("{}/{}{}/json".format(o.index, n, ""))
        return True
    return False


def run(o):
    # After unpacking: write the dist's records, drop what is not installed,
    # queue its dependencies.
    chosen = None
    if o.modules is not None:  # a standard sdist: only its packages and modules
        chosen = load("select").run([x[1] for x in o.data], o.modules)
    with open(o.path + "/.upip-tx/new", "ab") as out:
        out.write("dist\t{}\t{}\t{}\t{}\t{}\n".format(o.name, o.version, o.flags, o.sha256,
                                                       o.url).encode())
        for r in o.deps:
            out.write(b"req\t" + r.encode() + b"\n")
        for n, rel, h, size in o.data:
            dest = rel if chosen is None else chosen.get(rel)
            if dest:
                out.write("file\t{}\t{}\t{}\t{}\n".format(dest, h, size, n).encode())
            else:
                os.remove(o.path + "/.upip-tx/n" + str(n))
    o.args += [(d, 0) for d in o.deps]
    o.data = o.deps = None


def spec(s):
    # A requirement -> (name, pin, range), or None when its marker says it
    # is not for MicroPython. Markers: == and != joined by and/or. Parsed
    # as bytes (b"..." is no qstr).
    import sys
    s = s.strip().encode()
    i = s.find(b";")
    if i >= 0:
        env = {b"implementation_name": b"micropython",
               b"platform_python_implementation": b"MicroPython",
               b"python_version": b"3.4", b"sys_platform": sys.platform.encode(),
               b"extra": b""}
        ok = False
        for alt in s[i + 1:].split(b" or "):
            good = True
            for c in alt.split(b" and "):
                c = c.strip().strip(b"()")
                for op in (b"==", b"!="):
                    j = c.find(op)
                    if j > 0:
                        a, b = c[:j].strip(), c[j + 2:].strip().strip(b"'\"")
                        if a[:1] in b"'\"":
                            a, b = b, a.strip(b"'\"")
                        if a in env:
                            good = good and ((env[a] == b) == (op == b"=="))
                        break
            ok = ok or good
        if not ok:
            return None
        s = s[:i].strip()
    i = 0
    while i < len(s) and (s[i] in b"-_." or 48 <= s[i] <= 57 or 97 <= s[i] | 32 <= 122):
        i += 1
    name, rest = s[:i].decode(), s[i:].strip().decode()
    if rest[:1] == "[":
        rest = rest[rest.find("]") + 1:].strip()
    if not name:
        raise UpipError("invalid requirement: " + s.decode())
    if rest[:1] == "@":
        return name, rest[1:].strip(), None
    if rest[:2] == "==" and "," not in rest and "*" not in rest:
        return name, rest[2:].strip(), None
    return name, None, rest or None
