# upip device client: what the image's bookkeeping (next, store, sync,
# _api) shares: package names, reading records-style files (the records file
# DIR/.upip-records and the stage's new and journal: tab-separated lines, as
# the host writes them), and files.
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


def filter(buf, path, add=False):
    # A Bloom filter: whether path may be in buf (a bytearray; add: put it
    # in too). False is certain; a caller checks a True by reading the file
    # the path came from, so the heap holds a few bits a path, not the path.
    # (Names the firmware has: no qstr.)
    import hashlib
    d = hashlib.sha256(path).digest()
    n = len(buf) * 8
    hit = True
    for j in (0, 3, 6):
        i = ((d[j] << 16) | (d[j + 1] << 8) | d[j + 2]) % n
        if not buf[i >> 3] & 1 << (i & 7):
            hit = False
            if add:
                buf[i >> 3] |= 1 << (i & 7)
    return hit


def sizeof(path):
    # a Bloom filter (filter) for the paths the records-style file path
    # lists: 2 bytes a line (a line is 50 bytes or more), at most 512
    try:
        n = os.stat(path)[6]
    except OSError:
        n = 0
    return bytearray(min(512, 8 + n // 25))


def find(path, name, keys=None):
    # The first "file" line for name in the records-style file path, as
    # (its sha256, its dist's line): of a dist not in keys when keys given.
    # (Names the firmware has: no qstr.)
    dist = None
    for p in readlines(path):
        if p[0] == "dist":
            dist = p
        elif p[0] == "file" and p[1] == name and (keys is None or norm(dist[1]) not in keys):
            return p[2], dist
    return None


def dist(path):
    # the "dist" lines of DIR's records: ["dist", name, version, requested,
    # sha256, source] for each install
    first = True
    for p in readlines(path + "/.upip-records"):
        if first and p != ["upip-records", b"1".decode()]:  # (b"": no qstr)
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


def guard(path, function, *args):
    # function(*args), a step of the commit into DIR (check, store, sync):
    # its errors name DIR (throw puts an errno in words)
    try:
        function(*args)
    except MemoryError:
        raise UpipError(path + ": out of memory while committing")
    except OSError as e:
        raise OSError(e.args[0] if e.args else 0, path + ": cannot commit")
