# micropython -m upip install|uninstall|list [-p DIR] ...: exit status 0 on
# success, 1 on error, 2 on bad usage, 130 when interrupted (Ctrl-C). What stays loaded while it installs
# is this, and the upip module.
import sys

import upip

args = upip.run("argv", sys.argv[1:])  # -> (command, names, {option: value}) or a status
if args == 0:
    upip.help()
if type(args) is not int:
    try:
        if args[0] == "install":
            upip.install(args[1], **args[2])
            print("Done")
        else:  # list, uninstall
            upip.run("_api", args)
        args = 0
    except (upip.UpipError, OSError) as e:  # (OSError: said in words by _api and throw)
        print("error: {!s}".format(e))  # (11 characters: no qstr)
        args = 1
    except MemoryError:
        print("error: out of memory")
        args = 1
    except KeyboardInterrupt:  # (Ctrl-C: the stage is gone, or rolled back)
        print("error: interrupted; the image was left as it was")
        args = 130
sys.exit(args)
