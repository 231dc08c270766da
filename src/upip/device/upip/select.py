# upip device client: which files of a standard sdist (one with setup.py or
# pyproject.toml) to install: its packages and modules, as the host does
# (top_level.txt when present; else discovered, without tests, docs, tools).
# Every name here is one the firmware has, and the strings are bytes: this
# runs late in an install, when a new qstr would start a new qstr pool.


def run(names, keys):
    # names(): the sdist's paths (read from the stage each time: nothing
    # that grows with the archive stays on the heap); keys: top_level.txt's
    # names -> (root, want) for get(); "src/" layout understood
    root = ""
    for p in names():
        if p[:4].encode() == b"src/" and p[-3:] == ".py":
            root = p[:4]
            break
    want = set(keys) if keys else None
    if want is None:
        want = set()
        skip = (b" test tests testing doc docs example examples benchmark benchmarks bench "
                b"build dist script scripts tools tool ci setup conftest noxfile tasks "
                b"fabfile manage venv env ")
        for p in names():
            if p[:len(root)] == root:
                q = p[len(root):]
                i = q.find("/")
                head = q if i < 0 else q[:i]
                nm = (head[:-3] if i < 0 and head[-3:] == ".py" else head).encode()
                ok = q[-3:] == ".py" and nm and not (48 <= nm[0] <= 57)
                for c in nm:  # an identifier (iterating over a str interns each character)
                    if not (97 <= c | 32 <= 122 or 48 <= c <= 57 or c == 95):
                        ok = False
                if ok and b" " + nm.lower() + b" " not in skip and not (
                        i < 0 and nm[:5] == b"test_"):
                    want.add(nm.decode())
    return root, want


def get(root, want, name):
    # the image path of the sdist's path name, None if it is not installed
    if name[:len(root)] == root:
        q = name[len(root):]
        i = q.find("/")
        if (i >= 0 and q[:i] in want) or (i < 0 and q[-3:] == ".py" and q[:-3] in want):
            return q
    return None
