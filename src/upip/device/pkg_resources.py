# pkg_resources for MicroPython (and CPython): read a package's data files
# from its R.py resource module when there is one (frozen firmware, ROMFS,
# .mpy-only images), else from the file beside the package.
#
#   import pkg_resources
#   pkg_resources.resource_stream(__name__, "data/page.html").read()
#   pkg_resources.resource_string("mypkg", "data/image.png")
#
# R.py (written by `upip sdist`, `sdist_upip` or `upip bin2res`) holds
# R = {"path/relative/to/package": b"..."} for the top-level package.
import sys

__version__ = "1.0.0"


def _mod(name):
    __import__(name)
    return sys.modules[name]


def _r(name, key):
    try:
        r = _mod(name + ".R").R
    except ImportError:
        return None
    return r.get(key)


def _find(package, resource):
    # -> bytes from an R module, or (None, path of the file)
    mod = _mod(package)
    parts = package.split(".")
    where = getattr(mod, "__path__", None)
    if where is None:
        # a module: its resources sit beside it, in its package
        parts = parts[:-1]
    elif not isinstance(where, str):
        where = list(where)[0]
    if parts:
        data = None
        if where is not None and len(parts) > 1:
            data = _r(package, resource)
        if data is None:
            data = _r(parts[0], "/".join(parts[1:] + [resource]))
        if data is not None:
            return data, None
    if where is None:
        f = getattr(mod, "__file__", None)
        where = f.rsplit("/", 1)[0] if f and "/" in f else "."
    return None, where + "/" + resource


def _open(package, resource, path):
    try:
        return open(path, "rb")
    except OSError:
        raise OSError(
            "no resource {!r} in package {!r}: not in its R.py, no file {}".format(
                resource, package, path
            )
        )


def resource_stream(package, resource):
    # a binary stream (read(), readinto(), close(), with) of the resource
    data, path = _find(package, resource)
    if data is None:
        return _open(package, resource, path)
    import io

    return io.BytesIO(data)


def resource_string(package, resource):
    # the resource's bytes
    data, path = _find(package, resource)
    if data is None:
        with _open(package, resource, path) as f:
            data = f.read()
    return data
