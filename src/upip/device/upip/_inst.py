# upip device client: one install run. Breadth-first over dependencies, each
# package once; everything is staged in DIR/.upip-tx and committed together,
# so an error anywhere leaves DIR as it was.
import gc
import os

from upip import UpipError, drop, norm, part

SPARE = 5504  # one piece for the inflate state and window (4 KiB + 1.3 KiB), measured best


class Opts:
    pass


def room(o):
    # Free the spare block just before a step's big allocations: they go in
    # its place, not into holes between the modules' code.
    o.spare = None
    gc.collect()


def keep(o):
    gc.collect()
    try:
        o.spare = bytearray(SPARE)
    except MemoryError:
        o.spare = None


def run(specs, path, index, ca, insecure, force, timeout):
    o = Opts()
    o.path = path or part("_rec").lib_path()
    drop("_rec")
    o.index = (index or "https://pypi.org/pypi").rstrip("/")
    o.ca, o.insecure, o.force, o.timeout, o.warned = ca, insecure, force, timeout, False
    o.buf = memoryview(bytearray(512))  # the one buffer every step shares
    o.spare = bytearray(SPARE)  # taken while the heap is still in one piece
    stage = o.path + "/.upip-tx/"
    part("_tx").recover(o.path)
    made = part("_tx").begin(o.path)  # (no local name: drop() must free the module)
    drop("_tx")
    ok = False
    m = files = chosen = None
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
            key = norm(name)
            if key in seen:
                continue
            seen.add(key)
            have = part("_rec").version(o.path, key)
            drop("_rec", "_tx")
            if have is not None and (pin is None or pin == have):
                if requested:
                    print("{} {} is already installed".format(name, have))
                continue
            if rng:
                print("warning: {}{}: the device takes the newest release (upip on a PC "
                      "resolves ranges)".format(name, rng))
            try:
                # Each step: load its code, free the spare, run, drop, take it back.
                m = part("_pypi")
                part("_net")
                room(o)
                dname, version, url, sha = m.meta(name, pin, o)
                m = None
                drop("_pypi")
                keep(o)
                print("Installing {} {}".format(dname, version))
                m = part("_net")
                room(o)
                got = m.fetch(url, o, stage + "a")
                m = None
                drop("_net")
                keep(o)
                if got != sha:
                    raise UpipError("sha256 of {} is {}, the index says {}: corrupt or tampered "
                                    "with".format(url, got, sha))
                m = part("_tar")
                room(o)
                files, deps, build, top, slot = m.unpack(stage + "a", o, slot)
                m = None
                drop("_tar")
                keep(o)
                chosen = None
                if build:  # a standard sdist: only its packages and modules
                    chosen = part("_sel").select([x[1] for x in files], top)
                    drop("_sel")
                with open(stage + "new", "a") as out:
                    out.write("dist\t{}\t{}\t{}\t{}\t{}\n".format(dname, version, requested,
                                                                  sha, url))
                    for r in deps:
                        out.write("req\t{}\n".format(r))
                    for n, rel, h, size in files:
                        dest = rel if chosen is None else chosen.get(rel)
                        if dest:
                            out.write("file\t{}\t{}\t{}\t{}\n".format(dest, h, size, n))
                        else:
                            os.remove(stage + "n" + str(n))
                files = chosen = None
                os.remove(stage + "a")
            except UpipError as e:
                raise UpipError("{}: {}".format(name, e))
            except MemoryError:
                raise UpipError(name + ": out of memory")
            except OSError as e:
                raise UpipError("{}: {}".format(name, part("_net").oserror(e)))
            finally:
                drop("_pypi", "_net", "_tar")
            todo += [(d, 0) for d in deps]
        o.spare = None
        try:
            part("_img").commit(o.path, (), made, o.force, o.buf)
        except MemoryError:
            raise UpipError(o.path + ": out of memory while committing")
        except OSError as e:
            raise UpipError("{}: cannot commit: {}".format(o.path, part("_net").oserror(e)))
        ok = True
    finally:
        m = files = chosen = o.spare = None  # let go of everything before cleaning up
        drop("_img", "_tx", "_rec", "_spec", "_pypi", "_net", "_tar", "_sel")
        if not ok:
            gc.collect()
            part("_tx").abort(o.path, made)
            drop("_tx")
