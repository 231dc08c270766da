# upip device client: an error while installing o.name (or, before the
# first package is known, in DIR), as the user reads it (loaded only
# then). get adds the URL to an OSError as its second argument.
from upip import UpipError


def run(o, e):
    from upip.core import oserror
    if isinstance(e, MemoryError):
        e = "out of memory"
    elif isinstance(e, OSError):
        e = oserror(e)
    elif not isinstance(e, UpipError):
        return e
    return UpipError("{}: {}".format(o.name or o.path, e))
