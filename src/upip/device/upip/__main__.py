# micropython -m upip install|uninstall|list [-p DIR] ...
import sys

import upip

sys.exit(upip.main(sys.argv[1:]))
