# upip device client: install packages from PyPI on MicroPython itself.
#   import upip; upip.install("micropython-umqtt.simple")
# MicroPython code (>= 1.20): no f-strings, no typing. To keep the heap
# small, each step's code is imported only while it runs and dropped after.


class UpipError(Exception):
    pass


def part(name):
    # Import upip.<name> for one step; drop() forgets it again.
    __import__("upip." + name)
    return globals()[name]


def drop(*names):
    import sys
    for n in names:
        sys.modules.pop("upip." + n, None)
        globals().pop(n, None)


def install(pkg_or_list, path=None, index=None, ca=None, insecure=False, force=False,
            timeout=20):
    if isinstance(pkg_or_list, str):
        pkg_or_list = [pkg_or_list]
    try:
        part("_inst").run(pkg_or_list, path, index, ca, insecure, force, timeout)
    finally:
        drop("_inst")


def uninstall(name_or_list, path=None):
    if isinstance(name_or_list, str):
        name_or_list = [name_or_list]
    try:
        part("_img").uninstall(path, name_or_list)
    finally:
        drop("_img", "_rec")


def installed(path=None):
    try:
        return [(d[1], d[2]) for d in part("_rec").dists(path)]
    finally:
        drop("_rec")


def help():
    try:
        part("_help")
    finally:
        drop("_help")
