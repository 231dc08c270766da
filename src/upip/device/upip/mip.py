# upip device client: the step after get for the mip index and package.json
# sources. A package document (the index's VERSION.json or latest.json, or
# a package.json), saved by get as the stage's "j", is read by scan: its
# files listed in the stage's "m" (a line: the URL, the destination, the
# index's short hash or nothing), each destination checked as unpack
# checks an archive's members; its dependencies in "r" (a line: the queue's spec, the
# records' requirement), queued by add. Nothing that grows with the
# files stays on the heap.
from upip import UpipError


def run(o):
    # -> o.version, and o.step "fetch" (the files); or, for one file (o.state
    # "f"), o.step "add"
    from upip.scan import run as scan
    o.step = "fetch"
    if o.state == b"f":
        return single(o)
    try:
        document(o, scan)
    except ValueError:
        raise UpipError(o.src + " is not a JSON document")


def single(o):
    # a .py or .mpy file (get saved it as "j"), at the image's top
    import os

    from upip.url import split
    n, ref = split(o.url)
    n = n.split("?")[0]
    with open(o.path + "/.upip-tx/f", "w") as f:
        f.write("{}\t{}\t{}\t{}\n".format(o.count, n[n.rfind("/") + 1:], o.sha256,
                                         os.stat(o.path + "/.upip-tx/j")[6]))
    os.rename(o.path + "/.upip-tx/j", o.path + "/.upip-tx/n" + str(o.count))
    o.count += 1
    o.version = ref or "0"
    print("Installing {} {} from {}".format(o.name, o.version, o.src))
    o.step = "add"


def check(dest):
    # dest (bytes), a file's destination: why it is refused (unpack's
    # numbers, throw words them; 24: upip's own names), 0 if it is not
    for c in dest:
        if c in (0, 9, 10, 13, 92):
            return 1
    if dest[:1] == b"/" or dest[1:2] == b":":
        return 2
    p = [q for q in dest.split(b"/") if q and q != b"."]
    if b".." in p:
        return 3
    if not p or p[0] in (b".upip-records", b".upip-tx"):
        return 24
    return 0


def document(o, scan):
    import upip.url as url
    mip = o.state == b"m"
    # the mip index (a file by its hash is fetched from it): the document's
    # (.../package/VARIANT/NAME/VERSION.json), else the one given, else
    # micropython-lib's
    idx = o.src[:o.src.rfind("/package/")] if mip else (
        o.modules if type(o.modules) is str else "https://micropython.org/pi/v2")
    base, ref = url.split(o.url or "")
    if mip or base[:4] == "http":
        base = o.src  # (github:...: mapped after the join)
    m = open(o.path + "/.upip-tx/m", "wb")
    r = open(o.path + "/.upip-tx/r", "wb")
    st = [None, None, None, False]  # the pair being read, the version, any list seen

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
                a, b = st[0], st[1]
                st[0] = st[1] = None
                if keys[0] == b"deps":
                    if a:
                        dep(r, url, a.decode(), (b or b"").decode())
                    return
                if not a or not b:
                    raise ValueError
                why = check(a) or (1 if b"\t" in b or b"\n" in b else 0)
                if why:
                    raise UpipError(why, a.decode(), "", "destination")
                a = b"/".join(q for q in a.split(b"/") if q and q != b".")
                h = b""
                if keys[0] == b"hashes":
                    h = b
                    ok = len(b) >= 4
                    for c in b:
                        if c not in b"0123456789abcdef":
                            ok = False
                    if not ok:
                        raise UpipError("{}: the hash of {} is {!r}: at least 4 hex digits of "
                                        "its sha256 are needed".format(o.src, a.decode(),
                                                                       b.decode()))
                    b = "{}/file/{}/{}".format(idx, b[:2].decode(), b.decode())
                else:
                    b = url.run(url.join(base, b.decode()), ref)
                m.write(b.encode() + b"\t" + a + b"\t" + h + b"\n")

    try:
        scan(o.path + "/.upip-tx/j", callback)
    finally:
        m.close()
        r.close()
    if not st[3]:
        raise UpipError("{}: no urls, hashes or deps: not a package.json".format(o.src))
    o.version = st[2].decode() if st[2] else (o.target if mip else ref) or "0"
    print("Installing {} {} from {}".format(o.name, o.version, idx if mip else o.src))


def dep(r, url, a, b):
    # a dependency [name_or_url, version] into the stage's "r": the
    # queue's flag (0: the bare-name rule) and spec, then the requirement
    # for the records
    if url.full(a):
        spec = a + "@" + b if b and a[:4].encode() != b"http" else a
        req = "{} @ {}".format(url.name(a), url.run(a, b or None))
    else:
        spec = req = a + "==" + b if b and b.encode() != b"latest" else a
    r.write("0\t{}\t{}\n".format(spec, req))
