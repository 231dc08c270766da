# upip device client: the step after mip (a package from the mip index or
# a package.json): the files it listed in the stage's "m" (a line: URL,
# destination, the start of its sha256 or nothing), each fetched by get's
# request into a slot of the stage and listed in "f" as unpack lists an
# archive's; a short hash (the mip index's) is checked as each arrives, so
# nothing unchecked lands. A step of its own: get's code stays small.
from micropython import const

from upip import UpipError
from upip.get import request

# Errors by name (see throw)
_HASH = const(18)


def run(o):
    # -> the files staged, o.step "add" (over HTTPS, "tls" first, which
    # returns to get, which comes back here)
    slot = o.count
    with open(o.path + "/.upip-tx/m", "rb") as f:
        if not o.context:  # (the first URL tells)
            line = f.readline()
            if line and line[:5] != b"http:":
                o.step = "tls"
                return
            f.seek(0)
        with open(o.path + "/.upip-tx/f", "wb") as out:
            for line in f:
                url, dest, h = line[:-1].split(b"\t")
                url, h = url.decode(), h.decode()
                _, sha, size = request(o, url, "/.upip-tx/n" + str(slot))
                if sha[:len(h)] != h:  # (the mip index's short hash)
                    raise UpipError(_HASH, url, sha, h)
                out.write(str(slot).encode() + b"\t" + dest + b"\t" + sha.encode() + b"\t" +
                          str(size).encode() + b"\n")
                slot += 1
    o.count = slot
    o.context = None
    o.step = "add"
