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
    # The journal's moves, read as they are made (a journal has a line a
    # file: it is not held on the heap); then the folders its deletions left
    # empty removed, and the stage. Also how dir finishes the commit of a
    # run that is gone (its stage holds "committed", no journal).
    j = path + "/.upip-tx/journal"
    try:
        for p in readlines(j):
            if len(p) != 3 or p[0].encode() == b"root":
                continue
            op, i, rel = p
            op = op.encode()  # (compared as bytes: "root" and the like would be qstrs)
            t = path + "/" + rel
            if op == b"mkdir":
                os.mkdir(t)
                continue
            if stat(t):
                if stat(t) & 0x4000:
                    raise UpipError("{} is a directory in the image".format(t))
                os.rename(t, path + "/.upip-tx/o" + i)
            if op == b"put":
                os.rename(path + "/.upip-tx/n" + i, t)
        if stat(j):
            os.rename(j, path + "/.upip-tx/committed")
    except BaseException:
        reverse(path)
        raise
    for p in readlines(path + "/.upip-tx/committed"):
        rel = p[2] if len(p) == 3 and p[0].encode() == b"del" else ""
        while "/" in rel:
            rel = rel[:rel.rfind("/")]
            try:
                os.rmdir(path + "/" + rel)
            except OSError:
                break
    remove(path + "/.upip-tx")


def reversed(path):
    # the lines of a records-style file, last first, split at tabs (none if
    # it is missing), read from the end 512 bytes at a time (named as the
    # built-in: no new qstr)
    try:
        f = open(path, "rb")
    except OSError:
        return
    with f:
        end = f.seek(0, 2)
        rest = b""
        while end > 0:
            k = min(512, end)
            end -= k
            f.seek(end)
            lines = (f.read(k) + rest).split(b"\n")
            rest = lines.pop(0)  # (it may begin in the block before)
            while lines:
                line = lines.pop()
                if line:
                    yield line.decode().split("\t")
        if rest:
            yield rest.decode().split("\t")


def reverse(path):
    # the rollback: the journal's moves undone, last first (named as the
    # firmware's own: no qstr)
    roots = []
    for p in reversed(path + "/.upip-tx/journal"):
        if len(p) != 3:
            continue
        op, i, rel = p
        op = op.encode()
        if op == b"root":
            roots.append(rel)
            continue
        t = path + "/" + rel
        if op == b"tree":  # a folder the host staged whole
            if stat(t) and not stat(path + "/.upip-tx/t" + i):
                os.rename(t, path + "/.upip-tx/t" + i)
            continue
        if op == b"mkdir":
            try:
                os.rmdir(t)
            except OSError:
                pass
            continue
        if op == b"put" and not stat(path + "/.upip-tx/n" + i) and stat(t):
            # the new file went in: back to the stage, not deleted, so that an
            # undo cut short and run again never takes the old file it has
            # put back for the new one (as the host's upip/transaction.py)
            os.rename(t, path + "/.upip-tx/n" + i)
        if stat(path + "/.upip-tx/o" + i):
            os.rename(path + "/.upip-tx/o" + i, t)
    remove(path + "/.upip-tx")
    for rel in roots:  # (read last first: the deepest first)
        try:
            os.rmdir(rel)
        except OSError:
            break
