# upip device client: the image. Same files as the host's upip:
#   DIR/.upip-records   "dist/req/file" lines, tab separated
#   DIR/.upip-tx/       stage: n<i> new files, o<i> replaced ones, journal
# A commit writes the journal (mkdir, del, put lines, in that order), then
# moves files; any failure, or a crash noticed by the next run, undoes the
# moves in reverse. The host and the device can each finish the other's.
import os

from upip import UpipError
from upip._rec import dists, lines, norm

_REC = "/.upip-records"
_TX = "/.upip-tx"


def _exists(p):
    try:
        os.stat(p)
        return True
    except OSError:
        return False


def _isdir(p):
    try:
        return os.stat(p)[0] & 0x4000 != 0
    except OSError:
        return False


def _rmtree(p):
    if _isdir(p):
        for e in os.ilistdir(p):
            _rmtree(p + "/" + e[0])
        os.rmdir(p)
    elif _exists(p):
        os.remove(p)


def begin(o):
    # Create DIR (and its parents) if needed, then the stage. -> dirs made
    made = []
    p = o.path
    while p and not _isdir(p):
        made.append(p)
        p = p[:p.rfind("/")]
    for p in reversed(made):
        os.mkdir(p)
    try:
        os.mkdir(o.path + _TX)
    except OSError:
        raise UpipError(o.path + ": another upip is changing this directory")
    with open(o.path + _TX + "/pid", "w") as f:
        f.write("0")
    return made


def abort(o, made):
    _rmtree(o.path + _TX)
    for p in made:
        try:
            os.rmdir(p)
        except OSError:
            break


def recover(path):
    tx = path + _TX
    if not _isdir(tx):
        return
    if not _exists(tx + "/committed") and _exists(tx + "/journal"):
        _rollback(path)
        print("warning: undid an install that was interrupted; {} is as before".format(path))
    _rmtree(tx)


def _rollback(path):
    tx = path + _TX
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
        if op == "put" and not _exists(tx + "/n" + i) and _exists(t):
            os.remove(t)
        if _exists(tx + "/o" + i):
            os.rename(tx + "/o" + i, t)
    _rmtree(tx)
    for op, i, rel in reversed(ops):
        if op == "root":
            try:
                os.rmdir(rel)
            except OSError:
                break


def _sha(p, buf):
    try:
        import binascii
        import hashlib
    except ImportError:
        import ubinascii as binascii
        import uhashlib as hashlib
    h = hashlib.sha256()
    with open(p, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(buf[:n])
    return binascii.hexlify(h.digest()).decode()


def commit(o, remove, made=()):
    # Move the staged dists (DIR/.upip-tx/new) into DIR and drop the dists
    # whose keys are in remove, in one journaled step.
    path, tx = o.path, o.path + _TX
    new = {}  # image path -> [slot, sha256, dist name]
    gone = set(remove)  # keys of dists replaced or removed
    name = None
    for p in lines(tx + "/new"):
        if p[0] == "dist":
            name = p[1]
            gone.add(norm(name))
        elif p[0] == "file":
            have = new.get(p[1])
            if have and have[1] != p[2]:
                raise UpipError("{} and {} both want {} with different content".format(
                    have[2], name, p[1]))
            if not have:
                new[p[1]] = [p[4], p[2], name]
    # Old files of the dists that go; files kept dists share are kept.
    old, kept, key, owner, asked = [], set(), None, None, set()
    for p in lines(path + _REC):
        if p[0] == "dist":
            key, owner = norm(p[1]), p[1] + " " + p[2]
            if p[3] == "1":
                asked.add(key)
        elif p[0] == "file":
            if key in gone:
                old.append(p[1])
            else:
                kept.add(p[1])
                n = new.get(p[1])
                if n and n[1] != p[2]:
                    raise UpipError("{} and the installed {} both want {} with different "
                                    "content; uninstall one of them".format(n[2], owner, p[1]))
    oldset = set(old)
    for rel in new:
        t = path + "/" + rel
        if rel not in oldset and rel not in kept and _exists(t) and not o.force:
            if _isdir(t) or _sha(t, o.buf) != new[rel][1]:
                raise UpipError("{} exists but no installed package owns it; move it away "
                                "or pass --force".format(t))
    # The new records file takes the next free slot.
    slot = 0
    for rel in new:
        slot = max(slot, int(new[rel][0]) + 1)
    with open(tx + "/n" + str(slot), "w") as out:
        out.write("upip-records\t1\n")
        key = None
        for p in lines(path + _REC):
            if p[0] == "dist":
                key = norm(p[1])
            if p[0] != "upip-records" and key not in gone:
                out.write("\t".join(p) + "\n")
        for p in lines(tx + "/new"):
            if p[0] == "dist" and norm(p[1]) in asked:
                p[3] = "1"  # once asked for, always asked for
            out.write("\t".join(p[:4] if p[0] == "file" else p) + "\n")
    dirs = []
    for rel in new:
        d = rel[:rel.rfind("/")] if "/" in rel else ""
        while d and d not in dirs and not _isdir(path + "/" + d):
            dirs.append(d)
            d = d[:d.rfind("/")] if "/" in d else ""
    dirs.sort(key=lambda d: d.count("/"))
    ops = [("mkdir", -1, d) for d in dirs]
    extra = slot + 1
    for rel in old:
        if rel not in new and rel not in kept:
            ops.append(("del", extra, rel))
            extra += 1
    for rel in sorted(new):
        ops.append(("put", new[rel][0], rel))
    ops.append(("put", slot, _REC[1:]))
    with open(tx + "/journal", "w") as j:
        for op in ops:
            j.write("{}\t{}\t{}\n".format(op[0], op[1], op[2]))
        for p in made:
            j.write("root\t-1\t{}\n".format(p))
    if hasattr(os, "sync"):
        os.sync()
    try:
        for op, i, rel in ops:
            t = path + "/" + rel
            if op == "mkdir":
                os.mkdir(t)
                continue
            if _exists(t):
                if _isdir(t):
                    raise UpipError("{} is a directory in the image".format(t))
                os.rename(t, tx + "/o" + str(i))
            if op == "put":
                os.rename(tx + "/n" + str(i), t)
        os.rename(tx + "/journal", tx + "/committed")
    except BaseException:
        _rollback(path)
        raise
    _rmtree(tx)
    for rel in old:
        d = rel
        while "/" in d:
            d = d[:d.rfind("/")]
            try:
                os.rmdir(path + "/" + d)
            except OSError:
                break


def uninstall(path, names):
    from upip._inst import Opts
    o = Opts(path)
    path = o.path
    recover(path)
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
    made = begin(o)
    ok = False
    try:
        open(path + _TX + "/new", "w").close()
        commit(o, keys, made)
        ok = True
    finally:
        if not ok:
            abort(o, made)
