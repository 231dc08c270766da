# upip device client: which files of a standard sdist (one with setup.py or
# pyproject.toml) to install: its packages and modules, as the host does
# (top_level.txt when present; else discovered, without tests, docs, tools).
_SKIP = ("test", "tests", "testing", "doc", "docs", "example", "examples", "benchmark",
         "benchmarks", "bench", "build", "dist", "script", "scripts", "tools", "tool", "ci",
         "setup", "conftest", "noxfile", "tasks", "fabfile", "manage", "venv", "env")


def _ident(s):
    if not s or s[:1].isdigit():
        return False
    for c in s.encode():  # (iterating over a str would intern each character)
        if not (97 <= c | 32 <= 122 or 48 <= c <= 57 or c == 95):
            return False
    return True


def run(paths, top):
    # -> {archive path: image path}; "src/" layout understood
    root = ""
    for p in paths:
        if p[:4] == "src/" and p[-3:] == ".py":
            root = "src/"
            break
    want = set(top) if top else None
    if want is None:
        want = set()
        for p in paths:
            if p[:len(root)] == root:
                q = p[len(root):]
                i = q.find("/")
                head = q if i < 0 else q[:i]
                nm = head[:-3] if i < 0 and head[-3:] == ".py" else head
                if q[-3:] == ".py" and _ident(nm) and nm.lower() not in _SKIP and not (
                        i < 0 and nm[:5] == "test_"):
                    want.add(nm)
    chosen = {}
    for p in paths:
        if p[:len(root)] == root:
            q = p[len(root):]
            i = q.find("/")
            if (i >= 0 and q[:i] in want) or (i < 0 and q[-3:] == ".py" and q[:-3] in want):
                chosen[p] = q
    return chosen
