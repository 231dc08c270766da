# upip device client: look things up in the image's records file
# (DIR/.upip-records: "dist/req/file" lines, tab separated, as the host writes).
import os

from upip import UpipError, norm
from upip._tx import REC, lines


def lib_path():
    import sys
    for p in sys.path:
        if p[-4:] == "/lib" and p[:4] != "/rom" and ".frozen" not in p:
            if p[:1] == "~":
                p = (os.getenv("HOME") or "") + p[1:]
            return p
    raise UpipError("no .../lib folder on sys.path: pass a path")


def dists(path):
    # ["dist", name, version, requested, sha256, source] for each install
    path = path or lib_path()
    first = True
    for p in lines(path + REC):
        if first and p != ["upip-records", "1"]:
            raise UpipError(path + REC + " is not an upip records file")
        first = False
        if p[0] == "dist":
            yield p


def listing(path):
    from upip._tx import recover
    path = path or lib_path()
    recover(path)  # as the host does: finish or undo an interrupted transaction first
    return list(dists(path))


def version(path, key):
    for d in dists(path):
        k = norm(d[1])
        if k == key or k == "micropython-" + key:
            return d[2]
    return None
