# upip device client: read the image's records file (DIR/.upip-records), a
# line at a time: "dist/req/file" lines, tab separated, as the host writes them.
from upip import UpipError


def norm(name):
    # PEP 503: runs of - _ . become one -, lower case
    out = ""
    for c in name.lower():
        if c in "-_.":
            if out[-1:] != "-":
                out += "-"
        else:
            out += c
    return out


def lines(path):
    try:
        f = open(path)
    except OSError:
        return
    with f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                yield line.split("\t")


def dists(path):
    # ["dist", name, version, requested, sha256, source] for each install
    if path is None:
        from upip._inst import lib_path
        path = lib_path()
    first = True
    for p in lines(path + "/.upip-records"):
        if first and p != ["upip-records", "1"]:
            raise UpipError(path + "/.upip-records is not an upip records file")
        first = False
        if p[0] == "dist":
            yield p


def version(path, key):
    for d in dists(path):
        k = norm(d[1])
        if k == key or k == "micropython-" + key:
            return d[2]
    return None
