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
    elif not isinstance(e, UpipError):  # a bug, or a case no step foresaw: still one line
        e = "{}: {}".format(type(e).__name__, e)
    elif e.args and type(e.args[0]) is int:
        # An error by number, from get, deflate, unpack, zip or mip (their
        # words would be on the heap while they run): (number, what it
        # names...); 1-10 and 24 refuse an archive member (or, when a fourth
        # argument says so, a destination): (number, its name, a link's
        # target)
        a = e.args
        e = ("backslash or control character in the path", "absolute path",
             "path with '..' escapes the target", "listed twice", "link to absolute path {2}",
             "link to {2} points outside the archive", "hard link (refused)",
             "device node or FIFO", "unsupported member type", "too large to unpack",
             "the archive is corrupt", "", "unsupported URL {1}",
             "cannot resolve host {1}", "{1} closed the connection", "{1} answered HTTP {2}",
             "{1}: connection closed mid-body",
             "sha256 of {1} is {2}, the index says {3}: corrupt or tampered with",
             "too many redirects at {1}", "cannot read the CA file {1}",
             "TLS with {1} failed: {2}", "the archive is truncated",
             "the CA file {1} is not a DER certificate",
             "a name upip keeps for its own files")[a[0] - 1].format(*a)
        if a[0] <= 10 or a[0] == 24:
            e = "refusing {} {}: {}".format(a[3] if len(a) > 3 else "archive member", a[1], e)
        if a[0] == 12:  # found nowhere: (12, name, the sources tried; see get)
            e = "no such package: tried " + ", ".join(
                (o.modules if o.modules is not True else "https://micropython.org/pi/v2")
                if t == 109 else "{}/{}{}".format(o.index, "micropython-" if t == 112 else
                                                        "", a[1]) for t in a[2])
        if a[0] == 21 and "signed" in a[2]:  # where mbedtls takes its memory from
            # the heap, running out of it in a signature's check reads as
            # "not correctly signed" (measured on such a build: 36-40 KB)
            import gc
            free = gc.mem_free() // 1024
            if free < 48:
                e += " (or too little memory for TLS: {} KB free)".format(free)
    e = "{}".format(e)
    p = o.name or o.path
    if e[:len(p) + 1] != p + ":":  # (a commit's errors name DIR already, some the spec)
        e = "{}: {}".format(p, e)
    return UpipError(e)


def oserror(e):
    # An OSError as one line; get puts the URL in its second argument.
    n = e.args[0] if e.args else 0
    why = {28: "no space left on device", 12: "out of memory", 27: "file too large (disk full?)",
           110: "timed out", 116: "timed out",
           104: "connection reset", 111: "connection refused", 113: "no route to host",
           5: "input/output error"}.get(n, "error {} (errno)".format(n))
    return why if len(e.args) < 2 else "{}: {}".format(e.args[1], why)
