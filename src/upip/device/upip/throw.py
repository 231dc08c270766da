# upip device client: an error while installing o.name (or, before the
# first package is known, in DIR), as the user reads it (loaded only
# then). get adds the URL to an OSError as its second argument, store and
# sync the folder they commit into.
#
# Errors by name: the steps that hold big buffers or run where the heap is
# fullest (get, connect, read, deflate, inflate, unpack, zip, json, index,
# range, mip, tls) raise UpipError(_NAME, what it names...), whose words
# are here, loaded only when one happens (on the step's heap they would
# stay for the whole step). Each module defines the const()
# names it raises, with the numbers below: an underscore-prefixed const
# is replaced by its number when compiled, and costs no qstr nor any heap.
# tests/test_device_errors.py keeps every module's names and this table
# in step.
from micropython import const

from upip import UpipError

# Refusing an archive member (or, when a fourth argument says so, a
# destination): (name, its name, a link's target)
_CONTROL = const(1)
_ABSOLUTE = const(2)
_DOTDOT = const(3)
_TWICE = const(4)
_LINK_ABSOLUTE = const(5)
_LINK_OUT = const(6)
_HARD_LINK = const(7)
_DEVICE = const(8)
_MEMBER_TYPE = const(9)
_BOMB = const(10)
_RESERVED = const(24)
_NOT_UTF8 = const(25)
# An archive (no more arguments)
_CORRUPT = const(11)
_TRUNCATED = const(22)
# The network, TLS, hashes: (name, the URL or host, ...)
_NOWHERE = const(12)  # (name, the package, the sources tried: see get)
_BAD_URL = const(13)
_NO_HOST = const(14)
_CLOSED = const(15)
_STATUS = const(16)
_CUT_SHORT = const(17)
_HASH = const(18)
_REDIRECTS = const(19)
_CA_MISSING = const(20)
_TLS = const(21)
_CA_NOT_DER = const(23)
_NOT_HTTP = const(26)
_TOO_BIG = const(27)
_TOO_SLOW = const(28)
# A document: (name, its URL, ...)
_NOT_JSON = const(29)
_NOT_PYPI = const(30)
_SHORT_HASH = const(31)  # (name, the URL, the file, its hash)
_NOT_PACKAGE = const(32)
_NO_RELEASE = const(33)  # (name, the project, the version)
_NO_SDIST = const(34)  # (name, the project, the version)


def run(o, e):
    if isinstance(e, MemoryError):
        e = "out of memory"
    elif isinstance(e, OSError):
        e = oserror(e)
    elif not isinstance(e, UpipError):  # a bug, or a case no step foresaw: still one line
        e = "unexpected error in the {} step ({}); please report it".format(
            o and o.step, e)
    elif e.args and type(e.args[0]) is int:
        x = e.args
        a = [text(v) for v in x]
        e = {_CONTROL: "backslash or control character in the path",
             _ABSOLUTE: "absolute path",
             _DOTDOT: "path with '..' escapes the target",
             _TWICE: "listed twice",
             _LINK_ABSOLUTE: "link to absolute path {2}",
             _LINK_OUT: "link to {2} points outside the archive",
             _HARD_LINK: "hard link (refused)",
             _DEVICE: "device node or FIFO",
             _MEMBER_TYPE: "unsupported member type",
             _BOMB: "too large to unpack",
             _RESERVED: "a name upip keeps for its own files",
             _NOT_UTF8: "its name is not UTF-8",
             _CORRUPT: "the archive is corrupt",
             _TRUNCATED: "the archive is truncated",
             _NOWHERE: "",
             _BAD_URL: "unsupported URL {1}",
             _NO_HOST: "cannot resolve host {1}",
             _CLOSED: "{1} closed the connection",
             _STATUS: "{1} answered HTTP {2}",
             _CUT_SHORT: "{1}: connection closed mid-body",
             _HASH: "sha256 of {1} is {2}, the index says {3}: corrupt or tampered with",
             _REDIRECTS: "{1}: too many redirects (it redirects in a loop)",
             _CA_MISSING: "cannot read the CA file {1}",
             _TLS: "TLS with {1} failed: {2}",
             _CA_NOT_DER: "the CA file {1} is not a DER certificate",
             _NOT_HTTP: "{1}: the server did not answer in HTTP",
             _TOO_BIG: "{1} is larger than {2} bytes; refusing to download it",
             _TOO_SLOW: "{1}: too slow: {2} bytes in {3} s (upip needs 2048 bytes a second)",
             _NOT_JSON: "{1} is not a JSON document",
             _NOT_PYPI: "{1} is not a PyPI JSON document",
             _SHORT_HASH: "{1}: the hash of {2} is {3!r}: at least 4 hex digits of its "
                          "sha256 are needed",
             _NOT_PACKAGE: "{1}: no urls, hashes or deps: not a package.json",
             _NO_RELEASE: "{1} has no release {2}",
             _NO_SDIST: "{1} {2} has no .tar.gz sdist nor py3-none-any wheel (upip on a PC "
                        "installs others)",
             }[a[0]].format(*a)
        if a[0] <= _BOMB or a[0] == _RESERVED or a[0] == _NOT_UTF8:
            e = "refusing {} {}: {}".format(a[3] if len(a) > 3 else "archive member", a[1], e)
        if a[0] == _NOWHERE:  # found nowhere: (_NOWHERE, name, the sources tried; see get)
            e = "no such package: tried " + ", ".join(
                (o.modules if o.modules is not True else "https://micropython.org/pi/v2")
                if t == 109 else "{}/{}{}".format(o.index, "micropython-" if t == 112 else
                                                        "", a[1]) for t in x[2])
        if a[0] == _TLS and "signed" in a[2]:  # where mbedtls takes its memory from
            # the heap, running out of it in a signature's check reads as
            # "not correctly signed" (measured on such a build: 36-40 KB)
            import gc
            free = gc.mem_free() // 1024
            if free < 48:
                e += " (or too little memory for TLS: {} KB free)".format(free)
    e = "{}".format(e)
    p = o and (o.name or o.path)
    if p and e[:len(p) + 1] != p + ":":  # (a commit's errors name DIR already, some the spec)
        e = "{}: {}".format(p, e)
    return UpipError(e)


def text(x):
    # a name as the steps give it (bytes: its UTF-8, else as Python writes it)
    if type(x) is bytes:
        try:
            return x.decode()
        except ValueError:
            return repr(x)
    return x


def oserror(e):
    # An OSError as one line; get puts the URL in its second argument.
    n = e.args[0] if e.args else 0
    why = {28: "no space left on device", 12: "out of memory", 27: "file too large (disk full?)",
           110: "timed out", 116: "timed out",
           104: "connection reset", 111: "connection refused", 113: "no route to host",
           5: "input/output error", 2: "no such file or directory",
           13: "permission denied", 30: "read-only file system",
           }.get(n, "error {} (errno)".format(n))
    return why if len(e.args) < 2 else "{}: {}".format(e.args[1], why)
