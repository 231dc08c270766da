"""What the firmware already has decides what an install takes.

Two rules, for a target profile (:mod:`upip.target`); the device client
follows the same ones for its own firmware:

* **A dependency the firmware provides is skipped**: when every top-level
  module a dependency installs (``os/__init__.py`` is ``os``) is built into
  the firmware or frozen in it. Old ``micropython-*`` releases on PyPI pull in
  ffi-era ``micropython-os``, ``-re-pcre``, ``-time``..., which would hide the
  firmware's own modules and fail. What only a skipped package pulled in is
  skipped with it. A package the user asked for is never skipped.
* **An extended built-in stays whole**: a package that adds files to a folder
  named after an extensible built-in (``os/path.py``) gets ``os/__init__.py``
  re-exporting the firmware's module, unless the image has one: a folder
  ``os/`` alone would be imported as an empty namespace package instead of
  the firmware's ``os`` (``from uos import *`` reaches the built-in on every
  MicroPython since 1.21).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from .resolve import Resolved
from .sources import Candidate
from .target import Profile

SHIM = "# upip: MicroPython's built-in {0} module, which the {0}/ folder extends\nfrom u{0} import *\n"


def top_modules(paths: Iterable[str]) -> set[str]:
    """The importable top-level names a set of image paths provides."""
    found = set()
    for path in paths:
        top, sep, _ = path.partition("/")
        if sep:
            if top.isidentifier():
                found.add(top)
        elif top.endswith((".py", ".mpy")) and top.rsplit(".", 1)[0].isidentifier():
            found.add(top.rsplit(".", 1)[0])
    return found


def provided(resolved: list[Resolved], modules_of: Callable[[Candidate], set[str]],
             profile: Profile) -> dict[str, list[str]]:
    """The dependencies whose every top-level module the firmware has: key ->
    those modules. (What only they pulled in goes with them: upip.resolve.prune.)"""
    found = {}
    for res in resolved:
        if res.requested or res.cand.kind == "installed":
            continue
        modules = modules_of(res.cand)
        if modules and all(profile.provides(m) for m in modules):
            found[res.cand.key] = sorted(modules)
    return found


def shims_needed(paths: Iterable[str], extensible: Iterable[str]) -> list[str]:
    """The extensible built-ins whose folder the image has without an ``__init__``."""
    paths = set(paths)
    folders = {p.partition("/")[0] for p in paths if "/" in p}
    return sorted(name for name in set(extensible) & folders
                  if f"{name}/__init__.py" not in paths and f"{name}/__init__.mpy" not in paths)


def shim(name: str) -> tuple[str, bytes]:
    """The ``NAME/__init__.py`` that keeps the built-in ``NAME`` whole."""
    return f"{name}/__init__.py", SHIM.format(name).encode()


def prune(resolved: list[Resolved], edges: Mapping[Candidate, Iterable[str]],
          dropped: Iterable[str]) -> tuple[list[Resolved], dict[str, str]]:
    """The resolved set without the ``dropped`` keys and what only they pulled
    in: what the requested projects reach without passing through a dropped
    one. Returns (kept, {left-out key: a dropped key that pulled it in})."""
    dropped = set(dropped)
    if not dropped:
        return resolved, {}
    by_key = {r.cand.key: r for r in resolved}
    keep: set[str] = set()
    todo = [key for key, res in by_key.items() if res.requested]
    while todo:
        key = todo.pop()
        if key in keep or key in dropped or key not in by_key:
            continue
        keep.add(key)
        todo += edges.get(by_key[key].cand, ())
    left_out = {}
    for key in sorted(by_key.keys() - keep - dropped):
        pulled_by = [d for d in sorted(dropped) if d in by_key
                     and key in edges.get(by_key[d].cand, ())]
        left_out[key] = pulled_by[0] if pulled_by else sorted(dropped)[0]
    return [r for r in resolved if r.cand.key in keep], left_out
