# upip device client: the step that picks the next package to install
# (breadth-first over dependencies, each package once), and reads
# requirements.
import upip
from upip import UpipError
from upip.core import dists, norm


def run(o):
    # The next package to install: o.name, o.target (a pin), o.range,
    # o.flags, o.state (its sources, in turn: see write), o.url (a
    # package.json spec, its @REF kept) set, and the stage's "u" (write);
    # o.step "get"; or, when none is left, o.step "check" (then store, the
    # commit). The queue is read from the top each time; the names before
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
            o.step = "get"
            write(o)  # (over HTTPS, o.step "tls" first)
            return
    # (the last package's strings go before the commit's code comes in)
    o.name = o.target = o.range = o.version = o.url = o.sha256 = o.src = o.state = None
    o.step = "check"


def write(o):
    # The URLs get tries for the package's document, in the stage's "u" (a
    # line: the kind, a tab, the URL), from o.state (bytes, a letter a
    # source): m, the mip index's VARIANT/NAME/{VERSION|latest}.json, the
    # .mpy variant first (i: its index.json first, for a range: the step
    # index then lists the one it takes); p and n, PyPI's JSON API for
    # micropython-NAME and NAME (a pin: /NAME/VER/json first, mirrors may
    # not serve it); u, a package.json; f, one file. (Bytes: no qstr.)
    # When the first is https, o.step "tls".
    import sys
    v = getattr(sys.implementation, "_mpy", 0)
    m = o.modules if o.modules is not True else "https://micropython.org/pi/v2"
    with open(o.path + "/.upip-tx/u", "wb") as f:
        if (m if o.state[0] == 109 else o.url or o.index)[:5].encode() != b"http:":
            o.step = "tls"  # (a github: spec is https)
        for t in o.state:
            if t == 109:  # m
                if o.range:
                    f.write(b"i\t" + m.encode() + b"/index.json\n")
                    continue
                for v in ([str(v & 0xff).encode()] if v else []) + [b"py"]:
                    f.write(b"m\t" + "{}/package/".format(m).encode() + v + b"/" +
                            o.name.encode() + b"/" + (o.target.encode() if o.target else
                                                      b"latest") + b".json\n")
            elif t == 112 or t == 110:  # p n
                for v in ["/" + o.target, ""] if o.target else [""]:
                    f.write(bytes((t, 9)) + "{}/{}{}{}/json\n".format(
                        o.index, "micropython-" if t == 112 else "", o.name, v).encode())
            else:  # u f
                url = upip.load("url")
                f.write(bytes((t, 9)) + url.run(*url.split(o.url)).encode() + b"\n")


def parse(line, o):
    # A queue line -> (name, pin, range, sources, url), or None when its
    # marker says it is not for MicroPython. Sources (bytes, see write): a
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
