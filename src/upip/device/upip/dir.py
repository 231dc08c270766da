# upip device client: the target DIR around a run: found (the default),
# recovered from a crash, its stage opened.
import os

from upip import UpipError
from upip.core import remove, stat


def find(path):
    # -> DIR (path, or the default: the first .../lib on sys.path, not in
    # ROM or frozen), with a transaction a crash interrupted finished or
    # undone, as the host does.
    import sys
    if not path:
        for p in sys.path:
            if p[-4:] == "/lib" and p[:4] != "/rom" and ".frozen" not in p:
                if p[:1].encode() == b"~":  # (b"...": a short str literal is a qstr)
                    p = (os.getenv(b"HOME".decode()) or "") + p[1:]
                path = p
                break
        else:
            raise UpipError("no .../lib folder on sys.path: pass a path")
    if stat(path + "/.upip-tx"):
        if not stat(path + "/.upip-tx/committed") and stat(path + "/.upip-tx/journal"):
            from upip.sync import rollback  # (only then: its name stays on the heap)
            rollback(path)
            print("warning: undid an install that was interrupted; {} is as before".format(
                path))
        remove(path + "/.upip-tx")
    return path


def mount(path):
    # find(path), then create DIR (and its parents) if needed, and the
    # stage. -> (DIR, the folders made)
    path = find(path)
    made = []
    p = path
    while p and not stat(p) & 0x4000:
        made.append(p)
        p = p[:p.rfind("/")]
    for p in reversed(made):
        os.mkdir(p)
    try:
        os.mkdir(path + "/.upip-tx")
    except OSError:
        raise UpipError(path + ": another upip is changing this directory")
    open(path + "/.upip-tx/pid", "wb").close()  # empty: no process id on a device
    return path, made
