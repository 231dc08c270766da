# upip device client: what add asks of the firmware's own modules, when
# it does (loaded only then, and dropped after): whether a dependency only
# brings modules the firmware has already (then it is skipped), and the
# shim a folder that extends a built-in needs (os/path.py: os/__init__.py,
# which imports the built-in; the folder alone would hide it as an empty
# namespace package). The host writes the same shim. And what is done
# with a file named like a built-in that takes its place (hides).
import os


def run(*args):
    # run(keys, module) -> find(); run(keys, o, file, name): fill();
    # run(o, slot, dest): hides()
    if len(args) == 2:
        return find(*args)
    if len(args) == 3:
        return hides(*args)
    fill(*args)


def hides(o, slot, dest):
    # A file (staged in slot) that takes the place of a module built into
    # the firmware (dest is X.py or X/__init__.py; since 1.21, it is
    # imported before the firmware's own X): warned about, as on the host;
    # refused (unless --force) when upip itself imports that module, as it
    # does os: it would not run again. One that imports the built-in it is
    # named for (from ubinascii import *) extends it and hides nothing.
    name, _, rest = dest.partition("/")
    if not rest:
        name = name[:name.rfind(".")]
    if reaches(o.path + "/.upip-tx/n" + slot, name):
        return
    if not o.force and name in ("os", "time", "socket", "ssl", "select", "hashlib", "binascii",
                                "array"):
        from upip import UpipError
        raise UpipError("{} would hide the firmware's {} module; --force installs it "
                        "anyway".format(dest, name))
    print("warning: {} {} installs {}, which hides MicroPython's built-in {} module".format(
        o.name, o.version, name + "/" if rest else dest, name))


def reaches(path, name):
    # Whether the file at path names name's built-in as a word (uNAME; for
    # ssl, ussl or tls), as one that imports it does: the host's rule
    # (upip/shadow.py), read in 256-byte pieces; .mpy keeps the names as
    # bytes too. The last bytes of a piece come again at the next one's
    # start, so a word cut there is judged whole; a match at the very start
    # of them was judged already (the file's start is a space).
    keys = (b"ussl", b"tls") if name == "ssl" else (b"u" + name.encode(),)
    word = lambda c: c == 95 or 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122  # noqa: E731
    tail = b" "
    with open(path, "rb") as f:
        while True:
            piece = f.read(256)
            b = tail + piece
            for k in keys:
                i = b.find(k)
                while i >= 0:
                    j = i + len(k)
                    if (i and not word(b[i - 1])
                            and (j == len(b) and not piece or j < len(b) and not word(b[j]))):
                        return True
                    i = b.find(k, i + 1)
            if not piece:
                return False
            tail = b[-len(keys[0]) - 1:]


def fill(keys, o, file, name):
    # The shim X/__init__.py for name, a built-in the dist extends with a
    # folder (written to file, the stage's new records), unless the dist has
    # an X/__init__ (then --force was given) or the image has one other than
    # the shim; keys(): values(). (Names the firmware has: no qstr.)
    b = ("# upip: MicroPython's built-in {0} module, which the {0}/ folder extends\n"
         "from u{0} import *\n").format(name).encode()
    for n, dest, h, size in keys():
        if dest in (name + "/__init__.py", name + "/__init__.mpy"):
            return
    p = o.path + "/" + name
    try:
        with open(p + "/__init__.py", "rb") as f:
            if f.read(len(b) + 1) != b:
                return
    except OSError:
        pass
    try:
        os.stat(p + "/__init__.mpy")
        return
    except OSError:
        pass
    import binascii
    import hashlib
    n = str(o.count)
    o.count += 1
    with open(o.path + "/.upip-tx/n" + n, "wb") as f:
        f.write(b)
    file.write("file\t{}/__init__.py\t{}\t{}\t{}\n".format(
        name, binascii.hexlify(hashlib.sha256(b).digest()).decode(), len(b), n).encode())


def find(keys, module):
    # The modules of the firmware's (built in or frozen) that a dist brings
    # again, when it brings nothing else (a name or two, for the note), else
    # None: each file's top module (X.py, X/...) must be the firmware's, and
    # a folder that extends a built-in (no X/__init__.py) is no copy of it.
    import sys
    last = None
    for n, dest, h, size in keys():
        if not dest:
            continue
        top, _, rest = dest.partition("/")
        if not rest:
            if top[-3:] != ".py" and top[-4:] != ".mpy":
                return None
            top = top[:-3] if top[-3:] == ".py" else top[:-4]
        if top == last:
            continue
        if module(top):
            for p in keys():  # a copy of it only with its __init__
                if p[1] in (top + "/__init__.py", top + "/__init__.mpy"):
                    break
            else:
                if rest:
                    return None
        else:
            m = sys.modules.pop(top, None)
            p = list(sys.path)
            sys.path.clear()
            sys.path.append(".frozen")
            try:
                __import__(top)
            except Exception:
                return None
            finally:
                sys.path.clear()
                sys.path.extend(p)
                sys.modules.pop(top, None)
                if m is not None:
                    sys.modules[top] = m
        last = top if last is None else last
    return last
