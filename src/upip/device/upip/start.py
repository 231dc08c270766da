# upip device client: the first step of an install (the state of the run,
# and DIR found (the default), recovered from a crash, its stage opened),
# and the first step of each package's, after next: the URLs of its
# document. One module for both, loaded at different times: the names it
# brings are qstrs once, and next's code stays small.


def run(*args):
    # run(o): write(o); run((DIR, made), specs, index, ca, insecure, force,
    # timeout, kw) -> o, the state of the run (DIR locked by the step dir,
    # which ran before, alone) (its arguments unpacked into locals:
    # parameter names would be qstrs). Besides the arguments: o.step, the
    # next step; o.pos, the lines of the stage's queue "q" done (each line: 1
    # or 0 (asked for, or a dependency), a tab, a requirement); o.count, the
    # next free slot in the stage; o.path (DIR) and o.mkdir (the folders
    # made for it); o.index (PyPI's JSON API) and o.modules (the mip index:
    # micropython-lib's modules; True its own, None when turned off);
    # o.main: --boot-files (main.py, boot.py... land, see add). Each
    # package then sets o.name, o.target (its pin), o.range, o.flags (1 if
    # asked for), o.state (its sources: see write), o.url (a package.json
    # spec), o.src (the URL of its document), o.version, o.url and o.sha256
    # (the archive, or the document); o.context is the TLS context while a
    # get runs over HTTPS; o.zip is zip's.
    if len(args) == 1:
        return write(args[0])
    import upip
    path, specs, index, ca, insecure, force, timeout, kw = args
    o = upip.Opts()
    o.path, o.mkdir = path  # (install closes the stage if this fails)
    o.index = (index or "https://pypi.org/pypi").rstrip("/")
    # (True: micropython-lib's, https://micropython.org/pi/v2, spelt out
    # where it is used: its string would be an island all through the run)
    modules = kw.pop(b"mip_index".decode(), True)  # (b"": no qstr)
    o.main = kw.pop(b"boot_files".decode(), False)  # (main.py and the like)
    if kw:
        raise TypeError("unexpected keyword argument " + list(kw)[0])
    o.modules = modules.rstrip("/") if type(modules) is str else modules or None
    o.ca, o.insecure, o.force, o.timeout = ca, insecure, force, timeout
    o.pos = o.count = 0
    o.name = o.target = o.range = o.flags = o.state = o.src = o.version = o.url = None
    o.zip = None
    o.sha256 = o.context = None  # (the dict, sized once)
    with open(o.path + "/.upip-tx/q", "wb") as f:  # (a file: no list left on the heap)
        for s in specs:
            f.write(b"1\t" + s.encode() + b"\n")
    o.step = "next"
    return o


def write(o):
    # The URLs get tries for the package's document, in the stage's "u" (a
    # line: the kind, a tab, the URL), from o.state (bytes, a letter a
    # source): m, the mip index's VARIANT/NAME/{VERSION|latest}.json, the
    # .mpy variant first (i: its index.json first, for a range: the step
    # index then lists the one it takes); p and n, PyPI's JSON API for
    # micropython-NAME and NAME (a pin: /NAME/VER/json first, mirrors may
    # not serve it); u, a package.json; f, one file. (Bytes: no qstr.)
    # Then o.step "get", or "tls" when the first is https.
    import sys
    v = getattr(sys.implementation, "_mpy", 0)
    m = o.modules if o.modules is not True else "https://micropython.org/pi/v2"
    o.step = "get"
    with open(o.path + "/.upip-tx/u", "wb") as f:
        if (m if o.state[0] == 109 else o.url or o.index)[:5].encode() != b"http:":
            o.step = "tls"  # (a github: spec is https)
        for t in o.state:
            if t == 109:  # m
                if o.range:
                    f.write(b"i\t" + m.encode() + b"/index.json\n")
                    continue
                for v in ([str(v & 0xff).encode()] if v else []) + [b"py"]:
                    f.write(b"m\t" + "{}/package/".format(m).encode() + v + b"/" +
                            o.name.encode() + b"/" + (o.target.encode() if o.target else
                                                      b"latest") + b".json\n")
            elif t == 112 or t == 110:  # p n
                for v in ["/" + o.target, ""] if o.target else [""]:
                    f.write(bytes((t, 9)) + "{}/{}{}{}/json\n".format(
                        o.index, "micropython-" if t == 112 else "", o.name, v).encode())
            else:  # u f
                import upip
                url = upip.load("url")
                f.write(bytes((t, 9)) + url.run(*url.split(o.url)).encode() + b"\n")
