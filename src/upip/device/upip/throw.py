# upip device client: an error while installing o.name (or, before the
# first package is known, in DIR), as the user reads it (loaded only
# then). get adds the URL to an OSError as its second argument, store and
# sync the folder they commit into.
from upip import UpipError


def run(o, e):
    if isinstance(e, MemoryError):
        e = "out of memory"
    elif isinstance(e, OSError):
        e = oserror(e)
    elif not isinstance(e, UpipError):
        return e
    elif e.args and type(e.args[0]) is int:
        # An error by number, from deflate or unpack (their words would be on
        # the heap while they run); 1-10 refuse a member: (number, its name,
        # a link's target)
        a = e.args
        e = ("backslash or control character in the path", "absolute path",
             "path with '..' escapes the target", "listed twice", "link to absolute path {2}",
             "link to {2} points outside the archive", "hard link (refused)",
             "device node or FIFO", "unsupported member type", "too large to unpack",
             "the archive needs a 32 KiB inflate window and there is not enough memory "
             "(sdists built by upip use 4 KiB)", "the archive is corrupt")[a[0] - 1].format(*a)
        if a[0] <= 10:
            e = "refusing archive member {}: {}".format(a[1], e)
    return UpipError("{}: {}".format(o.name or o.path, e))


def oserror(e):
    # An OSError as one line; get puts the URL in its second argument.
    n = e.args[0] if e.args else 0
    why = {28: "no space left on device", 27: "file too large (disk full?)",
           110: "timed out", 116: "timed out",
           104: "connection reset", 111: "connection refused", 113: "no route to host",
           5: "input/output error"}.get(n, "error {} (errno)".format(n))
    return why if len(e.args) < 2 else "{}: {}".format(e.args[1], why)
