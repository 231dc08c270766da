# upip device client: pick a release from PyPI's JSON API while it streams in.
# State is a few short strings whatever the number of releases or the length
# of the description: strings nobody asked for are skipped, not stored.
from micropython import const

from upip import UpipError, part

_FIELDS = ("filename", "url", "packagetype", "yanked", "sha256")
_MAXSTR = const(400)


def meta(name, pin, o):
    # -> (name, version, url, sha256) of the sdist to install. Unknown names
    # are tried with micropython- in front; pins try /NAME/VER/json first and
    # fall back to the project's JSON (mirrors may not serve the former).
    from upip._rec import norm
    net = part("_net")
    names = [name]
    if norm(name)[:12] != "micropython-":
        names.append("micropython-" + name)
    for n in names:
        urls = [o.index + "/" + n + "/json"]
        if pin:
            urls.insert(0, o.index + "/" + n + "/" + pin + "/json")
        for u in urls:
            st, body = net.get(u, o)
            try:
                if st == 404:
                    continue
                if st != 200:
                    raise UpipError("{} answered HTTP {}".format(u, st))
                r = pick(body, o.buf, pin if u == urls[-1] else None)
            finally:
                body.close()
            if r[1] is None:
                raise UpipError("{} has no release {}".format(n, pin))
            if r[2] is None:
                raise UpipError("{} {} has no .tar.gz sdist (the device installs sdists; use "
                                "upip on a PC)".format(n, r[1]))
            if n != name:
                print("note: no project {}; using {}".format(name, n))
            return r
    raise UpipError("no such project (nor micropython-{}) on {}".format(name, o.index))


def pick(body, buf, pin):
    # -> (name, version, url, sha256). Without pin, "urls" (the latest
    # release) is used; with pin, "releases"[pin]. url is None when the
    # release has no sdist, version None when the pin is not there.
    st = []  # open containers: "{" or "["
    keys = []  # current key at each level (None in arrays)
    name = version = None
    best = None
    f = None  # the file object being read: {field: value}
    fdepth = -1
    s = None  # string being read: bytearray, or False when skipped
    esc = False
    lit = None  # literal (number, true, false, null) being read
    key_next = False  # the next string is an object key
    found = pin is None
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
                if s is not False and len(s) < _MAXSTR:
                    s.append({110: 10, 116: 9, 114: 13}.get(c, c))
            elif c == 92:  # backslash
                esc = True
            elif c == 34:  # end of string
                v = s.decode() if s is not False else None
                s = None
                if key_next:
                    keys[-1] = v
                    key_next = False
                else:
                    name, version, found = _value(keys, v, f, pin, name, version, found)
            elif s is not False and len(s) < _MAXSTR:
                s.append(c)
            continue
        if lit is not None:
            if c in b" \t\r\n,}]":
                if f is not None and keys[-1] == "yanked":
                    f["yanked"] = lit == b"t"
                lit = None
            else:
                continue
        if c == 34:
            s = bytearray() if key_next or _want(keys, pin) else False
        elif c == 123 or c == 91:  # { [
            st.append(c)
            keys.append(None)
            key_next = c == 123
            if c == 123 and _is_file(keys, pin):
                f, fdepth = {}, len(st)
        elif c == 125 or c == 93:  # } ]
            if c == 125 and len(st) == fdepth:
                if best is None and _sdist(f, pin):
                    best = f
                f, fdepth = None, -1
            st.pop()
            keys.pop()
        elif c == 44:  # ,
            key_next = st[-1] == 123
        elif c in b"-0123456789tfn":
            lit = bytes([c])
    if pin is not None and not found:
        version = None
    if best is None:
        return name, version, None, None
    return name, version, best.get("url"), best.get("sha256")


def _is_file(keys, pin):
    # keys has just gained None for the new object
    d = len(keys)
    if pin is None:
        return d == 3 and keys[0] == "urls"
    return d == 4 and keys[0] == "releases" and keys[1] == pin


def _want(keys, pin):
    d = len(keys)
    if d == 2 and keys[0] == "info":
        return keys[1] in ("name", "version")
    k = keys[-1]
    if k not in _FIELDS:
        return False
    if pin is None:
        return keys[0] == "urls" and (d == 3 or (d == 4 and keys[2] == "digests"))
    return keys[0] == "releases" and keys[1] == pin and (d == 4 or (d == 5 and keys[3] ==
                                                                      "digests"))


def _value(keys, v, f, pin, name, version, found):
    if len(keys) == 2 and keys[0] == "info":
        if keys[1] == "name":
            name = v
        elif keys[1] == "version" and pin is None:
            version = v
    elif f is not None and v is not None:
        f[keys[-1]] = v
        if pin is not None:
            found = True
            version = pin
    return name, version, found


def _sdist(f, pin):
    fn = f.get("filename", "")
    return (fn[-7:] == ".tar.gz" or fn[-4:] == ".tgz") and f.get("url") and f.get("sha256") and (
        pin is not None or not f.get("yanked"))
