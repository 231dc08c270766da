# MicroPython code: the import hook the other shims share. Once imported,
# an import of a name in HIDDEN fails as on firmware without that module,
# and one of a name in SWAPPED gets the object there instead of the module
# (the shims fill both); every other import is the firmware's own.
import builtins

HIDDEN = set()
SWAPPED = {}
_import = builtins.__import__


def _swap(name, *args):
    if name in HIDDEN:
        raise ImportError("no module named '" + name + "'")
    return SWAPPED[name] if name in SWAPPED else _import(name, *args)


builtins.__import__ = _swap
