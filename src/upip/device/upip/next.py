# upip device client: the step that picks the next package to install
# (breadth-first over dependencies, each package once) and lists the URLs
# of its document; and reads requirements.
import upip
from upip import UpipError
from upip.core import dist, norm


def run(o):
    # The next package to install: o.name, o.target (a pin), o.range,
    # o.flags, o.state (its sources, in turn: see write), o.url (a
    # package.json spec, its @REF kept) set, the URLs of its document
    # listed (write), o.step "get"; or, when none is left, o.step "check"
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
            for p in dist(o.path):
                if norm(p[1]) in (key, "micropython-" + key):
                    have = p[2]
            if have is not None and (pin is None or pin == have) and (
                    not rng or upip.load("version").match(have, rng)):
                if flags:
                    print("{} {} is already installed".format(name, have))
                continue
            o.name, o.target, o.range, o.flags, o.state = name, pin, rng, flags, state
            o.url, o.version = url, None  # (get fetches the document first)
            write(o)
            return
    # (the last package's strings go before the commit's code comes in)
    o.name = o.target = o.range = o.version = o.url = o.sha256 = o.src = o.state = None
    o.step = "check"


def parse(line, o):
    # A queue line -> (name, pin, range, sources, url), or None when its
    # marker says it is not for MicroPython. Sources (bytes, see
    # write): a
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
    # is not for MicroPython (the module marker tells, loaded only then).
    # Parsed as bytes (b"..." is no qstr).
    s = s.strip().encode()
    i = s.find(b";")
    if i >= 0:
        if not upip.run(b"marker".decode(), s[i + 1:]):  # (b"": no qstr unless loaded)
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


def write(o):
    # The URLs get tries for the package's document, in the stage's "u" (a
    # line: the kind, a tab, the URL), from o.state (bytes, a letter a
    # source): m, the mip index's VARIANT/NAME/{VERSION|latest}.json, the
    # .mpy variant first (i: its index.json first, for a range: the step
    # index then lists the one it takes); p and n, PyPI's JSON API for
    # micropython-NAME and NAME (a pin: /NAME/VER/json first, mirrors may
    # not serve it); u, a package.json; f, one file. Then o.step "get".
    # (Each literal is an object on the heap while this step runs: few, and
    # "py", "latest" and the like are the firmware's qstrs.)
    import sys
    v = getattr(sys.implementation, "_mpy", 0)
    m = o.modules if o.modules is not True else "https://micropython.org/pi/v2"
    o.step = "get"
    with open(o.path + "/.upip-tx/u", "wb") as f:
        for t in o.state:
            if t == 109:  # m
                if o.range:
                    f.write("i\t{}/index.json\n".format(m).encode())
                    continue
                for v in ([str(v & 0xff)] if v else []) + ["py"]:
                    f.write("m\t{}/package/{}/{}/{}.json\n".format(
                        m, v, o.name, o.target or "latest").encode())
            elif t == 112 or t == 110:  # p n
                for v in ["/" + o.target, ""] if o.target else [""]:
                    f.write("{}\t{}/{}{}{}/json\n".format(
                        chr(t), o.index, "micropython-" if t == 112 else "", o.name, v).encode())
            else:  # u f
                url = upip.load("url")
                f.write((chr(t) + "\t" + url.run(*url.split(o.url)) + "\n").encode())
