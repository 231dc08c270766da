# upip device client: the step that picks the next package to install
# (breadth-first over dependencies, each package once), and reads
# requirements.
from upip import UpipError
from upip.core import dists, norm


def run(o):
    # The next package to install: o.name, o.target, o.flags set, o.step
    # "get"; or, when none is left, o.step "check" (then store, the commit).
    # The queue is read from the top each time; the names before o.pos
    # were taken (or found installed) already.
    seen = set()
    n = 0
    with open(o.path + "/.upip-tx/q") as f:
        for line in f:
            n += 1
            p = parse(line[2:])
            if p is None:
                continue
            name, pin, rng = p
            key = norm(name)
            if key in seen:
                continue
            seen.add(key)
            if n <= o.pos:
                continue
            o.pos = n
            flags = int(line[:1])
            have = None
            for p in dists(o.path):
                if norm(p[1]) in (key, "micropython-" + key):
                    have = p[2]
            if have is not None and (pin is None or pin == have):
                if flags:
                    print("{} {} is already installed".format(name, have))
                continue
            if rng:
                print("warning: {}{}: the device takes the newest release (upip on a PC "
                      "resolves ranges)".format(name, rng))
            o.name, o.target, o.flags = name, pin, flags
            o.version = None  # (get fetches the JSON first)
            o.step = "get"
            return
    # (the last package's strings go before the commit's code comes in)
    o.name = o.target = o.version = o.url = o.sha256 = None  # (json dropped o.src)
    o.step = "check"


def parse(s):
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
    name, rest = s[:i].decode(), s[i:].strip()
    if rest[:1] == b"[":
        rest = rest[rest.find(b"]") + 1:].strip()
    if not name:
        raise UpipError("invalid requirement: " + s.decode())
    if rest[:1] == b"@":
        return name, rest[1:].strip().decode(), None
    if rest[:2] == b"==" and b"," not in rest and b"*" not in rest:
        return name, rest[2:].strip().decode(), None
    return name, None, rest.decode() or None
