"""What runs on the board: the MicroPython code upip sends through the raw REPL.

One exec asks everything at once (:data:`PROBE`); :data:`TRANSACTION` stages,
journals and commits on the board in the device client's format. Both share
:data:`_COMMON` (file helpers, and the undo of a stage a gone writer left).
Small names and no comprehension-heavy code: this is compiled on the board,
in its heap, at every exec.
"""

# Shared by the probe (recovery) and the transaction: a file's mode (0: none),
# removing a tree, a journal's lines, the folders deletions left empty, and
# undoing a journal (the host's t<i> folders, the device's mkdir lines). The
# undo moves a new file back to n<i> rather than removing it, so that an undo
# cut short and done again never takes an old file for a new one.
_COMMON = r'''
import os
def _st(p):
    try:
        return os.stat(p)[0] or 1
    except OSError:
        return 0
def _rm(p):
    if _st(p) & 0x4000:
        for e in os.ilistdir(p):
            _rm(p + "/" + e[0])
        os.rmdir(p)
    elif _st(p):
        os.remove(p)
def _lines(p):
    try:
        with open(p) as f:
            return [l.rstrip("\n").split("\t") for l in f if l.count("\t") == 2]
    except OSError:
        return []
def _prune(d, ops):
    for op, i, r in ops:
        while op == "del" and "/" in r:
            r = r[:r.rfind("/")]
            try:
                os.rmdir(d + "/" + r)
            except OSError:
                break
def _undo(d):
    t = d + "/.upip-tx"
    roots = []
    for op, i, r in reversed(_lines(t + "/journal")):
        if op == "root":
            roots.append(r)
            continue
        p = d + "/" + r
        if op == "tree":
            if _st(p) and not _st(t + "/t" + i):
                os.rename(p, t + "/t" + i)
        elif op == "mkdir":
            try:
                os.rmdir(p)
            except OSError:
                pass
        else:
            if op == "put" and not _st(t + "/n" + i) and _st(p):
                os.rename(p, t + "/n" + i)
            if _st(t + "/o" + i):
                os.rename(t + "/o" + i, p)
    _rm(t)
    for r in roots:
        try:
            os.rmdir(r)
        except OSError:
            break
def _recover(d):
    t = d + "/.upip-tx"
    if not _st(t):
        return ""
    if _st(t + "/committed"):
        ops = _lines(t + "/committed")
        _rm(t)
        _prune(d, ops)
        return "finished"
    if _st(t + "/journal"):
        _undo(d)
        return "undone"
    _rm(t)
    return "dropped"
'''

# Every file and folder of an image, depth first, upip's own (the stage,
# the records) aside: (path in the image, whether a folder). Shared by the
# probe (which hashes the files) and READ (which sends them whole).
_WALK = r'''
import os
def _walk(d):
    todo = [""]
    while todo:
        r = todo.pop()
        for e in os.ilistdir(d + "/" + r if r else d):
            n = r + "/" + e[0] if r else e[0]
            if r or e[0] != ".upip-tx" and e[0] != ".upip-records":
                if e[1] & 0x4000:
                    todo.append(n)
                yield n, e[1] & 0x4000
'''

# One exec: what the board is, where its image is, its records and (scan)
# every file's size, sha256 and .mpy header; (recover) a transaction a gone
# writer left finished or undone first. Lines "@x ..." for upip to read.
PROBE = _COMMON + _WALK + r'''
def _probe(d, scan, recover):
    import sys, gc
    try:
        import hashlib
    except ImportError:
        hashlib = None
    try:
        _u.f.close()
    except Exception:
        pass
    m = sys.implementation
    if not d:
        for p in sys.path:
            if p[-4:] == "/lib" and p[:4] != "/rom" and ".frozen" not in p:
                d = p
                break
    print("@i", repr((m.name, tuple(m.version[:3]), getattr(m, "_mpy", 0), sys.platform, d,
                      hashlib is not None)))
    if not d:
        return
    gc.collect()
    print("@m", gc.mem_free() if hasattr(gc, "mem_free") else 0)
    p = d
    while True:
        try:
            s = os.statvfs(p or "/")
            print("@v", repr((s[0], s[1], s[4])))
            break
        except OSError:
            if not p:
                break
            p = p[:p.rfind("/")]
    if recover:
        print("@r", repr(_recover(d)))
    print("@e", _st(d))
    print("@h")
    try:
        help("modules")
    except Exception:
        pass
    print("@H")
    print("@d")
    try:
        with open(d + "/.upip-records") as f:
            while True:
                b = f.read(512)
                if not b:
                    break
                sys.stdout.write(b)
    except OSError:
        pass
    print("\n@D")
    if not (scan and hashlib and _st(d) & 0x4000):
        return
    b = bytearray(512)
    v = memoryview(b)
    for n, folder in _walk(d):
        if folder:
            print("@F", repr(n))
            continue
        h = hashlib.sha256()
        z = 0
        k0 = b""
        with open(d + "/" + n, "rb") as f:
            while True:
                k = f.readinto(b)
                if not k:
                    break
                if not z and n[-4:] == ".mpy":
                    k0 = bytes(v[:4])
                z += k
                h.update(v[:k])
        print("@f", repr((n, z, h.digest(), k0)))
'''
_PROBE_END = "\ndel _st, _rm, _lines, _prune, _undo, _recover, _walk, _probe\n"

# One exec: every file of the image (upip's own aside) sent whole, as
# "@f PATH" and base64 lines (upip sync's source when it is a board).
READ = _WALK + r'''
def _read(d):
    import binascii
    try:
        if not os.stat(d)[0] & 0x4000:
            return
    except OSError:
        return
    for n, folder in _walk(d):
        if folder:
            continue
        print("@f", repr(n))
        with open(d + "/" + n, "rb") as f:
            while True:
                b = f.read(384)
                if not b:
                    break
                print(binascii.b2a_base64(b).decode().strip())
'''
_READ_END = "\ndel _walk, _read\n"

# The transaction on the board: _u = _U(DIR) makes the stage (the lock) and
# the folders of DIR that are missing; o/a/b/c write a staged file and check
# its size and sha256; x gives up; j writes the journal, makes its moves
# (undone after any failure) and finishes, as the device client's sync does.
TRANSACTION = _COMMON + r'''
class _U:
    def __init__(s, d):
        import hashlib
        s.d = d
        s.t = d + "/.upip-tx"
        s.f = None
        s.H = hashlib.sha256
        s.m = []
        p = d
        while p and not _st(p):
            s.m.insert(0, p)
            p = p[:p.rfind("/")]
        for p in s.m:
            os.mkdir(p)
        os.mkdir(s.t)
        open(s.t + "/pid", "wb").close()
    def o(s, n):
        s.f = open(s.t + "/" + n, "wb")
        s.h = s.H()
        s.n = 0
    def a(s, b):
        s.f.write(b)
        s.h.update(b)
        s.n += len(b)
    def b(s, t):
        import binascii
        s.a(binascii.a2b_base64(t))
    def c(s, n, h):
        s.f.close()
        s.f = None
        if s.n != n or s.h.digest() != h:
            raise ValueError("a staged file does not match what was sent")
    def x(s):
        try:
            s.f.close()
        except Exception:
            pass
        _rm(s.t)
        for p in reversed(s.m):
            try:
                os.rmdir(p)
            except OSError:
                break
    def j(s, ops):
        d, t = s.d, s.t
        ops = ops + [("root", "-1", p) for p in s.m]
        with open(t + "/journal", "w") as f:
            for op in ops:
                f.write("\t".join(op) + "\n")
        if hasattr(os, "sync"):
            os.sync()
        try:
            for op, i, r in ops:
                p = d + "/" + r
                if op == "mkdir":
                    os.mkdir(p)
                elif op != "root":
                    if _st(p) & 0x4000:
                        raise OSError(21)
                    if _st(p):
                        os.rename(p, t + "/o" + i)
                    if op == "put":
                        os.rename(t + "/n" + i, p)
            os.rename(t + "/journal", t + "/committed")
        except BaseException:
            _undo(d)
            raise
        _rm(t)
        _prune(d, ops)
'''
_TRANSACTION_END = "\ndel _u, _U, _st, _rm, _lines, _prune, _undo, _recover\nprint('@ok')\n"
_ABORT = "try:\n _u.x()\nexcept NameError:\n pass\n" + _TRANSACTION_END
