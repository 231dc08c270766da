# upip device client: the step after unpack: write the dist's records into
# the stage, drop the files that are not installed, queue its dependencies.
import os


def read(o, name, buf, mode):
    # The lines of a metadata file unpack staged (then removed), None if
    # there is none: Requires-Dist headers (mode 1, until the blank line
    # that ends them), or the lines before any [section] (mode 0:
    # requires.txt, top_level.txt).
    try:
        stream = open(o.path + name, "rb")
    except OSError:
        return None
    data = []
    line = b""
    done = False
    length = stream.seek(0, 2)
    stream.seek(0)
    while length > 0:
        k = min(512, length)
        if stream.readinto(buf[:k]) != k:
            raise OSError(5)
        length -= 512
        if done:
            continue
        parts = (line + bytes(buf[:k])).split(b"\n")
        line = parts.pop()[:1024]
        if length <= 0:
            parts.append(line)  # the last line, without a newline
        for raw in parts:
            t = raw.strip()
            if mode:
                if not raw.rstrip(b"\r"):
                    done = True  # folded lines are never empty
                    break
                if t[:14].lower() == b"requires-dist:":
                    data.append(t[14:].strip().decode())
            elif t[:1] == b"[":
                done = True
                break
            elif t and t[:1] != b"#":
                data.append(t.decode())
    stream.close()
    os.remove(o.path + name)
    return data


def run(o):
    # After unpacking: write the dist's records, drop what is not installed,
    # queue its dependencies (Requires-Dist in PKG-INFO, else requires.txt).
    b = memoryview(bytearray(512))
    h, e, r = read(o, "/.upip-tx/h", b, 1), read(o, "/.upip-tx/e", b, 1), read(
        o, "/.upip-tx/r", b, 0)  # (each read, so that none is left for the next dist)
    deps = h or e or r or []
    top = read(o, "/.upip-tx/k", b, 0) or []
    chosen = None
    if o.modules:  # a standard sdist: only its packages and modules
        from upip.select import run as select
        chosen = select([x[1] for x in o.data], top)
    with open(o.path + "/.upip-tx/new", "ab") as out:
        out.write("dist\t{}\t{}\t{}\t{}\t{}\n".format(o.name, o.version, o.flags, o.sha256,
                                                       o.url).encode())
        for r in deps:
            out.write(b"req\t" + r.encode() + b"\n")
        for n, rel, h, size in o.data:
            dest = rel if chosen is None else chosen.get(rel)
            if dest:
                out.write("file\t{}\t{}\t{}\t{}\n".format(dest, h, size, n).encode())
            else:
                os.remove(o.path + "/.upip-tx/n" + str(n))
    with open(o.path + "/.upip-tx/q", "ab") as q:  # the dependencies, queued
        for r in deps:
            q.write(b"0\t" + r.encode() + b"\n")
    o.data = None
    o.step = "next"
