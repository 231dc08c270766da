# micropython -m upip install|uninstall|list [-p DIR] ...: exit status 0 on
# success, 1 on error, 2 on bad usage. What stays loaded while it installs
# is this, and the upip module.
import sys

import upip

a = upip.run("argv", sys.argv[1:])  # -> (command, names, {option: value}) or a status
if a == 0:
    upip.help()
if type(a) is not int:
    try:
        if a[0] == "list":
            for a in upip.installed(a[2].get("path")):
                print(a[0], a[1])
        elif a[0] == "uninstall":
            upip.uninstall(a[1], a[2].get("path"))
        else:
            upip.install(a[1], **a[2])
            print("Done")
        a = 0
    except (upip.UpipError, OSError) as e:
        print("error: {}".format(e))
        a = 1
    except MemoryError:
        print("error: out of memory")
        a = 1
sys.exit(a)
