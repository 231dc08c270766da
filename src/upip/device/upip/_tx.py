# upip device client: the image's stage DIR/.upip-tx (n<i> new files, o<i>
# replaced ones, the journal of moves, undone in reverse after a failure or a
# crash: the host and the device can each finish or undo the other's), and
# looking things up in the image's records file DIR/.upip-records ("dist",
# "req" and "file" lines, tab separated, as the host writes them).
import os

from upip import UpipError, norm

REC = "/.upip-records"
TX = "/.upip-tx"


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


def exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


def isdir(p):
    try:
        return os.stat(p)[0] & 0x4000 != 0
    except OSError:
        return False


def rmtree(p):
    if isdir(p):
        for e in os.ilistdir(p):
            rmtree(p + "/" + e[0])
        os.rmdir(p)
    elif exists(p):
        os.remove(p)


def begin(path):
    # Create DIR (and its parents) if needed, then the stage. -> dirs made
    made = []
    p = path
    while p and not isdir(p):
        made.append(p)
        p = p[:p.rfind("/")]
    for p in reversed(made):
        os.mkdir(p)
    try:
        os.mkdir(path + TX)
    except OSError:
        raise UpipError(path + ": another upip is changing this directory")
    with open(path + TX + "/pid", "w") as f:
        f.write("0")
    return made


def abort(path, made):
    rmtree(path + TX)
    for p in made:
        try:
            os.rmdir(p)
        except OSError:
            break


def recover(path):
    tx = path + TX
    if not isdir(tx):
        return
    if not exists(tx + "/committed") and exists(tx + "/journal"):
        rollback(path)
        print("warning: undid an install that was interrupted; {} is as before".format(path))
    rmtree(tx)


def rollback(path):
    tx = path + TX
    ops = [p for p in lines(tx + "/journal") if len(p) == 3]
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
        if op == "put" and not exists(tx + "/n" + i) and exists(t):
            os.remove(t)
        if exists(tx + "/o" + i):
            os.rename(tx + "/o" + i, t)
    rmtree(tx)
    for op, i, rel in reversed(ops):
        if op == "root":
            try:
                os.rmdir(rel)
            except OSError:
                break


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
    path = path or lib_path()
    recover(path)  # as the host does: finish or undo an interrupted transaction first
    return list(dists(path))


def version(path, key):
    for d in dists(path):
        k = norm(d[1])
        if k == key or k == "micropython-" + key:
            return d[2]
    return None
