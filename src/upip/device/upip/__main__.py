# micropython -m upip install|uninstall|list [-p DIR] ...
import sys

import upip


def _main(argv):
    if not argv or argv[0] in ("-h", "--help", "help"):
        upip.help()
        return 0
    cmd, args = argv[0], argv[1:]
    path = index = ca = None
    timeout = 20
    insecure = force = False
    names = []
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-p", "-i", "-r", "--ca", "--timeout"):
            if i + 1 >= len(args):
                print("error: {} needs a value".format(a))
                return 2
            v = args[i + 1]
            i += 2
            if a == "-p":
                path = v
            elif a == "-i":
                index = v
            elif a == "--ca":
                ca = v
            elif a == "--timeout":
                timeout = float(v)
            else:
                try:
                    with open(v) as f:
                        for line in f:
                            line = line.split("#")[0].strip()
                            if line:
                                names.append(line)
                except OSError:
                    print("error: cannot read the requirements file " + v)
                    return 1
            continue
        if a == "--insecure":
            insecure = True
        elif a == "--force":
            force = True
        elif a in ("-h", "--help"):
            upip.help()
            return 0
        elif a[:1] == "-":
            print("error: unknown option {} (see micropython -m upip --help)".format(a))
            return 2
        else:
            names.append(a)
        i += 1
    if cmd == "list":
        for name, version in upip.installed(path):
            print("{} {}".format(name, version))
        return 0
    if not names:
        print("error: nothing to {}: give a package name".format(cmd))
        return 2
    if cmd == "install":
        upip.install(names, path, index, ca, insecure, force, timeout)
        print("Done")
    elif cmd == "uninstall":
        upip.uninstall(names, path)
    else:
        print("error: unknown command {} (install, uninstall or list)".format(cmd))
        return 2
    return 0


def main():
    try:
        code = _main(sys.argv[1:])
    except upip.UpipError as e:
        print("error: {}".format(e))
        code = 1
    except OSError as e:
        print("error: {}".format(e))
        code = 1
    except MemoryError:
        print("error: out of memory")
        code = 1
    if code:
        sys.exit(code)


main()
