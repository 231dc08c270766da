# upip device client: what the image's bookkeeping (next, store, _api)
# shares: package names, reading records-style files (the records file DIR/.upip-records
# and the stage's new and journal: tab-separated lines, as the host writes
# them), files, and undoing the stage DIR/.upip-tx (n<i> new files, o<i>
# replaced ones, the journal of moves, undone in reverse after a failure or
# a crash: the host and the device can each finish or undo the other's).
# Paths in the stage are spelled out whole ("/.upip-tx/journal"): a string
# longer than 10 characters is no qstr, and is freed with the module.
import os

from upip import UpipError


def norm(name):
    # PEP 503: runs of - _ . become one -, lower case
    name = name.lower().replace("_", "-").replace(".", "-")
    while "--" in name:
        name = name.replace("--", "-")
    return name


def readlines(path):
    # the lines of a records-style file, split at tabs (none if it is missing)
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
    first = True
    for p in readlines(path + "/.upip-records"):
        if first and p != ["upip-records", "1"]:
            raise UpipError(path + "/.upip-records is not an upip records file")
        first = False
        if p[0] == "dist":
            yield p


def stat(path):
    # -> the mode of path, 0 if it does not exist (a folder: mode & 0x4000)
    # (Parameters are named as the firmware's own: each name is a qstr.)
    try:
        return os.stat(path)[0] or 1
    except OSError:
        return 0


def remove(path):
    # a file or a folder with everything in it
    if stat(path) & 0x4000:
        for e in os.ilistdir(path):
            remove(path + "/" + e[0])
        os.rmdir(path)
    elif stat(path):
        os.remove(path)


def rollback(path):
    ops = [p for p in readlines(path + "/.upip-tx/journal") if len(p) == 3]
    for op, i, rel in reversed(ops):
        if op == "root":
            continue
        t = path + "/" + rel
        if op == "mkdir":
            try:
                os.rmdir(t)
            except OSError:
                pass
            continue
        if op == "put" and not stat(path + "/.upip-tx/n" + i) and stat(t):
            os.remove(t)
        if stat(path + "/.upip-tx/o" + i):
            os.rename(path + "/.upip-tx/o" + i, t)
    remove(path + "/.upip-tx")
    for op, i, rel in reversed(ops):
        if op == "root":
            try:
                os.rmdir(rel)
            except OSError:
                break


def oserror(e):
    # An OSError as one line; get puts the URL in its second argument.
    n = e.args[0] if e.args else 0
    why = {28: "no space left on device", 27: "file too large (disk full?)",
           110: "timed out", 116: "timed out",
           104: "connection reset", 111: "connection refused", 113: "no route to host",
           5: "input/output error"}.get(n, "error {} (errno)".format(n))
    return why if len(e.args) < 2 else "{}: {}".format(e.args[1], why)
