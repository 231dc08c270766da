"""PEP 751 lock files (``pylock.toml``), written and read through packaging.pylock.

One package per resolved project, sorted by name:

* from a PyPI-style index: its ``sdist`` or ``wheels`` entry (file name, URL,
  sha256) and the ``index`` it came from; an sdist whose file name does not
  spell its version the PEP's way (``micropython-pystone_lowmem-3.4.2-4``) is
  an ``archive`` entry instead;
* from a mip index or a package.json: an ``archive`` entry for the package's
  JSON document (URL and sha256) and, in ``[packages.tool.upip]``, ``kind``
  and every file's destination, URL and full sha256 (the PEP has no field for
  a package made of loose files);
* a local project folder: a ``directory`` entry.

``[tool.upip]`` records what the image was locked for: the target profile,
the ``.mpy`` version (or none), the specs asked for. Nothing time-dependent
is written, so the same inputs give the same bytes. Every document is
validated by ``packaging.pylock`` before it is written and when it is read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from packaging.pylock import Pylock, PylockValidationError
from packaging.utils import canonicalize_name

from . import __version__
from .errors import UpipError
from .toml_out import dumps

LOCK_VERSION = "1.0"
DOCUMENT_KINDS = ("mip", "manifest")


class LockError(UpipError, ValueError):
    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


class LockedFile(NamedTuple):
    path: str  # where it lands in the image
    url: str
    sha256: str


class Locked(NamedTuple):
    """One package of a lock: what to fetch, and the hash it must have."""

    name: str
    version: str  # as the index spells it
    kind: str  # sdist, wheel, mip, manifest, dir
    url: str  # the archive, the JSON document, or the folder
    filename: str
    sha256: str
    index_url: str  # where it was found ("" for a direct one)
    files: tuple[LockedFile, ...] = ()  # mip and package.json packages
    dependencies: tuple[str, ...] = ()  # names
    requested: bool = False
    wanted: tuple[str, ...] = ()  # the specs it was asked for by


class Settings(NamedTuple):
    """What the lock was made for."""

    target: str
    mpy: str | None  # the .mpy version installs compile to, or None for sources
    requested: tuple[str, ...]


def _package(p: Locked) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": canonicalize_name(p.name), "version": p.version}
    if p.index_url:
        entry["index"] = p.index_url
    hashes = {"sha256": p.sha256}
    if p.kind == "wheel":
        entry["wheels"] = [{"name": p.filename, "url": p.url, "hashes": hashes}]
    elif p.kind == "sdist":
        entry["sdist"] = {"name": p.filename, "url": p.url, "hashes": hashes}
    elif p.kind == "dir":
        entry["directory"] = {"path": p.url}
    else:
        entry["archive"] = {"url": p.url, "hashes": hashes}
    if p.dependencies:
        entry["dependencies"] = [{"name": canonicalize_name(d)} for d in sorted(p.dependencies)]
    tool: dict[str, Any] = {"name": p.name, "kind": p.kind, "requested": p.requested}
    if p.wanted:
        tool["wanted"] = list(p.wanted)
    if p.kind in DOCUMENT_KINDS:
        tool["filename"] = p.filename
    if p.files:
        tool["files"] = [{"path": f.path, "url": f.url, "sha256": f.sha256}
                         for f in sorted(p.files)]
    entry["tool"] = {"upip": tool}
    return entry


def _valid(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry, or its ``archive`` form when its file's name cannot carry its
    version the PEP's way; an entry with a version that is no version keeps
    it in ``tool.upip`` only."""
    for attempt in range(3):
        try:
            Pylock.from_dict({"lock-version": LOCK_VERSION, "created-by": "upip",
                              "packages": [entry]})
            return entry
        except PylockValidationError:
            if attempt == 0 and ("sdist" in entry or "wheels" in entry):
                dist = entry.pop("sdist", None) or entry.pop("wheels")[0]
                entry["archive"] = {"url": dist["url"], "hashes": dist["hashes"]}
                entry["tool"]["upip"]["filename"] = dist["name"]
            elif attempt <= 1 and "version" in entry:
                entry["tool"]["upip"]["version"] = entry.pop("version")
            else:
                raise
    return entry


_ORDER = ("name", "version", "index", "sdist", "wheels", "archive", "directory",
          "dependencies", "tool")


def _ordered(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: entry[key] for key in _ORDER if key in entry}


def document(packages: Sequence[Locked], settings: Settings) -> dict[str, Any]:
    """The lock as a TOML-ready dict (validated)."""
    tool: dict[str, Any] = {"upip-version": __version__, "target": settings.target,
                            "requested": list(settings.requested)}
    if settings.mpy:
        tool["mpy"] = settings.mpy
    entries = [_package(p) for p in sorted(packages, key=lambda p: canonicalize_name(p.name))]
    doc = {"lock-version": LOCK_VERSION, "created-by": "upip",
           "packages": [_ordered(e) for e in entries], "tool": {"upip": tool}}
    try:  # the whole lock at once: most locks need no entry in another form
        Pylock.from_dict(doc)
    except PylockValidationError:  # find which (one validation per entry)
        doc["packages"] = [_ordered(_valid(e)) for e in entries]
        Pylock.from_dict(doc)  # (raises on anything the PEP does not allow)
    return doc


def dumps_lock(packages: Sequence[Locked], settings: Settings) -> str:
    return dumps(document(packages, settings))


def loads_lock(text: str, where: str) -> tuple[list[Locked], Settings]:
    """The packages and settings of a lock's text; one line naming ``where``
    for anything that is not a PEP 751 lock upip made."""
    import tomllib  # (only a reader: lock writes with toml_out)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LockError(where, f"not TOML ({exc})") from None
    try:
        Pylock.from_dict(data)
    except (PylockValidationError, ValueError, TypeError) as exc:
        raise LockError(where, f"not a PEP 751 lock ({exc})") from None
    tool = _table(data.get("tool"), "upip")
    if not tool:
        raise LockError(where, "a PEP 751 lock, but not one upip made (no [tool.upip]); "
                               "make one with upip lock")
    settings = Settings(str(tool.get("target", "generic")), tool.get("mpy") or None,
                        tuple(str(r) for r in tool.get("requested", [])))
    packages = []
    for entry in data["packages"]:
        own = _table(entry.get("tool"), "upip")
        try:
            packages.append(_locked(entry, own))
        except (KeyError, TypeError, ValueError) as exc:
            raise LockError(where, f"package {entry.get('name')!r} is incomplete ({exc})"
                            ) from None
    return packages, settings


def _table(value: Any, key: str) -> Mapping[str, Any]:
    found = value.get(key) if isinstance(value, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def _locked(entry: Mapping[str, Any], own: Mapping[str, Any]) -> Locked:
    kind = str(own.get("kind", ""))
    version = str(entry.get("version") or own.get("version", ""))
    if "wheels" in entry:
        dist = entry["wheels"][0]
    elif "sdist" in entry:
        dist = entry["sdist"]
    elif "directory" in entry:
        return Locked(str(own.get("name", entry["name"])), version, "dir",
                      str(entry["directory"]["path"]), "", "", "",
                      requested=bool(own.get("requested")),
                      wanted=tuple(str(w) for w in own.get("wanted", [])))
    else:
        dist = {"url": entry["archive"]["url"], "hashes": entry["archive"]["hashes"],
                "name": own.get("filename", "")}
    files = tuple(LockedFile(str(f["path"]), str(f["url"]), str(f["sha256"]))
                  for f in own.get("files", []))
    if kind in DOCUMENT_KINDS and not files:
        raise ValueError("its files are not listed")
    return Locked(str(own.get("name", entry["name"])), version,
                  kind or ("wheel" if "wheels" in entry else "sdist"), str(dist["url"]),
                  str(dist.get("name", "")), str(dist["hashes"]["sha256"]),
                  str(entry.get("index", "")), files,
                  tuple(str(d["name"]) for d in entry.get("dependencies", [])),
                  bool(own.get("requested")), tuple(str(w) for w in own.get("wanted", [])))


def read_lock(path: Path) -> tuple[list[Locked], Settings]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LockError(str(path), f"cannot read it ({exc})") from None
    return loads_lock(text, str(path))
