# upip device client: the step after get for the mip index and package.json
# sources. A package document (the index's VERSION.json or latest.json, or
# a package.json), saved by get as the stage's "j", is read by scan: its
# files listed in the stage's "m" (a line: the URL, the destination, the
# index's short hash or nothing), each destination checked as unpack
# checks an archive's members; its dependencies in "r" (a line: the
# queue's flag and spec, the records' requirement), queued by add. Nothing
# that grows with the files stays on the heap. (A single .py file, get
# hands to add.)
from micropython import const

from upip import UpipError

# Errors by name (see throw): why a destination is refused
_CONTROL = const(1)
_ABSOLUTE = const(2)
_DOTDOT = const(3)
_RESERVED = const(24)
# and the document's
_NOT_JSON = const(29)
_SHORT_HASH = const(31)
_NOT_PACKAGE = const(32)


def run(o):
    # -> o.version, and o.step "get" (the files)
    from upip.scan import run as scan
    o.step = "get"
    try:
        parse(o, scan)
    except ValueError:
        raise UpipError(_NOT_JSON, o.src)


def check(dest):
    # dest (bytes), a file's destination: why it is refused (unpack's
    # reasons, and upip's own names), 0 if it is not
    for c in dest:
        if c in (0, 9, 10, 13, 92):
            return _CONTROL
    if dest[:1] == b"/" or dest[1:2] == b":":
        return _ABSOLUTE
    p = [q for q in dest.split(b"/") if q and q != b"."]
    if b".." in p:
        return _DOTDOT
    if not p or p[0] in (b".upip-records", b".upip-tx"):
        return _RESERVED
    return 0


def parse(o, scan):
    # The document's files and dependencies into the stage's "m" and "r".
    # The module url (github: and relative URLs) is loaded only when a URL
    # comes (a package.json's, or a URL among the urls or deps): a mip
    # index's files are named by hash, its dependencies by name.
    import upip
    mip = o.state == b"m"
    # the mip index (a file by its hash is fetched from it): the document's
    # (.../package/VARIANT/NAME/VERSION.json), else the one given, else
    # micropython-lib's
    idx = o.src[:o.src.encode().rfind(b"/package/")] if mip else (
        o.modules if type(o.modules) is str else "https://micropython.org/pi/v2")
    url = None if mip else upip.load("url")
    base, ref = url.split(o.url) if url else (o.src, None)
    if base[:4].encode() == b"http":
        base = o.src  # (github:...: mapped after the join)
    m = open(o.path + "/.upip-tx/m", "wb")
    r = open(o.path + "/.upip-tx/r", "wb")
    # the pair being read, the version, any list seen, the module url
    st = [None, None, None, False, url]

    def callback(keys, v):
        d = len(keys)
        if d == 1 and keys[0] == b"version" and type(v) is bytes:
            st[2] = v
        elif d and keys[0] in (b"hashes", b"urls", b"deps"):
            if d == 1 and v is None:
                st[3] = True
            elif d == 3 and type(v) is bytes and keys[2] in (0, 1):
                st[keys[2]] = v
            elif d == 2 and v is None:  # a pair's end
                name, value = st[0], st[1]
                st[0] = st[1] = None
                if keys[0] == b"deps":  # [name_or_url, version] into "r": the queue's
                    # flag (0: the bare-name rule) and spec, the records' requirement
                    if name:
                        name, value = name.decode(), (value or b"").decode()
                        if b":" in name.encode():  # a URL (a name has no ":")
                            url = st[4] = st[4] or upip.load("url")
                            spec = name + "@" + value if value and name[:4].encode() != (
                                b"http") else name
                            req = url.name(name) + b" @ ".decode() + url.run(name,
                                                                              value or None)
                        else:
                            spec = req = name + b"==".decode() + value if value and (
                                value.encode() != b"latest") else name
                        r.write(b"0\t" + spec.encode() + b"\t" + req.encode() + b"\n")
                    return
                if not name or not value:
                    raise ValueError
                why = check(name) or (_CONTROL if b"\t" in value or b"\n" in value else 0)
                if why:
                    raise UpipError(why, name, "", "destination")
                name = b"/".join(q for q in name.split(b"/") if q and q != b".")
                h = b""
                if keys[0] == b"hashes":
                    h = value
                    ok = len(value) >= 4
                    for c in value:
                        if c not in b"0123456789abcdef":
                            ok = False
                    if not ok:
                        raise UpipError(_SHORT_HASH, o.src, name, value)
                    value = "{}/file/{}/{}".format(idx, value[:2].decode(), value.decode())
                else:
                    url = st[4] = st[4] or upip.load("url")
                    value = url.run(url.join(base, value.decode()), ref)
                m.write(value.encode() + b"\t" + name + b"\t" + h + b"\n")

    try:
        scan(o.path + "/.upip-tx/j", callback)
    finally:
        m.close()
        r.close()
    if not st[3]:
        raise UpipError(_NOT_PACKAGE, o.src)
    o.version = st[2].decode() if st[2] else (o.target if mip else ref) or b"0".decode()
    print("Installing {} {} from {}".format(o.name, o.version, idx if mip else o.src))
