# upip device client: plan the commit of staged dists into the image (check
# has refused conflicts): stage the new records file, write the journal of
# moves (mkdir, del and put, in that order, as the host's), which sync
# makes and undoes after a failure or a crash.
import os

from upip.core import filter, find, guard, norm, readlines, sizeof, stat


def run(o):
    # The install's last step but one: plan the commit of the staged dists
    # (DIR/.upip-tx/new) into DIR: the new records file staged, the moves
    # written to the journal (o.mkdir: the folders made for DIR); sync makes
    # them (o.step "sync").
    guard(o.path, write, o.path, set(), o.mkdir)
    o.step = "sync"


def write(path, keys, mkdir):
    # ... and drop the dists named in keys (norm()ed; uninstall): the new
    # records and the journal written, ready for sync.flush (check has
    # refused clashes). The files are read again for each question, not
    # held: see core.filter. (Named as the firmware's own: no qstr.)
    new, rec = path + "/.upip-tx/new", path + "/.upip-records"
    a, c = sizeof(new), sizeof(rec)  # the new paths; those of the dists that stay
    slot = 0  # the one after the last staged file
    dirs = []  # the folders to make (few: not one a file)
    for p in readlines(new):
        if p[0] == "dist":
            keys.add(norm(p[1]))
        elif p[0] == "file":
            slot = max(slot, int(p[4]) + 1)
            filter(a, p[1], True)
            d = p[1][:p[1].rfind("/")] if "/" in p[1] else ""
            while d and d not in dirs and not stat(path + "/" + d) & 0x4000:
                dirs.append(d)
                d = d[:d.rfind("/")] if "/" in d else ""
    asked, key, one = set(), None, b"1".decode()  # (b"": no qstr)
    for p in readlines(rec):
        if p[0] == "dist":
            key = norm(p[1])
            if p[3] == one:
                asked.add(key)
        elif p[0] == "file" and key not in keys:
            filter(c, p[1], True)
    # The new records file takes the slot after the last.
    w = b"w".decode()  # (a mode as bytes: no qstr)
    with open(path + "/.upip-tx/n" + str(slot), w) as out:
        out.write("upip-records\t1\n")
        key = None
        for p in readlines(rec):
            if p[0] == "dist":
                key = norm(p[1])
            if p[0] != "upip-records" and key not in keys:
                out.write("\t".join(p) + "\n")
        for p in readlines(new):
            if p[0] == "dist" and norm(p[1]) in asked:
                p[3] = one  # once asked for, always asked for
            out.write("\t".join(p[:4] if p[0] == "file" else p) + "\n")
    # The journal: mkdir, del and put, in that order, as the host's. A path
    # two new dists share (same content) is put twice: the second finds the
    # first in place, and a rollback undoes both.
    dirs.sort(key=lambda s: s.count("/"))
    with open(path + "/.upip-tx/journal", w) as j:
        for d in dirs:
            line(j, b"mkdir", -1, d)
        extra, key = slot + 1, None
        for p in readlines(rec):  # files of the dists that go, but for kept and new ones
            if p[0] == "dist":
                key = norm(p[1])
            elif p[0] == "file" and key in keys and not (
                    filter(a, p[1]) and find(new, p[1])) and not (
                    filter(c, p[1]) and find(rec, p[1], keys)):
                line(j, b"del", extra, p[1])
                extra += 1
        for p in readlines(new):
            if p[0] == "file":
                line(j, b"put", p[4], p[1])
        line(j, b"put", slot, ".upip-records")
        for d in mkdir:
            line(j, b"root", -1, d)
    if hasattr(os, "sync"):
        os.sync()


def line(f, name, n, path):
    # a journal line: the op name (bytes: "del\t{}\t{}\n" and the like
    # would be qstrs), the slot n, the path (names the firmware has)
    f.write(name + b"\t" + str(n).encode() + b"\t" + path.encode() + b"\n")
