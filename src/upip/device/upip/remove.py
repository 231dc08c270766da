# upip device client: uninstall, as one journaled commit that removes dists.
from upip import UpipError, close, norm
from upip._dir import begin, recover
from upip._img import run as commit
from upip._tx import dists


def run(path, names):
    path = recover(path)
    keys = set()
    for n in names:
        k = norm(n)
        found = None
        for d in dists(path):
            if norm(d[1]) in (k, "micropython-" + k):
                found = d
        if found is None:
            raise UpipError("{} is not installed in {}".format(n, path))
        keys.add(norm(found[1]))
        print("Removing {} {}".format(found[1], found[2]))
    path, made = begin(path)
    ok = False
    try:
        open(path + "/.upip-tx/new", "w").close()
        commit(path, keys, made, False, memoryview(bytearray(512)))
        ok = True
    finally:
        if not ok:
            close(path, made)
