# upip device client: one install run. Breadth-first over dependencies, each
# package once; everything is staged in DIR/.upip-tx and committed together,
# so an error anywhere leaves DIR as it was.
import gc
import os

from upip import UpipError, drop, part

INDEX = "https://pypi.org/pypi"


class Opts:
    def __init__(self, path, index=None, ca=None, insecure=False, force=False, timeout=20):
        self.path = path or lib_path()
        self.index = (index or INDEX).rstrip("/")
        self.ca = ca
        self.insecure = insecure
        self.force = force
        self.timeout = timeout
        self.warned = False
        self.buf = memoryview(bytearray(512))  # the one buffer every step shares


def lib_path():
    import sys
    for p in sys.path:
        if p[-4:] == "/lib" and p[:4] != "/rom" and ".frozen" not in p:
            if p[:1] == "~":
                p = (os.getenv("HOME") or "") + p[1:]
            return p
    raise UpipError("no .../lib folder on sys.path: pass a path")


def oserror(e):
    n = e.args[0] if e.args else 0
    return {28: "no space left on device", 110: "timed out", 116: "timed out",
            104: "connection reset", 111: "connection refused", 113: "no route to host",
            5: "I/O error"}.get(n, "error " + str(e))


def run(specs, path, index, ca, insecure, force, timeout):
    o = Opts(path, index, ca, insecure, force, timeout)
    part("_img").recover(o.path)
    made = part("_img").begin(o)  # (no local name: drop() must free the module)
    drop("_img")
    rec = part("_rec")
    ok = False
    try:
        todo = [(s, 1) for s in specs]
        seen = set()
        slot = 0
        for s, requested in todo:
            p = part("_spec").spec(s)
            drop("_spec")
            if p is None:
                continue
            name, pin, rng = p
            key = rec.norm(name)
            if key in seen:
                continue
            seen.add(key)
            have = rec.version(o.path, key)
            if have is not None and (pin is None or pin == have):
                if requested:
                    print("{} {} is already installed".format(name, have))
                continue
            if rng:
                print("warning: {}{}: the device takes the newest release (upip on a PC "
                      "resolves ranges)".format(name, rng))
            try:
                dname, version, url, sha = part("_pypi").meta(name, pin, o)
                drop("_pypi", "_net")
                print("Installing {} {}".format(dname, version))
                arch = o.path + "/.upip-tx/a"
                got = part("_net").download(url, arch, o)
                drop("_net")
                if got != sha:
                    raise UpipError("sha256 of {} is {}, the index says {}: corrupt or tampered "
                                    "with".format(url, got, sha))
                gc.collect()
                with open(o.path + "/.upip-tx/new", "a") as out:
                    out.write("dist\t{}\t{}\t{}\t{}\t{}\n".format(dname, version, requested,
                                                                  sha, url))
                    slot, deps = part("_tar").unpack(arch, o, slot, out)
                os.remove(arch)
            except UpipError as e:
                raise UpipError("{}: {}".format(name, e))
            except MemoryError:
                raise UpipError(name + ": out of memory")
            except OSError as e:
                raise UpipError("{}: {}".format(name, oserror(e)))
            finally:
                drop("_pypi", "_net", "_tar")
                gc.collect()
            todo += [(d, 0) for d in deps]
        part("_img").commit(o, (), made)
        ok = True
    finally:
        if not ok:
            part("_img").abort(o, made)
        drop("_img", "_rec", "_spec")
