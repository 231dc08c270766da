# upip device client: plan the commit of staged dists into the image: check
# for conflicts, stage the new records file, write the journal of moves
# (mkdir, del and put, in that order, as the host's), which sync makes and
# core undoes after a failure or a crash.
import os

from upip import UpipError
from upip.core import guard, norm, readlines, stat


def run(o):
    # The install's last step but one: plan the commit of the staged dists
    # (DIR/.upip-tx/new) into DIR: the new records file staged, the moves
    # written to the journal (o.mkdir: the folders made for DIR); sync makes
    # them (o.step "sync").
    guard(o.path, commit, o.path, set(), o.mkdir, o.force)
    o.step = "sync"


def commit(path, keys, mkdir, force):
    # ... and drop the dists named in keys (norm()ed; uninstall): the
    # journal, ready for sync.flush
    new = {}  # image path -> [slot, sha256, dist name]
    name = None
    for p in readlines(path + "/.upip-tx/new"):
        if p[0] == "dist":
            name = p[1]
            keys.add(norm(name))
        elif p[0] == "file":
            have = new.get(p[1])
            if have and have[1] != p[2]:
                raise UpipError("{} and {} both want {} with different content".format(
                    have[2], name, p[1]))
            if not have:
                new[p[1]] = [p[4], p[2], name]
    # Old files of the dists that go; files kept dists share are kept.
    old, kept, key, owner, asked = [], set(), None, None, set()
    for p in readlines(path + "/.upip-records"):
        if p[0] == "dist":
            key, owner = norm(p[1]), p[1] + " " + p[2]
            if p[3] == "1":
                asked.add(key)
        elif p[0] == "file":
            if key in keys:
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
        if rel not in oldset and rel not in kept and stat(t) and not force:
            import upip  # (a file no one owns is rare: its hash, loaded only then)
            if stat(t) & 0x4000 or upip.run("digest", t) != new[rel][1]:
                raise UpipError("{} exists but no installed package owns it; move it away "
                                "or pass --force".format(t))
    # The new records file takes the next free slot.
    slot = 0
    for rel in new:
        slot = max(slot, int(new[rel][0]) + 1)
    w = b"w".decode()  # (a mode as bytes: no qstr)
    with open(path + "/.upip-tx/n" + str(slot), w) as out:
        out.write("upip-records\t1\n")
        key = None
        for p in readlines(path + "/.upip-records"):
            if p[0] == "dist":
                key = norm(p[1])
            if p[0] != "upip-records" and key not in keys:
                out.write("\t".join(p) + "\n")
        for p in readlines(path + "/.upip-tx/new"):
            if p[0] == "dist" and norm(p[1]) in asked:
                p[3] = "1"  # once asked for, always asked for
            out.write("\t".join(p[:4] if p[0] == "file" else p) + "\n")
    dirs = []
    for rel in new:
        d = rel[:rel.rfind("/")] if "/" in rel else ""
        while d and d not in dirs and not stat(path + "/" + d) & 0x4000:
            dirs.append(d)
            d = d[:d.rfind("/")] if "/" in d else ""
    dirs.sort(key=lambda s: s.count("/"))
    ops = [("mkdir", -1, d) for d in dirs]
    extra = slot + 1
    for rel in old:
        if rel not in new and rel not in kept:
            ops.append(("del", extra, rel))
            extra += 1
    for rel in sorted(new):
        ops.append(("put", new[rel][0], rel))
    ops.append(("put", slot, ".upip-records"))
    with open(path + "/.upip-tx/journal", w) as j:
        for op in ops + [("root", -1, p) for p in mkdir]:
            j.write("\t".join([op[0], str(op[1]), op[2]]) + "\n")
    if hasattr(os, "sync"):
        os.sync()
