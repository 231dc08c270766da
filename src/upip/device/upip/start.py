# upip device client: the first step of an install: the state of the run,
# and DIR found (the default), recovered from a crash, its stage opened.
from upip import Opts


def run(args, path, index, ca, insecure, force, timeout):
    # -> o, the state of the run. Besides the arguments: o.step, the next
    # step; o.args, (requirement, 1 if the user asked for it) to install,
    # o.pos the next one; o.keys, the names queued; o.count, the next free
    # slot in the stage; o.path (DIR) and o.mkdir (the folders made for
    # it). Each package then sets o.name, o.target (its pin), o.flags (1 if
    # asked for), o.urls (its JSON), o.src (the URL that answered), o.code
    # (its HTTP status), o.version, o.url, o.sha256 (the sdist), o.data (the
    # files staged), o.deps and o.modules (a standard sdist's top-level
    # names; None for upip's own sdists).
    from upip.dir import mount
    o = Opts()
    o.index = (index or "https://pypi.org/pypi").rstrip("/")
    o.ca, o.insecure, o.force, o.timeout = ca, insecure, force, timeout
    o.args = [(s, 1) for s in args]
    o.keys = set()
    o.pos = o.count = 0
    o.name = o.target = o.flags = o.urls = o.src = o.code = o.version = o.url = None
    o.sha256 = o.data = o.deps = o.modules = None  # (the dict, sized once)
    o.path, o.mkdir = mount(path)
    o.step = "next"
    return o
