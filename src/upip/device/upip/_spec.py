# upip device client: requirement strings -> (name, pin, range), or None when
# a marker says the requirement is not for MicroPython.
from upip import UpipError


def _marker(m):
    # The part of PEP 508 markers a device needs: == and != joined by and/or.
    import sys
    env = {"implementation_name": "micropython", "platform_python_implementation": "MicroPython",
           "python_version": "3.4", "sys_platform": sys.platform, "extra": ""}
    for alt in m.split(" or "):
        ok = True
        for c in alt.split(" and "):
            c = c.strip().strip("()")
            for op in ("==", "!="):
                i = c.find(op)
                if i > 0:
                    a, b = c[:i].strip(), c[i + 2:].strip().strip("'\"")
                    if a[:1] in "'\"":
                        a, b = b, a.strip("'\"")
                    if a in env:
                        ok = ok and ((env[a] == b) == (op == "=="))
                    break
        if ok:
            return True
    return False


def spec(s):
    s = s.strip()
    i = s.find(";")
    if i >= 0:
        if not _marker(s[i + 1:]):
            return None
        s = s[:i].strip()
    i = 0
    while i < len(s) and (s[i].isalpha() or s[i].isdigit() or s[i] in "-_."):
        i += 1
    name, rest = s[:i], s[i:].strip()
    if rest[:1] == "[":
        rest = rest[rest.find("]") + 1:].strip()
    if not name:
        raise UpipError("invalid requirement: " + s)
    if rest[:1] == "@":
        return name, rest[1:].strip(), None
    if rest[:2] == "==" and "," not in rest and "*" not in rest:
        return name, rest[2:].strip(), None
    return name, None, rest or None
