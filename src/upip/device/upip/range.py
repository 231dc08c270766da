# upip device client: the step after json for a range (o.range): choose,
# among the files json listed in the stage's "c" (a line: version, yanked,
# wheel, URL, sha256), the newest release in the range (a pre-release only
# when no other is in it; of a release's files, the sdist), read a line at
# a time; the version module is loaded only here. (A line's last field: the
# file's size as PyPI declares it, or nothing.)
from micropython import const

from upip import UpipError

# Errors by name (see throw)
_NOT_PYPI = const(30)


def run(o):
    # -> o.version, o.url, o.sha256 (o.step "get", for the archive)
    import os

    import upip
    v = upip.load("version")
    key, match, phase = v.key, v.match, v.phase
    best = [None, None, None, None]  # [key, line] of the best final and pre-release
    # the versions there are, to say when none is in range: ", 1.0, 1.1,"
    # (a version is looked for as " V," in it, which copies no more than V)
    seen = bytearray(b",")
    name = o.path + "/.upip-tx/c"
    try:  # (a version or URL that is not UTF-8: the JSON is no JSON)
        with open(name, "rb") as f:
            for line in f:
                p = line[:-1].split(b"\t")
                v = b" " + p[0] + b","
                if len(seen) < 200 and v not in seen:
                    seen += v
                if p[1] == b"1" or not match(p[0].decode(), o.range):
                    continue  # (yanked: only when pinned)
                k = key(p[0])
                j = 2 if phase(k) else 0
                if best[j] is None or k > best[j] or (k == best[j] and best[j + 1][2] == b"1" and
                                                      p[2] == b"0"):
                    best[j], best[j + 1] = k, p
        os.remove(name)
        p = best[1] or best[3]
        if p is None:
            raise UpipError("no release of {} is in {} (there are {})".format(
                o.name, o.range, (seen[2:-1] or b"none").decode()))
        o.version, o.url, o.sha256 = p[0].decode(), p[3].decode(), p[4].decode()
    except ValueError:
        raise UpipError(_NOT_PYPI, o.src)
    size = int(p[5]) if p[5] else None
    if b"://" not in o.url.encode():  # (mirrors: relative to the JSON)
        o.url = upip.load("url").join(o.src, o.url)
    print("Installing {} {} from {}".format(o.name, o.version, o.index))
    o.src = size  # (the URL done with; the archive's size as declared, for get)
    o.step = "get"
