# upip device client: the step that picks the next package to install
# (breadth-first over dependencies, each package once), and reads
# requirements.
import upip
from upip import UpipError
from upip.core import dists, norm


def run(o):
    # The next package to install: o.name, o.target (a pin), o.range,
    # o.flags, o.state (its sources, in turn: see start.write), o.url (a
    # package.json spec, its @REF kept) set; o.step "start", which lists
    # the URLs of its document; or, when none is left, o.step "check"
    # (then store, the commit). The queue is read from the top each time; the names before
    # o.pos were taken (or found installed) already. A queue line: 1
    # (asked for), 0 (a dependency: the bare-name rule) or 2 (a PyPI
    # package's dependency: PyPI's names only), a tab, the spec.
    seen = set()
    n = 0
    with open(o.path + "/.upip-tx/q") as f:
        for line in f:
            n += 1
            o.name = line[2:].strip()  # (what an error in it names)
            p = parse(line, o)
            if p is None:
                continue
            name, pin, rng, state, url = p
            key = norm(name)
            if key in seen:
                continue
            seen.add(key)
            if n <= o.pos:
                continue
            o.pos = n
            flags = int(line[:1]) & 1
            have = None
            for p in dists(o.path):
                if norm(p[1]) in (key, "micropython-" + key):
                    have = p[2]
            if have is not None and (pin is None or pin == have) and (
                    not rng or upip.load("version").match(have, rng)):
                if flags:
                    print("{} {} is already installed".format(name, have))
                continue
            o.name, o.target, o.range, o.flags, o.state = name, pin, rng, flags, state
            o.url, o.version = url, None  # (get fetches the document first)
            o.step = "start"
            return
    # (the last package's strings go before the commit's code comes in)
    o.name = o.target = o.range = o.version = o.url = o.sha256 = o.src = o.state = None
    o.step = "check"


def parse(line, o):
    # A queue line -> (name, pin, range, sources, url), or None when its
    # marker says it is not for MicroPython. Sources (bytes, see
    # start.write): a
    # bare name, the mip index, then PyPI's micropython-NAME, then NAME; a
    # PyPI package's dependency (a 2 first), NAME, then micropython-NAME;
    # mip:NAME and pypi:NAME, one source; a micropython-NAME stays on PyPI;
    # a package.json URL or github:/gitlab:/codeberg: spec, u, or a .py or
    # .mpy file, f.
    s = line[2:].strip()
    i = s.encode().find(b":")
    scheme = s[:i].encode() if i > 0 else b""
    if scheme in (b"http", b"https", b"github", b"gitlab", b"codeberg"):
        return upip.load("url").parse(s)
    if scheme in (b"mip", b"pypi"):
        s = s[i + 1:]
        if scheme == b"mip" and not o.modules:
            raise UpipError("the mip index is turned off (--no-mip-index)")
    p = split(s)
    if p is None:
        return None
    mp = p[0].lower().replace("_", "-").replace(".", "-")[:12] == "micropython-"
    if scheme == b"mip":
        state = b"m"
    elif scheme or mp:
        state = b"n"
    elif int(line[:1]) == 2:
        state = b"np"
    else:
        state = b"mpn" if o.modules else b"pn"
    return p[0], p[1], p[2], state, None


def split(s):
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
