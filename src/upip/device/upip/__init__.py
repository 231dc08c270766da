# upip device client: install packages from micropython-lib's mip index,
# package.json manifests and PyPI on MicroPython itself.
#   import upip; upip.install("micropython-umqtt.simple")
# MicroPython code (>= 1.20): no f-strings, no typing. The heap is the
# budget, so:
# - an install is a chain of steps, each a module of its own with one
#   function, run(o), that sets o.step to the step after it (dir and
#   start; then for each package next (which lists the URLs of its
#   document), get,
#   json, get, deflate, unpack, update, add; zip instead of deflate and
#   unpack for a wheel; range after json for a range; from the mip index
#   or a package.json get, [index, get,] mip, get, add; one .py file:
#   get, add; then next again; check, store and sync commit; each request
#   get asks is made by connect and read, which go back to get; over
#   HTTPS, tls comes before a package's first connect and makes its
#   context). This module, which stays for the whole run, only loads each
#   step, runs it and drops it again (run() below), so only one step's
#   code is ever on the heap;
# - nothing that grows with the releases of a project or the files of a
#   package or of the image stays on the heap: steps stream what they read
#   and keep their lists in the stage, read again when needed;
# - every step that holds a big buffer (TLS, the inflate window) runs alone:
#   the network step saves what it fetches into the stage and closes the
#   connection before the next step reads it back; each step makes its own
#   512-byte buffer, which goes with it;
# - every name, and every string of 10 characters or fewer, is a qstr that
#   never leaves the heap, and the qstr table grows in doubling blocks (20,
#   40, 80, 160 entries; measured: one block allocated mid-install is a
#   1.9 KB island): names are few, shared, and where the meaning allows,
#   ones the firmware already has (path, name, url, next, get, update, ...);
#   short strings are bytes (b"..." is no qstr) where the code reads bytes.
#   str[i] is avoided (it interns the character).
import gc

# Collect often: garbage left between long-lived objects fragments a small
# heap (measured: a 1024-byte threshold lowers the heap needed by 3 KB).
gc.threshold(1024)


class UpipError(Exception):
    pass


class Opts:
    pass


def load(name):
    # upip.<name>, imported for one use: it leaves sys.modules at once, and
    # the heap when its last user is done. Collecting first puts the new
    # code in the lowest holes, packed.
    import sys
    gc.collect()
    try:
        name = __name__ + "." + name  # ("upip." would be a qstr)
        __import__(name)
        return sys.modules[name]
    finally:
        clear()


def clear():
    # forget every upip.* module (the steps, and what they imported)
    import sys
    p = __name__ + "."
    for k in list(sys.modules):
        if k[:len(p)] == p:
            sys.modules.pop(k)
            globals().pop(k[len(p):], None)


def run(name, *args):
    # upip.<name>.run(*args), its code dropped after
    try:
        return load(name).run(*args)
    finally:
        clear()
        gc.collect()


def install(package, path=None, index=None, ca=None, insecure=False, force=False,
            timeout=15, **kw):
    # package: a spec, or a list of them (named as the firmware's own: no
    # qstr). kw: mip_index=, the mip index's URL (True, the default:
    # micropython-lib's; False: none); boot_files=True: main.py, boot.py and
    # usetup.py at the top of DIR land too. Read by start (their names would
    # be qstrs here, for good)
    o = None
    try:  # DIR locked (alone on the heap), then the state
        o = run("dir", path)  # (DIR, the folders made for it)
        o = run("start", o, [package] if isinstance(package, str) else package,
                index, ca, insecure, force, timeout, kw)
    except BaseException as e:
        if type(o) is tuple:  # locked, but no state (a bad argument, no memory...)
            close(*o)
        if isinstance(e, OSError):
            raise run("throw", None, e)
        raise
    try:
        o = copy(o)
        while o.step:
            try:
                run(o.step, o)
                o = copy(o)
            except MemoryError:  # (said without loading more code)
                raise UpipError((o.name or o.path) + ": out of memory")
            except Exception as e:
                raise run("throw", o, e)
    finally:
        if o.step:
            r = o.request  # (one cut short between connect and read: its socket)
            if r and len(r) > 7 and r[7]:
                r[7].close()
            close(o.path, o.mkdir)


def copy(o):
    # o, copied with its strings, bytes and lists once the step that set
    # them is gone: the copies go into the lowest holes, where the step's
    # code was, instead of staying behind as islands in the middle of the
    # free heap (measured: the inflate step then needs 1 KB less heap)
    p = Opts()
    for k, v in o.__dict__.items():
        setattr(p, k, v[:] if type(v) in (str, bytes, list) else v)
    return p


def close(path, mkdir):
    # Drop the stage (flat: files only) and the folders made for DIR. Here,
    # not in a module: it must work in a heap too full to load one (what
    # the failed step left is collected first).
    import os
    gc.collect()
    path += "/.upip-tx"
    try:
        for e in os.ilistdir(path):
            os.remove(path + "/" + e[0])
        os.rmdir(path)
        for e in mkdir:
            os.rmdir(e)
    except OSError:  # gone already (a failed commit rolls back), or not empty
        pass


def __getattr__(name):
    # upip.help(), upip.uninstall(package, path=None),
    # upip.installed(path=None): loaded when asked for
    return getattr(load("_api"), name)
