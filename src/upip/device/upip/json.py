# upip device client: find the release in PyPI's JSON API, saved by get in
# the stage, and read back here in 512-byte pieces: the state is a few short
# strings whatever the number of releases or the length of the description
# (strings nobody asked for are skipped, not kept). Keys stay bytes: a
# b"..." literal is no qstr.
from upip import UpipError


def run(o):
    # -> o.name (as the index spells it), o.version, o.url, o.sha256 (o.step
    # "get", for the archive) for o.name (o.target: a pin), from the JSON get
    # saved (o.src: where from).
    # Without a pin: the sdist in "urls" (the latest release); with one:
    # the one in "releases"[pin] (in /NAME/VER/json, in "urls"). A yanked
    # file is taken only when pinned. url is None when the release has no
    # sdist, version None when the pin is missing.
    n, _, pin = o.src[len(o.index) + 1:-5].partition("/")
    want = o.target.encode() if o.target and not pin else None  # in "releases"
    st = []  # open containers: 123 "{" or 91 "["
    keys = []  # the key at each level (None in arrays)
    name = version = best = f = None  # f: the file object being read
    fdepth = -1
    s = None  # the string being read: bytearray, or False when skipped
    esc = key_next = False
    lit = None  # first byte of a literal (number, true, false, null)
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
                            elif keys[1] == b"version" and want is None:
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
                        continue
                    if f is not None and keys[-1] == b"yanked":
                        f[b"yanked"] = lit == 116  # t(rue)
                    lit = None
                if c == 34:  # a string starts: kept if it is a key or a wanted field
                    d = len(keys)
                    key = keys[-1] if keys else None
                    ok = key_next or (d == 2 and keys[0] == b"info" and key in (
                        b"name", b"version"))
                    if not ok and key in (b"filename", b"url", b"sha256"):
                        if want is None:
                            ok = keys[0] == b"urls" and (d == 3 or (
                                d == 4 and keys[2] == b"digests"))
                        else:
                            ok = keys[0] == b"releases" and keys[1] == want and (
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
                    if c == 123 and ((want is None and d == 3 and keys[0] == b"urls") or (
                            d == 4 and keys[0] == b"releases" and keys[1] == want)):
                        f, fdepth = {}, len(st)
                elif c == 125 or c == 93:  # } ]
                    if not st or st[-1] != c - 2:
                        raise ValueError
                    if c == 125 and len(st) == fdepth:
                        fn = f.get(b"filename", b"")
                        if best is None and (fn[-7:] == b".tar.gz" or fn[-4:] == b".tgz") and (
                                f.get(b"url") and f.get(b"sha256") and (
                                    o.target or not f.get(b"yanked"))):
                            best = f
                        f, fdepth = None, -1
                    st.pop()
                    keys.pop()
                elif c == 44:  # ,
                    key_next = st[-1] == 123
                elif c in b"-0123456789tfn":
                    lit = c
                elif c not in b" \t\r\n:" or not st:
                    raise ValueError
            if st or not seen:
                raise ValueError
        except ValueError:
            raise UpipError(o.src + " is not a PyPI JSON document")
    if not found:
        raise UpipError("{} has no release {}".format(n, o.target))
    if best is None:
        raise UpipError("{} {} has no .tar.gz sdist (the device installs sdists; use "
                        "upip on a PC)".format(n, version))
    if n != o.name:
        print("note: no project {}; using {}".format(o.name, n))
    o.name, o.version = name or n, version
    o.url, o.sha256 = best[b"url"].decode(), best[b"sha256"].decode()
    o.src = None  # (done with: no island while the archive comes)
    print("Installing {} {}".format(o.name, version))
    o.step = "get"
