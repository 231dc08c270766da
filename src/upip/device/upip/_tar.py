# upip device client: inflate an sdist (gzip, 4 KiB window first) and untar it
# into the stage DIR/.upip-tx/n<slot>, with the host's safety rules: no
# absolute paths, no "..", no hard links or devices, links never written.
# Argument names are short and shared with the other modules (each name is
# a qstr for good); str[i] is avoided (it interns the character).
from micropython import const

from upip import UpipError

_BIG = const(33554432)


def run(o):
    # Stage the archive's files -> o.files (slot, path, sha256, size),
    # o.deps, o.build (a standard sdist), o.top (top_level names), o.slot
    # (the next free slot). A 4 KiB window first (upip sdists); an archive
    # made with a 32 KiB window is retried with one, memory allowing.
    import gc
    for n in (12, 15):
        gc.collect()
        try:
            r = _unpack(o, n)
        except MemoryError:
            if n == 12:
                raise
            r = None
            raise UpipError("the archive needs a 32 KiB inflate window and there is not "
                            "enough memory (sdists built by upip use 4 KiB)")
        if r:
            return
    raise UpipError("the archive is corrupt")


def _fill(d, b):
    n = 0
    while n < 512:
        k = d.readinto(b[n:])
        if not k:
            raise UpipError("the archive is truncated")
        n += k


def _s(b, i, n):
    # a NUL-terminated header field
    return bytes(b[i:n]).split(b"\0")[0].decode()


def _lines(d, b, n, a, h):
    # Stream a text member of n bytes; collect requirement lines into a:
    # Requires-Dist headers (h true, until the blank line that ends them),
    # or requires.txt lines before any [section].
    line = b""
    done = False
    while n > 0:
        _fill(d, b)
        k = min(512, n)
        n -= 512
        if done:
            continue
        parts = (line + bytes(b[:k])).split(b"\n")
        line = parts.pop()[:1024]
        if n <= 0:
            parts.append(line)  # the last line, without a newline
        for raw in parts:
            t = raw.decode().strip()
            if h:
                if raw.rstrip(b"\r") == b"":
                    done = True  # folded lines are never empty
                    break
                if t[:14].lower() == "requires-dist:":
                    a.append(t[14:].strip())
            elif t[:1] == "[":
                done = True
                break
            elif t and t[:1] != "#":
                a.append(t)


def _unpack(o, n):
    # -> True, or None when the window (2**n) is too small for the archive
    import binascii
    import hashlib
    b = o.buf
    stage = o.path + "/.upip-tx/"
    slot = o.slot
    files = []  # (slot, path, sha256, size)
    seen = set()
    headers, requires, top = [], [], None
    build = False
    longname = None
    total = 0
    f = open(stage + "a", "rb")
    try:
        try:
            import deflate
            d = deflate.DeflateIO(f, deflate.GZIP, n)
        except ImportError:
            import uzlib
            d = uzlib.DecompIO(f, 16 + n)
        while True:
            _fill(d, b)
            if b[0] == 0:
                break  # end-of-archive block
            kind = b[156]
            if b[124] & 0x80:
                raise UpipError("archive member too large")
            size = int(_s(b, 124, 136).strip() or "0", 8)
            name = _s(b, 0, 100)
            if longname:
                name, longname = longname, None
            elif bytes(b[257:262]) == b"ustar" and b[345]:
                name = _s(b, 345, 500) + "/" + name
            blocks = (size + 511) // 512
            if kind in (76, 75, 120, 103):  # L K x g: GNU long names, pax headers
                meta = []
                while size > 0:
                    _fill(d, b)
                    if len(meta) < 16:
                        meta.append(bytes(b[:min(512, size)]))
                    size -= 512
                meta = b"".join(meta)
                if kind == 76:
                    longname = meta.split(b"\0")[0].decode()
                elif kind == 120:  # "len path=value\n" records
                    for rec in meta.split(b"\n"):
                        i = rec.find(b" path=")
                        if i > 0:
                            longname = rec[i + 6:].decode()
                continue
            parts = [p for p in name.split("/") if p and p != "."]
            rel = "/".join(parts[1:])
            why = None
            for c in name.encode():
                if c in (0, 9, 10, 13, 92):
                    why = "backslash or control character in the path"
            if why:
                pass
            elif name[:1] == "/" or name[1:2] == ":":
                why = "absolute path"
            elif ".." in parts:
                why = "path with '..' escapes the target"
            elif not rel or kind == 53:  # the top folder, directories
                for _ in range(blocks):
                    _fill(d, b)
                continue
            elif rel in seen:
                why = "listed twice"
            elif kind == 50:  # symbolic link: refused if it leaves, never written
                t = _s(b, 157, 257)
                depth = len(parts) - 1
                if not t or t[:1] == "/" or "\\" in t:
                    why = "link to absolute path " + t
                for p in t.split("/"):
                    if p == "..":
                        depth -= 1
                        if depth < 0 and not why:
                            why = "link to {} points outside the archive".format(t)
                    elif p and p != ".":
                        depth += 1
                if not why:
                    seen.add(rel)
                    print("warning: skipped {} (symbolic link to {})".format(rel, t))
                    continue
            elif kind == 49:
                why = "hard link"
            elif kind in (51, 52, 54):
                why = "device node or FIFO"
            elif kind not in (48, 55, 0):
                why = "unsupported member type"
            else:
                total += size
                if size > _BIG or total > 2 * _BIG:
                    why = "too large"
            if why:
                raise UpipError("refusing archive member {}: {}".format(name, why))
            seen.add(rel)
            low = rel.lower()
            if low == "pkg-info" or low[-19:] == ".egg-info/pkg-info":
                if low == "pkg-info":
                    headers = []
                _lines(d, b, size, headers, True)
                continue
            if low[-22:] == ".egg-info/requires.txt":
                _lines(d, b, size, requires, False)
                continue
            if low[-23:] == ".egg-info/top_level.txt":
                top = []
                _lines(d, b, size, top, False)
                continue
            if rel in ("setup.py", "pyproject.toml", "setup.cfg"):
                build = True
            if (rel[:6] == "setup." or rel[:6] == "README" or ".egg-info" in rel
                    or "__pycache__" in rel or rel[-4:] == ".pyc"):
                for _ in range(blocks):
                    _fill(d, b)
                continue
            h = hashlib.sha256()
            with open(stage + "n" + str(slot), "wb") as w:
                left = size
                while left > 0:
                    _fill(d, b)
                    k = min(512, left)
                    h.update(b[:k])
                    w.write(b[:k])
                    left -= k
            files.append((slot, rel, binascii.hexlify(h.digest()).decode(), size))
            slot += 1
    except OSError as e:
        if e.args and e.args[0] == 22:  # EINVAL: back-reference beyond the window, or corrupt
            return None
        raise
    finally:
        f.close()
    o.files, o.deps, o.build, o.top, o.slot = files, headers or requires, build, top, slot
    return True
