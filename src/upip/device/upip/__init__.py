# upip device client: install packages from PyPI on MicroPython itself.
#   import upip; upip.install("micropython-umqtt.simple")
# MicroPython code (>= 1.20): no f-strings, no typing. The heap is the
# budget, so:
# - each step's code is imported only while it runs and dropped after
#   (run() below); this module, which stays, only drives the steps;
# - every step that holds a big buffer (TLS, the inflate window) runs alone:
#   the network step saves what it fetches into the stage and closes the
#   connection before the next step reads it back;
# - every name, and every string of 10 characters or fewer, is a qstr that
#   never leaves the heap, and the qstr table grows in doubling blocks (20,
#   40, 80, 160 entries; measured: one block allocated mid-install is a
#   1.9 KB island): names are few, shared, and where the meaning allows,
#   ones the firmware already has (path, name, url, data, count, ...);
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


def norm(name):
    # PEP 503: runs of - _ . become one -, lower case
    name = name.lower().replace("_", "-").replace(".", "-")
    while "--" in name:
        name = name.replace("--", "-")
    return name


def load(name):
    # Import upip.<name> for one step (run() forgets it again). Collecting
    # first puts the new code in the lowest holes, packed.
    gc.collect()
    __import__("upip." + name)
    return globals()[name]


def run(module, name, *args):
    # module.name(*args), with module and what it loaded dropped after
    import sys
    try:
        return getattr(load(module), name)(*args)
    finally:
        for name in (module, "_tx", "_img", "_inst", "select"):
            sys.modules.pop("upip." + name, None)
            globals().pop(name, None)
        gc.collect()


def install(pkg_or_list, path=None, index=None, ca=None, insecure=False, force=False,
            timeout=20):
    o = run("_inst", "start", [pkg_or_list] if isinstance(pkg_or_list, str) else
            pkg_or_list, path, index, ca, insecure, force, timeout)
    run("_dir", "start", o)  # -> o.path, o.mkdir; the stage is open
    try:
        while run("_inst", "next", o):  # -> o.name, o.target (a pin), o.urls
            try:
                for url in o.urls:  # the release's JSON, saved in the stage
                    run("get", "run", o, url, "/.upip-tx/j")
                    if o.code != 404:
                        break
                run("json", "run", o)  # -> o.name, o.version, o.url, o.sha256
                run("get", "run", o, o.url, "/.upip-tx/a")  # the archive, hash checked
                run("deflate", "run", o)  # inflated into "t"
                run("unpack", "run", o)  # -> o.data (the files), o.deps, o.modules
                run("_inst", "run", o)  # the files chosen, the dependencies queued
            except MemoryError:  # (said without loading more code)
                raise UpipError(o.name + ": out of memory")
            except Exception as e:
                raise run("_dir", "throw", o, e)
        run("_img", "run", o.path, (), o.mkdir, o.force, o.buf)
        o.done = True
    finally:
        if not o.done:
            o.data = o.deps = None
            close(o.path, o.mkdir)


def close(path, made):
    # Drop the stage (flat: files only) and the folders made for DIR. Here,
    # not in a module: it must work in a heap too full to load one.
    import os
    try:
        for e in os.ilistdir(path + "/.upip-tx"):
            os.remove(path + "/.upip-tx/" + e[0])
        os.rmdir(path + "/.upip-tx")
        for e in made:
            os.rmdir(e)
    except OSError:  # gone already (a failed commit rolls back), or not empty
        pass


def uninstall(pkg_or_list, path=None):
    run("remove", "run", path, [pkg_or_list] if isinstance(pkg_or_list, str) else pkg_or_list)


def installed(path=None):
    return run("_dir", "listing", path)


def help():
    run("_help", "run")


def main(argv):
    # micropython -m upip ...: 0 on success, 1 on error, 2 on bad usage
    a = run("argv", "run", argv)
    if a == 0:
        help()
    if type(a) is int:
        return a
    try:
        if a[0] == "list":
            for name, version in installed(a[2].get("path")):
                print(name, version)
        elif a[0] == "uninstall":
            uninstall(a[1], a[2].get("path"))
        else:
            install(a[1], **a[2])
            print("Done")
    except (UpipError, OSError) as e:
        print("error: {}".format(e))
        return 1
    except MemoryError:
        print("error: out of memory")
        return 1
    return 0
