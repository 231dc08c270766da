# upip device client: the step between the last package and store: refuse
# a commit that would clash, before anything is planned: two new dists that
# want one path with different content, a new dist and an installed one
# that stays doing so, or a file that no installed dist owns (unless
# --force; one with the same content is adopted). The files are read again
# for each question, not held: see core.filter.
from upip import UpipError
from upip.core import filter, find, guard, norm, readlines, sizeof, stat


def run(o):
    guard(o.path, check, o.path, o.force)
    o.step = "store"


def check(path, force):
    new, rec = path + "/.upip-tx/new", path + "/.upip-records"
    a, b = sizeof(new), sizeof(rec)  # the new paths; the installed ones
    keys, name = set(), None  # keys: the new dists, norm()ed
    for p in readlines(new):
        if p[0] == "dist":
            name = p[1]
            keys.add(norm(name))
        elif p[0] == "file" and filter(a, p[1], True):
            have = find(new, p[1])
            if have[0] != p[2]:
                raise UpipError("{} and {} both want {} with different content".format(
                    have[1][1], name, p[1]))
    key = dist = None
    for p in readlines(rec):
        if p[0] == "dist":
            key, dist = norm(p[1]), p
        elif p[0] == "file":
            filter(b, p[1], True)
            if key not in keys and filter(a, p[1]):
                n = find(new, p[1])
                if n and n[0] != p[2]:
                    raise UpipError("{} and the installed {} {} both want {} with different "
                                    "content; uninstall one of them".format(
                                        n[1][1], dist[1], dist[2], p[1]))
    if force:
        return
    for p in readlines(new):
        if p[0] != "file":
            continue
        t = path + "/" + p[1]
        if stat(t) and not (filter(b, p[1]) and find(rec, p[1])):
            import upip  # (a file no one owns is rare: its hash, loaded only then)
            if stat(t) & 0x4000 or upip.run("digest", t) != p[2]:
                raise UpipError("{} exists but no installed package owns it; move it away "
                                "or pass --force".format(t))
