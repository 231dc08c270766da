"""Files in an image that hide a module built into MicroPython.

Since MicroPython 1.21 most built-in modules are "extensible": ``import os``
finds ``os.py`` or ``os/`` on ``sys.path`` before the firmware's own ``os``.
Packages from the old micropython-lib on PyPI (``micropython-os``, pulled in
by ``micropython-logging``, for one) carry such files, written for ports that
lacked the module; on today's firmware they take its place, and often fail
there. The names are those MicroPython registers with
``MP_REGISTER_EXTENSIBLE_MODULE`` (v1.29 sources); a firmware without one of
them is not harmed, so this warns rather than refuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

EXTENSIBLE_BUILTINS = frozenset({
    "array", "binascii", "bluetooth", "collections", "cryptolib", "errno", "hashlib",
    "heapq", "io", "json", "machine", "os", "platform", "random", "re", "select", "socket",
    "ssl", "string", "struct", "time", "websocket",
})


# How a module that extends a built-in reaches it (micropython-lib's time.py
# starts "from utime import *"; its ssl.py is the firmware's own, over tls).
_REACHES = {"ssl": rb"\b(?:ussl|tls)\b"}


def shadowing(files: Mapping[str, bytes] | Iterable[str]) -> list[tuple[str, str]]:
    """(what in the image, built-in name) for each top-level entry of
    ``files`` that hides a built-in module: ``os/`` for ``os/__init__.py``,
    ``time.py``. Not hiding it: a folder with no ``__init__`` (upip keeps the
    built-in whole there, upip.firmware), nor, when contents are given, a
    module that imports the built-in it stands for (``from utime import *``)."""
    paths = set(files)
    contents = files if isinstance(files, Mapping) else {}
    found: dict[str, str] = {}
    for path in paths:
        top, sep, _ = path.partition("/")
        name = top if sep else top.rpartition(".")[0] if top.endswith((".py", ".mpy")) else ""
        if name not in EXTENSIBLE_BUILTINS:
            continue
        if sep and f"{top}/__init__.py" not in paths and f"{top}/__init__.mpy" not in paths:
            continue
        entry = f"{top}/__init__.py" if sep else path
        reaches = _REACHES.get(name, rb"\bu%s\b" % name.encode())
        if entry in contents and re.search(reaches, contents[entry]):
            continue
        found.setdefault(top + sep, name)
    return sorted(found.items())
