# upip device client: find a release in PyPI's JSON API while it streams in.
# The state is a few short strings whatever the number of releases or the
# length of the description: strings nobody asked for are skipped, not kept.
from upip import UpipError, norm, part


def meta(name, pin, o):
    # -> (name, version, url, sha256) of the sdist to install. Unknown names
    # are tried with micropython- in front; a pin tries /NAME/VER/json first
    # and falls back to the project's JSON (mirrors may not serve the former).
    # The caller has loaded _net.
    net = part("_net")
    names = [name]
    if norm(name)[:12] != "micropython-":
        names.append("micropython-" + name)
    for n in names:
        urls = [o.index + "/" + n + "/json"]
        if pin:
            urls.insert(0, o.index + "/" + n + "/" + pin + "/json")
        for u in urls:
            st, body = net.fetch(u, o)
            try:
                if st == 404:
                    continue
                if st != 200:
                    raise UpipError("{} answered HTTP {}".format(u, st))
                r = pick(body, o.buf, pin if u == urls[-1] else None, pin is not None)
            except ValueError:
                raise UpipError(u + " is not a PyPI JSON document")
            finally:
                body.s.close()
            if r[1] is None:
                raise UpipError("{} has no release {}".format(n, pin))
            if r[2] is None:
                raise UpipError("{} {} has no .tar.gz sdist (the device installs sdists; use "
                                "upip on a PC)".format(n, r[1]))
            if n != name:
                print("note: no project {}; using {}".format(name, n))
            return r
    raise UpipError("no such project (nor micropython-{}) on {}".format(name, o.index))


def pick(body, buf, pin, yanked_ok):
    # Without pin: the sdist in "urls" (the latest release); with pin: the
    # one in "releases"[pin]. -> (name, version, url, sha256); url is None
    # when the release has no sdist, version None when the pin is missing.
    # A yanked file is taken only when yanked_ok (the user pinned it).
    # Raises ValueError for what is not JSON.
    st = []  # open containers: 123 "{" or 91 "["
    keys = []  # the key at each level (None in arrays)
    name = version = best = f = None  # f: the file object being read
    fdepth = -1
    s = None  # the string being read: bytearray, or False when skipped
    esc = key_next = False
    lit = None  # first byte of a literal (number, true, false, null)
    found = pin is None
    seen = False  # the document's "{"
    n = i = 0
    while True:
        if i >= n:
            n = body.readinto(buf)
            i = 0
            if not n:
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
                v = None if s is False else s.decode()
                s = None
                d = len(keys)
                if key_next:
                    keys[-1] = v
                    key_next = False
                elif d == 2 and keys[0] == "info":
                    if keys[1] == "name":
                        name = v
                    elif keys[1] == "version" and pin is None:
                        version = v
                elif f is not None and v is not None:
                    f[keys[-1]] = v
                    if pin is not None:
                        found, version = True, pin
            elif s is not False and len(s) < 400:
                s.append(c)
            continue
        if lit is not None:
            if c not in b" \t\r\n,}]":
                continue
            if f is not None and keys[-1] == "yanked":
                f["yanked"] = lit == 116  # t(rue)
            lit = None
        if c == 34:  # a string starts: keep it only if it is a key or a wanted field
            d = len(keys)
            k = keys[-1] if keys else None
            want = key_next or (d == 2 and keys[0] == "info" and k in ("name", "version"))
            if not want and k in ("filename", "url", "packagetype", "sha256"):
                if pin is None:
                    want = keys[0] == "urls" and (d == 3 or (d == 4 and keys[2] == "digests"))
                else:
                    want = keys[0] == "releases" and keys[1] == pin and (
                        d == 4 or (d == 5 and keys[3] == "digests"))
            s = bytearray() if want else False
        elif c == 123 or c == 91:  # { [
            if not st and (seen or c != 123):
                raise ValueError
            seen = True
            st.append(c)
            keys.append(None)
            key_next = c == 123
            d = len(keys)
            if c == 123 and ((pin is None and d == 3 and keys[0] == "urls") or (
                    d == 4 and keys[0] == "releases" and keys[1] == pin)):
                f, fdepth = {}, len(st)
        elif c == 125 or c == 93:  # } ]
            if not st or st[-1] != c - 2:
                raise ValueError
            if c == 125 and len(st) == fdepth:
                fn = f.get("filename", "")
                if best is None and (fn[-7:] == ".tar.gz" or fn[-4:] == ".tgz") and f.get(
                        "url") and f.get("sha256") and (yanked_ok or not f.get("yanked")):
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
    if pin is not None and not found:
        version = None
    if best is None:
        return name, version, None, None
    return name, version, best.get("url"), best.get("sha256")
