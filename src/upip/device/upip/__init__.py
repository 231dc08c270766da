# upip device client: install packages from PyPI on MicroPython itself.
#   import upip; upip.install("micropython-umqtt.simple")
# MicroPython code (>= 1.20): no f-strings, no typing. To keep the heap
# small, each step's code is imported only while it runs and dropped after,
# and this module, which stays, only drives the steps. Every name and short
# string in the client becomes a qstr that never leaves the heap, so names
# are few and shared, and str[i] is avoided (it interns the character).
import gc

# Collect often: garbage left between long-lived objects fragments a small
# heap (measured: a 2048-byte threshold lowers the heap needed by ~4 KB).
gc.threshold(2048)

SPARE = 5504  # one piece for the inflate state and window (4 KiB + 1.3 KiB)


class UpipError(Exception):
    pass


class Opts:
    pass


def norm(name):
    # PEP 503: runs of - _ . become one -, lower case
    name = name.lower().replace("_", "-").replace(".", "-")
    while "--" in name:
        name = name.replace("--", "-")
    return name


def part(name):
    # Import upip.<name> for one step; drop() forgets it again. Collecting
    # first puts the new code in the lowest holes, packed.
    gc.collect()
    __import__("upip." + name)
    return globals()[name]


def drop(*names):
    import sys
    for n in names:
        sys.modules.pop("upip." + n, None)
        globals().pop(n, None)


try:  # intern every name first, in a heap still in one piece (see bootstrap)
    part("_q")
except ImportError:  # running from sources: nothing generated
    pass
drop("_q")


def _call(mod, fn, *args):
    try:
        return getattr(part(mod), fn)(*args)
    finally:
        drop(mod, "_img", "_tx", "_net", "_sel")


def _step(o, mod, fn):
    # One install step: mod.fn(o), with the spare block (taken while the
    # heap was in one piece) freed once the code is in: the step's big
    # allocations go in its place, not into holes between the code.
    try:
        f = getattr(part(mod), fn)
        o.spare = None
        gc.collect()
        f(o)
    finally:
        f = None
        drop(mod)
        gc.collect()
        try:
            o.spare = bytearray(SPARE)
        except MemoryError:
            pass


def install(pkg_or_list, path=None, index=None, ca=None, insecure=False, force=False,
            timeout=20):
    o = _call("_inst", "start", [pkg_or_list] if isinstance(pkg_or_list, str) else
              pkg_or_list, path, index, ca, insecure, force, timeout)
    try:
        while _call("_inst", "next", o):
            try:
                _step(o, "_net", "meta")  # -> o.dname, o.version, o.url, o.sha256
                _step(o, "_net", "run")  # the archive, its hash checked
                _step(o, "_tar", "run")  # -> o.files, o.deps, ...
                _call("_inst", "run", o)  # the files chosen, the dependencies queued
            except Exception as e:
                raise _call("_inst", "why", o, e)
        o.spare = None
        _call("_inst", "commit", o)
        o.ok = True
    finally:
        o.spare = None
        _call("_inst", "end", o)


def uninstall(name_or_list, path=None):
    _call("_rm", "uninstall", path,
          [name_or_list] if isinstance(name_or_list, str) else name_or_list)


def installed(path=None):
    return [(d[1], d[2]) for d in _call("_tx", "listing", path)]


def help():
    part("_help")
    drop("_help")


def main(argv):
    # micropython -m upip ...: 0 on success, 1 on error, 2 on bad usage
    a = _call("_cli", "parse", argv)
    if a == 0:
        help()
    if type(a) is int:
        return a
    cmd, names, kw = a
    try:
        if cmd == "list":
            for name, version in installed(kw.get("path")):
                print(name, version)
        elif cmd == "uninstall":
            uninstall(names, kw.get("path"))
        else:
            install(names, **kw)
            print("Done")
    except (UpipError, OSError) as e:
        print("error: {}".format(e))
        return 1
    except MemoryError:
        print("error: out of memory")
        return 1
    return 0
