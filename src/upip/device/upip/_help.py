# upip device client: micropython -m upip --help (loaded only to print it).
def run():
    print("""upip - install MicroPython packages from PyPI on the device
  micropython -m upip install [-p DIR] [-r FILE] [-i INDEX] [--ca DER] [--insecure] [--force] [--timeout S] PKG...
  micropython -m upip uninstall [-p DIR] NAME...
  micropython -m upip list [-p DIR]
  import upip; upip.install("micropython-umqtt.simple")
PKG: name, name==1.2 or name@1.2 (micropython-NAME is tried when NAME is unknown).
DIR: the first .../lib folder on sys.path. INDEX: https://pypi.org/pypi.
TLS certificates are checked against the DER CA file given with --ca, or upip/ca.der;
without one, upip warns (--insecure: skip the check and the warning).""")
