"""Target profiles: what a firmware has built in.

A profile names a port and MicroPython release (``rp2-1.24``) and says what
its firmware is: the ``.mpy`` version it loads, its native arch, its C
modules (those registered with ``MP_REGISTER_MODULE``; the
``MP_REGISTER_EXTENSIBLE_MODULE`` ones also apart) and the modules its
default board freezes. The data is ``targets.json`` beside this module,
written by ``tools/make_targets.py`` from MicroPython's sources and read on
first use. ``generic`` (the default) is what every port has at the newest
release, so that skipping a dependency "the firmware has" is safe on any
current board.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, NamedTuple

from .errors import UpipError

DEFAULT_PROFILE = "generic"
DATA = Path(__file__).with_name("targets.json")

_SPELLING = re.compile(r"(?P<port>[a-z][a-z0-9_]*)(?:-v?(?P<version>\d+\.\d+)(?:\.\d+)?"
                       r"(?:-?[a-z][a-z0-9]*)?)?")


class UnknownTarget(UpipError, ValueError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name, self.known = name, known
        shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
        super().__init__(f"target {name!r} is unknown; known: {shown} (upip targets)")


class Profile(NamedTuple):
    name: str
    port: str
    version: str  # "1.29"
    mpy: str  # "6.3"
    arch: str | None  # native code the firmware loads, None when it loads none
    builtins: frozenset[str]  # C modules, extensible ones included
    extensible: frozenset[str]
    frozen: frozenset[str]
    board: str = ""  # the board (or unix variant) the modules were read from

    def provides(self, module: str) -> bool:
        """Whether the firmware has the top-level module of ``module`` built in
        or frozen: ``os.path`` asks for ``os``; ``uos`` counts when ``os`` is an
        extensible built-in (MicroPython's alias), ``usys`` when ``sys`` is built in."""
        top = module.partition(".")[0]
        if top in self.builtins or top in self.frozen:
            return True
        if top == "usys":
            return "sys" in self.builtins
        return top.startswith("u") and top[1:] in self.extensible


_cache: dict[str, dict[str, Any]] = {}


def _profiles() -> dict[str, dict[str, Any]]:
    if not _cache:
        data = json.loads(DATA.read_text(encoding="utf-8"))
        _cache.update(data["profiles"])
    return _cache


def _version_key(name: str) -> tuple[str, tuple[int, ...]]:
    port, _, version = name.partition("-")
    numbers = tuple(int(p) for p in version.split(".") if p.isdigit())
    return ("" if name == DEFAULT_PROFILE else port, numbers)


def profile_names() -> list[str]:
    """Every known profile: ``generic`` first, then by port and release."""
    return sorted(_profiles(), key=_version_key)


def _known_for(port: str) -> list[str]:
    names = profile_names()
    same = [n for n in names if n.partition("-")[0] == port]
    if same:
        return same
    newest: dict[str, str] = {}
    for name in names:
        newest[name.partition("-")[0]] = name  # names are sorted: the last is the newest
    return list(newest.values())


def load_profile(name: str | None = None) -> Profile:
    """The profile called ``name`` (default: ``generic``). ``unix`` means the
    newest release of that port; ``rp2-1.24.1`` means ``rp2-1.24``."""
    wanted = DEFAULT_PROFILE if name is None else name.strip().lower()
    profiles = _profiles()
    key = wanted if wanted in profiles else _spelled(wanted, profiles)
    if key is None:
        found = _SPELLING.fullmatch(wanted)
        raise UnknownTarget(name or "", _known_for(found.group("port") if found else ""))
    data = profiles[key]
    return Profile(
        name=key, port=data["port"], version=data["version"], mpy=data["mpy"],
        arch=data.get("arch"), builtins=frozenset(data["builtins"]),
        extensible=frozenset(data["extensible"]), frozen=frozenset(data["frozen"]),
        board=data.get("board", ""),
    )


def _spelled(wanted: str, profiles: dict[str, dict[str, Any]]) -> str | None:
    found = _SPELLING.fullmatch(wanted)
    if not found:
        return None
    port, version = found.group("port"), found.group("version")
    if version is not None:
        key = f"{port}-{version}"
        return key if key in profiles else None
    releases = [n for n in profile_names() if n.partition("-")[0] == port and "-" in n]
    return releases[-1] if releases else None
