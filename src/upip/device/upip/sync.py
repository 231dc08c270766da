# upip device client: the last step of an install: make the moves the
# journal lists (store wrote it), then drop the stage. After a failure, or
# on the next run after a crash, core undoes them.
import os

from upip import UpipError
from upip.core import oserror, readlines, remove, rollback, stat


def run(o):
    try:
        flush(o.path)
    except MemoryError:
        raise UpipError(o.path + ": out of memory while committing")
    except OSError as e:
        raise UpipError("{}: cannot commit: {}".format(o.path, oserror(e)))
    o.step = None


def flush(path):
    ops = [p for p in readlines(path + "/.upip-tx/journal") if len(p) == 3 and p[0] != "root"]
    try:
        for op, i, rel in ops:
            t = path + "/" + rel
            if op == "mkdir":
                os.mkdir(t)
                continue
            if stat(t):
                if stat(t) & 0x4000:
                    raise UpipError("{} is a directory in the image".format(t))
                os.rename(t, path + "/.upip-tx/o" + i)
            if op == "put":
                os.rename(path + "/.upip-tx/n" + i, t)
        os.rename(path + "/.upip-tx/journal", path + "/.upip-tx/committed")
    except BaseException:
        rollback(path)
        raise
    remove(path + "/.upip-tx")
    for op, i, rel in ops:  # the folders the deleted files leave empty
        while op == "del" and "/" in rel:
            rel = rel[:rel.rfind("/")]
            try:
                os.rmdir(path + "/" + rel)
            except OSError:
                break
