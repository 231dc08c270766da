# upip device client: the last step of an install: make the moves the
# journal lists (store wrote it), then drop the stage; or undo them, after
# a failure or, on the next run, a crash. The stage DIR/.upip-tx holds n<i>
# new files, o<i> replaced ones (the host also t<i>, new folders whole) and
# the journal of moves, undone in reverse: the host and the device can each
# finish or undo the other's.
import os

from upip import UpipError
from upip.core import guard, readlines, remove, stat


def run(o):
    guard(o.path, flush, o.path)
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


def rollback(path):
    ops = [p for p in readlines(path + "/.upip-tx/journal") if len(p) == 3]
    for op, i, rel in reversed(ops):
        if op == "root":
            continue
        t = path + "/" + rel
        if op == "tree":  # a folder the host staged whole
            if stat(t) and not stat(path + "/.upip-tx/t" + i):
                os.rename(t, path + "/.upip-tx/t" + i)
            continue
        if op == "mkdir":
            try:
                os.rmdir(t)
            except OSError:
                pass
            continue
        if op == "put" and not stat(path + "/.upip-tx/n" + i) and stat(t):
            os.remove(t)
        if stat(path + "/.upip-tx/o" + i):
            os.rename(path + "/.upip-tx/o" + i, t)
    remove(path + "/.upip-tx")
    for op, i, rel in reversed(ops):
        if op == "root":
            try:
                os.rmdir(rel)
            except OSError:
                break
