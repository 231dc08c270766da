# upip device client: find the release in PyPI's JSON API, saved by get in
# the stage, and read back here in 512-byte pieces: the state is a few short
# strings whatever the number of releases or the length of the description
# (strings nobody asked for are skipped, not kept). Keys stay bytes: a
# b"..." literal is no qstr.
from micropython import const

from upip import UpipError

# Errors by name (see throw)
_NOT_PYPI = const(30)
_NO_RELEASE = const(33)
_NO_SDIST = const(34)


def run(o):
    # -> o.name (as the index spells it), o.version, o.url, o.sha256 (o.step
    # "get", for the archive) for o.name (o.target: a pin; o.range: a
    # range), from the JSON get saved (o.src: where from). Without either,
    # the release in "urls" (the latest); with a pin, the one in
    # "releases"[pin] (in /NAME/VER/json, in "urls"). Of a release's files,
    # the sdist, else a py3-none-any wheel (see DESIGN.md); a yanked file
    # only when pinned. A relative file URL is resolved against o.src. With
    # a range, every release's file is listed in the stage's "c" instead (a
    # line: version, yanked, wheel, URL, sha256), for the step range, which
    # chooses (the version module is not on this step's heap).
    n = ("micropython-" if o.state == b"p" else "") + o.name
    u = o.src.rstrip("/")[:-5]  # (.../NAME[/VER]/json)
    pin = o.target and u[-len(o.target) - 1:] == "/" + o.target
    rng = o.range if not o.target else None
    want = o.target.encode() if o.target and not pin else None  # in "releases"
    cands = open(o.path + "/.upip-tx/c", "wb") if rng else None
    st = []  # open containers: 123 "{" or 91 "["
    keys = []  # the key at each level (None in arrays)
    name = version = best = f = None  # f: the file object being read
    fdepth = -1
    s = None  # the string being read: bytearray, or False when skipped
    esc = key_next = False
    lit = None  # first byte of a literal (number, true, false, null)
    num = 0  # its value, if it is a number of digits (a file's size)
    found = want is None
    seen = False  # the document's "{"
    buf = memoryview(bytearray(512))
    k = i = 0
    with open(o.path + "/.upip-tx/j", "rb") as src:
        try:
            while True:
                if i >= k:
                    k = src.readinto(buf)
                    i = 0
                    if not k:
                        break
                c = buf[i]
                i += 1
                if s is not None:
                    if esc:
                        esc = False
                        if s is not False and len(s) < 400:
                            s.append({110: 10, 116: 9, 114: 13}.get(c, c))
                    elif c == 92:  # backslash
                        esc = True
                    elif c == 34:  # end of the string
                        v = None if s is False else bytes(s)
                        s = None
                        d = len(keys)
                        if key_next:
                            keys[-1] = v
                            key_next = False
                        elif d == 2 and keys[0] == b"info":
                            if keys[1] == b"name":
                                name = v.decode()
                            elif keys[1] == b"version" and want is None and not rng:
                                version = v.decode()
                        elif f is not None and v is not None:
                            f[keys[-1]] = v
                            if want is not None:
                                found, version = True, o.target
                    elif s is not False and len(s) < 400:
                        s.append(c)
                    continue
                if lit is not None:
                    if c not in b" \t\r\n,}]":
                        num = num * 10 + c - 48 if 48 <= c <= 57 else -1
                        continue
                    if f is not None and keys[-1] == b"yanked":
                        f[b"yanked"] = lit == 116  # t(rue)
                    if f is not None and keys[-1] == b"size" and num > 0:
                        f[b"size"] = num
                    lit = None
                if c == 34:  # a string starts: kept if it is a key or a wanted field
                    d = len(keys)
                    last = keys[-1] if keys else None
                    ok = key_next or (d == 2 and keys[0] == b"info" and last in (
                        b"name", b"version"))
                    if not ok and last in (b"filename", b"url", b"sha256"):
                        if want is None and not rng:
                            ok = keys[0] == b"urls" and (d == 3 or (
                                d == 4 and keys[2] == b"digests"))
                        else:
                            ok = keys[0] == b"releases" and (rng or keys[1] == want) and (
                                d == 4 or (d == 5 and keys[3] == b"digests"))
                    s = bytearray() if ok else False
                elif c == 123 or c == 91:  # { [
                    if not st and (seen or c != 123):
                        raise ValueError
                    seen = True
                    st.append(c)
                    keys.append(None)
                    key_next = c == 123
                    d = len(keys)
                    if c == 123 and ((want is None and not rng and d == 3 and
                                      keys[0] == b"urls") or (
                            d == 4 and keys[0] == b"releases" and (rng or keys[1] == want))):
                        f, fdepth = {}, len(st)
                elif c == 125 or c == 93:  # } ]
                    if not st or st[-1] != c - 2:
                        raise ValueError
                    if c == 125 and len(st) == fdepth:
                        fn = f.get(b"filename", b"")
                        whl = fn[-13:] == b"-none-any.whl" and (b"-py3-" in fn or b".py3-" in fn)
                        if (fn[-7:] == b".tar.gz" or fn[-4:] == b".tgz" or whl) and (
                                f.get(b"url") and f.get(b"sha256")):
                            if rng:  # (a piece at a time: no line-long block)
                                for v in (keys[1], b"\t1\t" if f.get(b"yanked") else b"\t0\t",
                                          b"1\t" if whl else b"0\t", f[b"url"], b"\t",
                                          f[b"sha256"], b"\t", str(f.get(b"size", "")).encode(), b"\n"):
                                    cands.write(v)
                            elif (o.target or not f.get(b"yanked")) and (best is None or (
                                    best[b"filename"][-4:] == b".whl" and not whl)):
                                best = f
                        f, fdepth = None, -1
                    st.pop()
                    keys.pop()
                elif c == 44:  # ,
                    if not st:
                        raise ValueError
                    key_next = st[-1] == 123
                elif c in b"-0123456789tfn":
                    lit = c
                    num = c - 48 if 48 <= c <= 57 else -1
                elif c not in b" \t\r\n:" or not st:
                    raise ValueError
            if st or not seen:
                raise ValueError
        except ValueError:
            raise UpipError(_NOT_PYPI, o.src)
        finally:
            if cands:
                cands.close()
    o.name = name or n
    if rng:
        o.step = "range"
        return
    if not found:
        raise UpipError(_NO_RELEASE, n, o.target)
    if best is None:
        raise UpipError(_NO_SDIST, n, version)
    o.version = version
    try:
        o.url, o.sha256 = best[b"url"].decode(), best[b"sha256"].decode()
    except ValueError:  # (not UTF-8)
        raise UpipError(_NOT_PYPI, o.src)
    size = best.get(b"size")
    if b"://" not in o.url.encode():  # (mirrors: relative to the JSON)
        import upip
        o.url = upip.load("url").join(o.src, o.url)
    print("Installing {} {} from {}".format(o.name, version, o.index))
    o.src = size  # (the URL done with; the archive's size as declared, for get)
    o.step = "get"
