# upip device client: the calls besides install, loaded when one is made
# (upip.__getattr__): help, uninstall and installed; and -m upip's list and
# uninstall.
from upip import UpipError, close
from upip.core import dist, norm
from upip.dir import find, mount


def help():
    print("""upip - install MicroPython packages from PyPI, micropython-lib and package.json on the device
  micropython -m upip install [-p DIR] [-r FILE] [-i INDEX] [--mip-index URL | --no-mip-index]
                              [--ca DER] [--insecure] [--force] [--boot-files]
                              [--timeout S] PKG...
  micropython -m upip uninstall [-p DIR] NAME...
  micropython -m upip list [-p DIR]
  import upip; upip.install("umqtt.simple", path=None, index=None, mip_index=True)
PKG: name (micropython-lib's mip index first, then PyPI's micropython-NAME, then NAME),
  mip:NAME or pypi:NAME (that source only), a range (name>=1.0,<2), name==1.2 or name@1.2,
  a package.json URL or github:ORG/REPO[/PATH][@REF] (also gitlab:, codeberg:), a .py URL.
DIR: the first .../lib folder on sys.path. INDEX: https://pypi.org/pypi.
URL: https://micropython.org/pi/v2 (files checked against its hashes).
TLS certificates are checked against the DER CA file given with --ca, or upip/ca.der;
without one, upip warns (--insecure: skip the check and the warning).
A dependency the firmware has built in or frozen (os, time, ...) is skipped.
--force: replace files no package owns, and install files that would hide
a built-in module upip itself needs (as old PyPI packages have: os/, time.py;
hiding another built-in, such as errno, is only warned about).
--boot-files: also install main.py, boot.py and usetup.py at the top of DIR,
which a board runs by itself at start (left out by default).
--timeout S: the longest wait for a server (15 s); a request ends by 4 x S, a
download is at most the size its index declares (else 64 MiB) and must come
at 2048 bytes a second once it has had S seconds.""")


def run(args):
    # micropython -m upip list|uninstall: args from argv (an OSError said in
    # words, as an install's)
    try:
        if args[0] == "list":
            for d in installed(args[2].get("path")):
                print(d[0], d[1])
        else:
            uninstall(args[1], args[2].get("path"))
    except OSError as e:
        from upip.throw import oserror
        raise UpipError(oserror(e))


def installed(path=None):
    # -> [(name, version)] of the dists installed in DIR
    path = find(path)
    return [(d[1], d[2]) for d in dist(path)]


def uninstall(package, path=None):
    # one journaled commit that removes the dists and the files only they
    # own (the records read once the lock is taken)
    from upip.store import write
    from upip.sync import flush
    path, made = mount(path)
    ok = False
    try:
        keys = set()
        for n in [package] if isinstance(package, str) else package:
            k = norm(n)
            found = None
            for d in dist(path):
                if norm(d[1]) in (k, "micropython-" + k):
                    found = d
            if found is None:
                raise UpipError("{} is not installed in {}".format(n, path))
            keys.add(norm(found[1]))
            print("Removing {} {}".format(found[1], found[2]))
        open(path + "/.upip-tx/new", "w").close()
        write(path, keys, made)
        flush(path)
        ok = True
    finally:
        if not ok:
            close(path, made)
