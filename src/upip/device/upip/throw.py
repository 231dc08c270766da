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
    elif e.args and type(e.args[0]) is int:  # unpack refused a member: (why, name, link)
        e = "refusing archive member {}: {}".format(e.args[1], (
            "backslash or control character in the path", "absolute path",
            "path with '..' escapes the target", "listed twice", "link to absolute path {}",
            "link to {} points outside the archive", "hard link (refused)",
            "device node or FIFO", "unsupported member type")[e.args[0] - 1].format(e.args[2]))
    return UpipError("{}: {}".format(o.name or o.path, e))


def oserror(e):
    # An OSError as one line; get puts the URL in its second argument.
    n = e.args[0] if e.args else 0
    why = {28: "no space left on device", 27: "file too large (disk full?)",
           110: "timed out", 116: "timed out",
           104: "connection reset", 111: "connection refused", 113: "no route to host",
           5: "input/output error"}.get(n, "error {} (errno)".format(n))
    return why if len(e.args) < 2 else "{}: {}".format(e.args[1], why)
