# upip device client: PEP 508's environment markers, as MicroPython answers
# them; loaded by next only for a requirement that has one (few do), so its
# words are not on next's heap. Parsed as bytes (b"..." is no qstr).


def run(text):
    # whether the marker text (bytes, after a requirement's ";") holds:
    # == and != joined by and/or (a name it does not know is no objection)
    import sys
    env = {b"implementation_name": b"micropython",
           b"platform_python_implementation": b"MicroPython",
           b"python_version": b"3.4", b"sys_platform": sys.platform.encode(),
           b"extra": b""}
    ok = False
    for alt in text.split(b" or "):
        good = True
        for c in alt.split(b" and "):
            c = c.strip().strip(b"()")
            for op in (b"==", b"!="):
                j = c.find(op)
                if j > 0:
                    a, b = c[:j].strip(), c[j + 2:].strip().strip(b"'\"")
                    if a[:1] in b"'\"":
                        a, b = b, a.strip(b"'\"")
                    if a in env:
                        good = good and ((env[a] == b) == (op == b"=="))
                    break
        ok = ok or good
    return ok
