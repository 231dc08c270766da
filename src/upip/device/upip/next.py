# upip device client: the step that picks the next package to install
# (breadth-first over dependencies, each package once), and reads
# requirements.
from upip import UpipError
from upip.core import dists, norm


def run(o):
    # The next package to install: o.name, o.target (a pin), o.range,
    # o.flags, o.tries (the sources, in turn: see get), o.url (a
    # package.json spec, its @REF kept) set, o.step "get"; or, when none is left, o.step
    # "check" (then store, the commit). The queue is read from the top each
    # time; the names before o.pos were taken (or found installed) already.
    # A queue line: 1 (asked for), 0 (a dependency: the bare-name rule) or
    # 2 (a PyPI package's dependency: PyPI's names only), a tab, the spec.
    seen = set()
    n = 0
    with open(o.path + "/.upip-tx/q") as f:
        for line in f:
            n += 1
            o.name = line[2:].strip()  # (what an error in it names)
            p = spec(o.name, line[:1] == "2", o.mip)
            if p is None:
                continue
            name, pin, rng, tries, url = p
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
                    not rng or match(have, rng)):
                if flags:
                    print("{} {} is already installed".format(name, have))
                continue
            o.name, o.target, o.range, o.flags, o.tries = name, pin, rng, flags, tries
            o.url, o.version = url, None  # (get fetches the document first)
            sources(o)
            o.step = "get"
            return
    # (the last package's strings go before the commit's code comes in)
    o.name = o.target = o.range = o.version = o.url = o.sha256 = o.src = o.tries = None
    o.step = "check"


def sources(o):
    # The URLs get tries for the package's document, in the stage's "u" (a
    # line: the kind, a tab, the URL): m, the mip index's VARIANT/NAME/
    # {VERSION|latest}.json, the .mpy variant first (i: its index.json
    # first, for a range: the step mip then lists the one it takes); p and
    # n, PyPI's JSON API for micropython-NAME and NAME (a pin: /NAME/VER/json
    # first, mirrors may not serve it); u, a package.json; f, one file
    import sys
    v = getattr(sys.implementation, "_mpy", 0)
    with open(o.path + "/.upip-tx/u", "wb") as f:
        for t in o.tries.encode():
            if t == 109:  # m
                if o.range:
                    f.write(b"i\t" + o.mip.encode() + b"/index.json\n")
                    continue
                for v in ([str(v & 0xff)] if v else []) + ["py"]:
                    f.write("m\t{}/package/{}/{}/{}.json\n".format(
                        o.mip, v, o.name, o.target or "latest").encode())
            elif t == 112 or t == 110:  # p n
                for v in ["/" + o.target, ""] if o.target else [""]:
                    f.write(bytes((t, 9)) + "{}/{}{}{}/json\n".format(
                        o.index, "micropython-" if t == 112 else "", o.name, v).encode())
            else:  # u f
                import upip.url as url
                f.write(bytes((t, 9)) + url.run(*url.split(o.url)).encode() + b"\n")


def match(v, rng):
    from upip.version import match
    return match(v, rng)


def spec(s, pypi, mip):
    # A spec -> (name, pin, range, sources, url), or None when its
    # marker says it is not for MicroPython. Sources: see get (a bare name:
    # the mip index, then PyPI's micropython-NAME, then NAME; a PyPI
    # package's dependency (pypi): NAME, then micropython-NAME; mip:NAME
    # and pypi:NAME one source; a micropython-NAME stays on PyPI); a
    # package.json URL or github:/gitlab:/codeberg: spec (u), or a .py or
    # .mpy file (f).
    i = s.find(":")
    if 0 < i < 9 and s[:i].encode() in (b"http", b"https", b"github", b"gitlab", b"codeberg"):
        import upip.url as url
        u, ref = url.split(s)
        url.run(u)  # (checks it names a repository)
        v = u.split("?")[0]
        one = v[-3:] == ".py" or v[-4:] == ".mpy"
        if not one and v[-5:] != ".json":
            u = u.rstrip("/") + "/package.json"
        return url.name(u), None, None, "f" if one else "u", u + ("@" + ref if ref else "")
    force = s[:i].encode() if 0 < i < 5 else b""
    if force in (b"mip", b"pypi"):
        s = s[i + 1:]
        if force == b"mip" and not mip:
            raise UpipError("the mip index is turned off (--no-mip-index)")
    p = parse(s)
    if p is None:
        return None
    mp = p[0].lower().replace("_", "-").replace(".", "-")[:12] == "micropython-"
    if force == b"mip":
        tries = "m"
    elif force or mp:
        tries = "n"
    elif pypi:
        tries = "np"
    else:
        tries = "mpn" if mip else "pn"
    return p[0], p[1], p[2], tries, None


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
