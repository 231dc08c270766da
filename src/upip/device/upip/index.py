# upip device client: the step after get when a range is asked of the mip
# index: its index.json (get saved it as the stage's "j"; ~60 KB for
# micropython-lib's) read by scan a value at a time, to take the newest
# version in the range; then the stage's "u" (get's list) written again:
# that version's document, or, when the index has no such package, the
# sources after it.
from micropython import const

from upip import UpipError

# Errors by name (see throw)
_NOT_JSON = const(29)


def run(o):
    # (o.state: b"i", then the package's sources) -> o.state, o.name,
    # o.target; o.step "get"
    import upip
    scan = upip.load("scan").run
    o.state = o.state[1:]
    o.step = "get"
    try:
        index(o, scan)
    except ValueError:
        raise UpipError(_NOT_JSON, o.src)


def index(o, scan):
    # the newest version in o.range of o.name (-> o.target), in the .mpy
    # variant when the index has one for it, else in "py" (pre-releases
    # when nothing else is in range); index.json's "packages": [{name,
    # versions: {py: [...], MPY: [...]}}]
    import sys

    import upip
    from upip.core import norm
    v = upip.load("version")
    key, match, phase = v.key, v.match, v.phase
    mpy = getattr(sys.implementation, "_mpy", 0)
    mpy = str(mpy & 0xff).encode() if mpy else b"py"  # (bytes: no qstr)
    want = norm(o.name)
    # this entry: its name, the best [key, version] of py (final,
    # pre-release) and of mpy; whether it has mpy; the py versions, to say
    cur = [None, None, None, None, None, False, bytearray()]
    found = []

    def callback(keys, v):
        d = len(keys)
        if d < 2 or keys[0] != b"packages":
            return
        if d == 2 and v is None:  # an entry's end
            if cur[0] is not None and norm(cur[0].decode()) == want:
                found.append(cur[:])
                raise StopIteration
            cur[:] = [None, None, None, None, None, False, bytearray()]
        elif d == 3 and keys[2] == b"name" and type(v) is bytes:
            cur[0] = v
        elif d == 5 and keys[2] == b"versions" and type(v) is bytes and (
                cur[0] is None or norm(cur[0].decode()) == want):
            if keys[3] == b"py" and len(cur[6]) < 200:
                cur[6] += (b", " if cur[6] else b"") + v
            if keys[3] in (b"py", mpy) and match(v.decode(), o.range):
                k = key(v)
                j = (3 if keys[3] == mpy else 1) + phase(k)
                if cur[j] is None or k > cur[j][0]:
                    cur[j] = [k, v]
            if keys[3] == mpy:
                cur[5] = True

    try:
        scan(o.path + "/.upip-tx/j", callback)
    except StopIteration:
        pass
    m = o.src[:-11]  # (the mip index: .../index.json)
    u = o.path + "/.upip-tx/u"
    with open(u, "rb") as f:
        f.readline()  # (index.json)
        rest = f.read()  # the other sources (PyPI's: a few short lines)
    with open(u, "wb") as f:
        if found:
            c = found[0]
            j = 3 if c[5] else 1
            best = c[j] or c[j + 1]
            if best is None:
                raise UpipError("no version in {} on {} (it has {})".format(
                    o.range, m, (c[6] or b"none").decode()))
            o.name, o.target = c[0].decode(), best[1].decode()
            f.write(b"m\t" + "{}/package/".format(m).encode() + (mpy if j == 3 else b"py") +
                    "/{}/{}.json\n".format(o.name, o.target).encode())
        else:
            f.write(rest)
