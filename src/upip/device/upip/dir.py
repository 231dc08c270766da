# upip device client: the target DIR around a run: found (the default),
# and, for a writer, locked: one writer at a time, host and device alike.
# The stage DIR/.upip-tx is the lock: one mkdir takes it, and its pid file
# names the owner as the host's upip.image_lock writes it, "PID START" (the
# process id and its start time in clock ticks, from /proc/self/stat, so a
# reused pid is not taken for the owner). Where there is no /proc (a board;
# the unix port on macOS), it is written empty: a board's client is the
# only program on its board, so a lock it finds naming no one is left by a
# run that a reset cut short. A lock whose owner is gone (its /proc entry
# missing, or another start time) or names no one is stale: the
# transaction it guarded is finished or undone, and the lock taken. One
# whose owner lives (or cannot be asked about) is waited for, up to
# UPIP_LOCK_WAIT seconds (20; the unix port's environment), then the run
# stops naming it. Readers (list) take no lock and never touch a stage.
import os

from micropython import const

from upip import UpipError
from upip.core import stat

_WAIT = const(20)  # seconds a second writer waits for the first


def run(path):
    # the first step of an install: mount(path), alone on the heap (start
    # then makes the state of the run)
    return mount(path)


def find(path):
    # -> DIR: path, or the default: the first .../lib on sys.path, not in
    # ROM or frozen
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
    return path


def mount(path):
    # find(path), then DIR (and its parents) made if needed, and the lock
    # taken. -> (DIR, the folders made)
    path = find(path)
    made = []
    p = path
    while p and not stat(p) & 0x4000:
        made.append(p)
        p = p[:p.rfind("/")]
    for p in made[::-1]:
        try:
            os.mkdir(p)
        except OSError:  # another writer made it first: fine, but not ours to remove
            if not stat(p) & 0x4000:
                raise
            made.remove(p)
    try:
        lock(path)
    except BaseException:  # (refused, interrupted, or a full disk)
        for p in made:
            try:
                os.rmdir(p)
            except OSError:
                break
        raise
    return path, made


def lock(path):
    # Take DIR's lock (see above). Its helpers' names and parameters are ones
    # the firmware has, and its paths long strings: a new name, or a string
    # of 10 characters or fewer, would stay on the heap for the whole run.
    import time

    import upip
    wait = _WAIT * 1000
    try:
        wait = int(float(os.getenv(b"UPIP_LOCK_WAIT".decode())) * 1000)
    except (AttributeError, TypeError, ValueError):  # (no getenv on a board)
        pass
    start = time.ticks_ms()
    said = False
    while True:
        try:
            os.mkdir(path + "/.upip-tx")
            break
        except OSError as e:
            if not stat(path + "/.upip-tx"):  # not "it exists": no room, read-only...
                raise OSError(e.args[0], path + ": cannot prepare it")
        who = read(path)
        if who is None:  # gone meanwhile: try again at once
            continue
        if not locked(who):  # stale: finished or undone, as the host does
            from upip.sync import flush, reverse  # (loaded only then)
            if stat(path + "/.upip-tx/journal"):
                reverse(path)
                print("warning: undid an install that was interrupted; {} is as "
                      "before".format(path))
            else:  # committed (then the folders its deletions emptied go), or nothing yet
                flush(path)
            continue
        i = time.ticks_diff(time.ticks_ms(), start)
        who = "another upip (pid {})".format(who.split()[0])
        if i >= wait:
            raise UpipError("{}: {} is changing this image; try again when it is "
                            "done".format(path, who))
        if not said and i > 1000:
            said = True
            print("waiting for {} to finish with {}".format(who, path))
        time.sleep_ms(50)
    try:  # (written aside, then renamed: a reader never sees it half written)
        with open(path + "/.upip-tx/owner", "wb") as f:
            f.write(id("self"))
        os.rename(path + "/.upip-tx/owner", path + "/.upip-tx/pid")
    except BaseException as e:  # (the stage is ours: dropped as close does, in any heap)
        upip.close(path, ())
        if isinstance(e, OSError):  # (a full disk)
            raise OSError(e.args[0] if e.args else 0, path + ": cannot prepare it")
        raise


def read(path):
    # The owner line of DIR's lock, None if there is no lock now. One just
    # made whose owner line is not written yet (or is empty for now: the
    # host writes it in place) is given 0.2 s.
    import time
    for _ in range(20):
        try:
            with open(path + "/.upip-tx/pid") as f:
                who = f.read()
            if who:
                return who
        except OSError:
            if not stat(path + "/.upip-tx"):
                return None
        time.sleep_ms(10)
    return ""


def id(name):
    # The identity of the process name (a pid, or "self": this one) as a
    # lock names its owner: b"PID START" from /proc/PID/stat (fields 1 and
    # 22), b"" where there is none. (Named as a built-in: no new qstr.)
    try:
        with open("/proc/{}/stat".format(name), "rb") as f:
            p = f.read()
    except OSError:
        return b""
    i = p.rfind(b")") + 2  # (after the command's name, which may hold spaces)
    for _ in range(19):  # (found, not split: 52 strings would fill a small heap)
        i = p.find(b" ", i) + 1
    return p[:p.find(b" ")] + b" " + p[i:p.find(b" ", i)]


def locked(value):
    # whether the process the owner line value names still runs (so holds
    # the lock): gone when /proc says so; alive when nothing can tell (no
    # /proc); a line naming no one is a board's, left by a reset
    p = value.encode().split()
    if not p:
        return False
    s = id(p[0].decode())
    if not s:
        return not id("self")  # (no /proc: cannot tell)
    return len(p) < 2 or s.split()[1] == p[1]
