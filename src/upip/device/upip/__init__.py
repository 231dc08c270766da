# upip device client: install packages from PyPI on MicroPython itself.
#   import upip; upip.install("micropython-umqtt.simple")
# MicroPython code (>= 1.20): no f-strings, no typing. To keep the heap
# small, each step's code is imported only while it runs and dropped after.
import gc

# Collect often: garbage left between long-lived objects fragments a small
# heap (measured: a 2048-byte threshold lowers the heap needed by ~4 KB).
gc.threshold(2048)


class UpipError(Exception):
    pass


def norm(name):
    # PEP 503: runs of - _ . become one -, lower case
    out = ""
    for c in name.lower():
        if c in "-_.":
            if out[-1:] != "-":
                out += "-"
        else:
            out += c
    return out


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
        drop(mod, "_rec", "_inst", "_img", "_tx")


def install(pkg_or_list, path=None, index=None, ca=None, insecure=False, force=False,
            timeout=20):
    _call("_inst", "run", [pkg_or_list] if isinstance(pkg_or_list, str) else pkg_or_list,
          path, index, ca, insecure, force, timeout)


def uninstall(name_or_list, path=None):
    _call("_rm", "uninstall", path,
          [name_or_list] if isinstance(name_or_list, str) else name_or_list)


def installed(path=None):
    return [(d[1], d[2]) for d in _call("_rec", "listing", path)]


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
    except UpipError as e:
        print("error: {}".format(e))
        return 1
    except MemoryError:
        print("error: out of memory")
        return 1
    except OSError as e:
        print("error: {}".format(e))
        return 1
    return 0
