# upip device client: inflate an sdist (gzip, 4 KiB window first) and untar it
# into the stage DIR/.upip-tx/n<slot>, with the host's safety rules: no
# absolute paths, no "..", no hard links or devices, links never written.
from micropython import const

from upip import UpipError

_BIG = const(33554432)


def _bad(name, why):
    return UpipError("refusing archive member {}: {}".format(name, why))


def _fill(d, buf):
    got = 0
    while got < 512:
        k = d.readinto(buf[got:])
        if not k:
            raise UpipError("the archive is truncated")
        got += k


def _text(buf, a, b):
    raw = bytes(buf[a:b])
    i = raw.find(b"\0")
    return (raw if i < 0 else raw[:i]).decode()


def _lines(d, buf, size, out, header):
    # Stream a text member; collect requirement lines into out: Requires-Dist
    # headers (header=True, until the blank line that ends them), or
    # requires.txt lines before any [section].
    line = b""
    done = False
    while size > 0:
        _fill(d, buf)
        n = min(512, size)
        size -= 512
        if done:
            continue
        parts = (line + bytes(buf[:n])).split(b"\n")
        line = parts.pop()[:1024]
        if size <= 0:
            parts.append(line)  # the last line, without a newline
        for raw in parts:
            t = raw.decode().strip()
            if header:
                if raw.rstrip(b"\r") == b"":
                    done = True  # folded lines are never empty
                    break
                if t[:14].lower() == "requires-dist:":
                    out.append(t[14:].strip())
            elif t[:1] == "[":
                done = True
                break
            elif t and t[0] != "#":
                out.append(t)


def run(o):
    # Stage the archive's files -> o.files (slot, path, sha256, size),
    # o.deps, o.build (a standard sdist), o.top (top_level names), o.slot
    # (the next free slot). A 4 KiB window first (upip sdists); an archive
    # made with a 32 KiB window is retried with one, memory allowing.
    import gc
    for wbits in (12, 15):
        gc.collect()
        try:
            r = _unpack(o.path + "/.upip-tx/a", o, o.slot, wbits)
        except MemoryError:
            if wbits == 12:
                raise
            r = None
            raise UpipError("the archive needs a 32 KiB inflate window and there is not "
                            "enough memory (sdists built by upip use 4 KiB)")
        if r:
            o.files, o.deps, o.build, o.top, o.slot = r
            return
    raise UpipError("the archive is corrupt")


def _unpack(arch, o, slot, wbits):
    import binascii
    import hashlib
    buf = o.buf
    stage = o.path + "/.upip-tx/n"
    files = []  # (slot, path, sha256, size)
    seen = set()
    headers, requires, top = [], [], None
    build = False
    longname = None
    total = 0
    f = open(arch, "rb")
    try:
        try:
            import deflate
            d = deflate.DeflateIO(f, deflate.GZIP, wbits)
        except ImportError:
            import uzlib
            d = uzlib.DecompIO(f, 16 + wbits)
        while True:
            _fill(d, buf)
            if buf[0] == 0:
                break  # end-of-archive block
            kind = buf[156]
            if buf[124] & 0x80:
                raise UpipError("archive member too large")
            size = int(_text(buf, 124, 136).strip() or "0", 8)
            name = _text(buf, 0, 100)
            if longname:
                name, longname = longname, None
            elif bytes(buf[257:262]) == b"ustar" and buf[345]:
                name = _text(buf, 345, 500) + "/" + name
            if kind in (76, 75, 120, 103):  # L K x g: GNU long names, pax headers
                meta = []
                while size > 0:
                    _fill(d, buf)
                    if len(meta) < 16:
                        meta.append(bytes(buf[:min(512, size)]))
                    size -= 512
                meta = b"".join(meta)
                if kind == 76:
                    longname = meta.split(b"\0")[0].decode()
                elif kind == 120:  # "len path=value\n" records
                    for rec in meta.decode().split("\n"):
                        i = rec.find(" path=")
                        if i > 0:
                            longname = rec[i + 6:]
                continue
            for ch in "\\\x00\t\n\r":
                if ch in name:
                    raise _bad(name, "backslash or control character in the path")
            if name[:1] == "/" or name[1:2] == ":":
                raise _bad(name, "absolute path")
            parts = [p for p in name.split("/") if p and p != "."]
            if ".." in parts:
                raise _bad(name, "path with '..' escapes the target")
            rel = "/".join(parts[1:])
            blocks = (size + 511) // 512
            if not rel or kind == 53:  # the top folder, directories
                for _ in range(blocks):
                    _fill(d, buf)
                continue
            if rel in seen:
                raise _bad(name, "listed twice")
            seen.add(rel)
            if kind == 50:  # symbolic link: refused if it leaves, never written
                target = _text(buf, 157, 257)
                depth = len(parts) - 1
                if not target or target[:1] == "/" or "\\" in target:
                    raise _bad(name, "link to absolute path " + target)
                for p in target.split("/"):
                    if p == "..":
                        depth -= 1
                        if depth < 0:
                            raise _bad(name, "link to {} points outside the archive".format(
                                target))
                    elif p and p != ".":
                        depth += 1
                print("warning: skipped {} (symbolic link to {})".format(rel, target))
                continue
            if kind == 49:
                raise _bad(name, "hard link")
            if kind in (51, 52, 54):
                raise _bad(name, "device node or FIFO")
            if kind not in (48, 55, 0):
                raise _bad(name, "unsupported member type")
            total += size
            if size > _BIG or total > 2 * _BIG:
                raise _bad(name, "too large")
            low = rel.lower()
            if low == "pkg-info" or low[-19:] == ".egg-info/pkg-info":
                if low == "pkg-info":
                    headers = []
                _lines(d, buf, size, headers, True)
                continue
            if low[-22:] == ".egg-info/requires.txt":
                _lines(d, buf, size, requires, False)
                continue
            if low[-23:] == ".egg-info/top_level.txt":
                top = []
                _lines(d, buf, size, top, False)
                continue
            if rel in ("setup.py", "pyproject.toml", "setup.cfg"):
                build = True
            if (rel[:6] == "setup." or rel[:6] == "README" or ".egg-info" in rel
                    or "__pycache__" in rel or rel[-4:] == ".pyc"):
                for _ in range(blocks):
                    _fill(d, buf)
                continue
            h = hashlib.sha256()
            with open(stage + str(slot), "wb") as w:
                left = size
                while left > 0:
                    _fill(d, buf)
                    k = min(512, left)
                    h.update(buf[:k])
                    w.write(buf[:k])
                    left -= k
            files.append((slot, rel, binascii.hexlify(h.digest()).decode(), size))
            slot += 1
    except OSError as e:
        if e.args and e.args[0] == 22:  # EINVAL: back-reference beyond the window, or corrupt
            return None
        raise
    finally:
        f.close()
    return files, headers or requires, build, top, slot
