# upip device client: the step after dir, the first of an install: the
# state of the run (o), and the stage's queue of what was asked for. A step
# of its own: DIR is locked (dir) while the heap holds nothing else, and
# the stage can still be dropped in a heap too full for this step.


def run(*args):
    # run((DIR, made), specs, index, ca, insecure, force, timeout, kw) -> o,
    # the state of the run (DIR locked by the step dir, which ran before,
    # alone; install closes the stage if this fails) (its arguments
    # unpacked into locals: parameter names would be qstrs). Besides the
    # arguments: o.step, the next step; o.pos, the lines of the stage's
    # queue "q" done (each line: 1 or 0 (asked for, or a dependency), a tab,
    # a requirement); o.count, the next free slot in the stage; o.path (DIR)
    # and o.mkdir (the folders made for it); o.index (PyPI's JSON API) and
    # o.modules (the mip index: micropython-lib's modules; True its own,
    # None when turned off); o.main: --boot-files (main.py, boot.py... land,
    # see add); o.ca: the CA file (--ca), None (upip/ca.der), False (no
    # check: --insecure). Each package then sets o.name, o.target (its pin),
    # o.range, o.flags (1 if asked for), o.state (its sources: see
    # next.write), o.url (a package.json spec), o.src (the URL of its
    # document), o.version, o.url and o.sha256 (the archive, or the
    # document); o.request, a request get asks of connect and read (with the
    # socket, between the two), then their answer; o.context is the TLS
    # context while get's requests run over HTTPS; o.zip is zip's.
    import upip
    (path, made), specs, index, ca, insecure, force, timeout, kw = args
    o = upip.Opts()
    o.path, o.mkdir = path, made
    o.index = (index or "https://pypi.org/pypi").rstrip("/")
    # (True: micropython-lib's, https://micropython.org/pi/v2, spelt out
    # where it is used: its string would be an island all through the run)
    modules = kw.pop(b"mip_index".decode(), True)  # (b"": no qstr)
    o.main = kw.pop(b"boot_files".decode(), False)  # (main.py and the like)
    if kw:
        raise TypeError("unexpected keyword argument " + list(kw)[0])
    o.modules = modules.rstrip("/") if type(modules) is str else modules or None
    o.ca, o.force, o.timeout = False if insecure else ca, force, timeout
    o.pos = o.count = 0
    o.name = o.target = o.range = o.flags = o.state = o.src = o.version = o.url = None
    o.zip = o.request = None
    o.sha256 = o.context = None  # (the dict, sized once)
    with open(path + "/.upip-tx/q", "wb") as f:  # (a file: no list left on the heap)
        for s in specs:
            f.write(b"1\t" + s.encode() + b"\n")
    o.step = "next"
    return o
