# upip device client: the first step of an install: the state of the run,
# and DIR found (the default), recovered from a crash, its stage opened.
from upip import Opts


def run(args, path, index, ca, insecure, force, timeout, kw):
    # -> o, the state of the run. Besides the arguments: o.step, the next
    # step; o.pos, the lines of the stage's queue "q" done (each line: 1 or
    # 0 (asked for, or a dependency), a tab, a requirement); o.count, the
    # next free slot in the stage; o.path (DIR) and o.mkdir (the folders
    # made for it); o.index (PyPI's JSON API) and o.modules (the mip index:
    # micropython-lib's modules; True its own, None when turned off). Each
    # package then sets o.name, o.target (its pin), o.range, o.flags (1 if asked for), o.state (its sources: see next),
    # o.url (a package.json spec), o.src (the URL of its document),
    # o.version, o.url and o.sha256 (the archive, or the document);
    # o.context is the TLS context while a get runs over HTTPS; o.zip is
    # zip's.
    from upip.dir import mount
    o = Opts()
    o.index = (index or "https://pypi.org/pypi").rstrip("/")
    # (True: micropython-lib's, https://micropython.org/pi/v2, spelt out
    # where it is used: its string would be an island all through the run)
    modules = kw.pop(b"mip_index".decode(), True)  # (b"": no qstr)
    if kw:
        raise TypeError("unexpected keyword argument " + list(kw)[0])
    o.modules = modules.rstrip("/") if type(modules) is str else modules or None
    o.ca, o.insecure, o.force, o.timeout = ca, insecure, force, timeout
    o.pos = o.count = 0
    o.name = o.target = o.range = o.flags = o.state = o.src = o.version = o.url = None
    o.zip = None
    o.sha256 = o.context = None  # (the dict, sized once)
    o.path, o.mkdir = mount(path)
    with open(o.path + "/.upip-tx/q", "wb") as f:  # (a file: no list left on the heap)
        for s in args:
            f.write(b"1\t" + s.encode() + b"\n")
    o.step = "next"
    return o
