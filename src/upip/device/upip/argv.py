# upip device client: parse the command line (dropped before any work).
def run(argv):
    # -> (command, names, {option: value}) or an int exit status
    if not argv or argv[0] in ("-h", "--help", "help"):
        return 0
    kw = {}
    names = []
    args = argv[1:]
    # -p -i -r --ca --timeout --mip-index take a value. (One literal,
    # split: each short literal would be a qstr, for good.)
    valued = "-p -i -r --ca --timeout --mip-index".split()
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if a in valued:
            if i >= len(args):
                print("error: {} needs a value".format(a))
                return 2
            v = args[i]
            i += 1
            k = valued.index(a)
            if k == 2:  # -r FILE
                try:
                    with open(v) as f:
                        for line in f:
                            line = line.split(chr(35))[0].strip()  # before any "#"
                            if line:
                                names.append(line)
                except OSError:
                    print("error: cannot read the requirements file " + v)
                    return 1
            else:
                if k == 4:
                    try:
                        t = float(v)
                        if not (t > 0 and t * 0 == 0):  # (inf * 0 and nan * 0 are nan)
                            raise ValueError
                    except ValueError:
                        print("error: --timeout takes seconds above 0, not " + v)
                        return 2
                    v = t
                kw[("path", "index", "", "ca", "timeout", b"mip_index".decode())[k]] = v
        elif a in ("--insecure", "--force"):
            kw[a[2:]] = True
        elif a == "--no-mip-index":
            kw[b"mip_index".decode()] = False
        elif a == "--boot-files":
            kw[b"boot_files".decode()] = True
        elif a in ("-h", "--help"):
            return 0
        elif a[:1] == "-":
            print("error: unknown option {} (see micropython -m upip --help)".format(a))
            return 2
        else:
            names.append(a)
    if argv[0] not in ("install", "uninstall", "list"):
        print("error: unknown command {} (install, uninstall or list)".format(argv[0]))
        return 2
    if argv[0] != "list" and not names:
        print("error: nothing to {}: give a package name".format(argv[0]))
        return 2
    return argv[0], names, kw
