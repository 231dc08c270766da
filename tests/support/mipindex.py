"""Write a mip index v2 and ``package.json`` trees, as tests serve them.

The layout is the one micropython-lib's ``tools/build.py`` writes (see the
"mip index v2" section of DESIGN.md)::

    index.json                          {"v": 2, "updated", "packages": [...]}
    package/py/NAME/VERSION.json        {"v": 1, "version", "hashes": [[dest, h]], ...}
    package/py/NAME/latest.json         the newest version's document
    package/6/NAME/...                  the same for the .mpy variant (when asked)
    file/h[:2]/h                        each file, h = the first ``hash_len`` hex
                                        digits of its sha256

Package documents are minified and index.json is indented, as build.py
writes them. Third-party indexes may also list ``urls`` and ``deps``, which
micropython-lib's own index never does; a :class:`MipPackage` can carry both.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import Version

from tests.support.mpy import compile_mpy

MPY_VARIANT = "6"  # sys.implementation._mpy & 0xff on MicroPython 1.19 and later


@dataclass
class MipPackage:
    name: str
    version: str
    files: dict[str, bytes]  # destination -> content (the "py" variant)
    deps: list[list[str]] = field(default_factory=list)  # [[name_or_url, version]]
    urls: list[list[str]] = field(default_factory=list)  # [[destination, url]]
    mpy: bool = False  # also write the bytecode variant, compiled with mpy-cross
    description: str = "fixture"


def short_hash(data: bytes, length: int = 8) -> str:
    return hashlib.sha256(data).hexdigest()[:length]


def _doc(pkg: MipPackage, files: dict[str, bytes], root: Path, hash_len: int) -> dict[str, object]:
    hashes = []
    for dest, data in files.items():
        h = short_hash(data, hash_len)
        target = root / "file" / h[:2] / h
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        hashes.append([dest, h])
    doc: dict[str, object] = {"v": 1, "hashes": hashes, "version": pkg.version}
    if pkg.urls:
        doc["urls"] = pkg.urls
    if pkg.deps:
        doc["deps"] = pkg.deps
    return doc


def _write_doc(path: Path, doc: dict[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")


def write_mip_index(root: Path, packages: list[MipPackage], hash_len: int = 8,
                    index_json: bool = True) -> None:
    """Write ``packages`` (several versions of a name allowed) as a mip v2 index."""
    entries: dict[str, dict[str, object]] = {}
    newest: dict[tuple[str, str], Version] = {}
    for pkg in packages:
        variants = {"py": pkg.files}
        if pkg.mpy:
            variants[MPY_VARIANT] = {
                (d[:-3] + ".mpy" if d.endswith(".py") else d):
                (compile_mpy(data, d) if d.endswith(".py") else data)
                for d, data in pkg.files.items()}
        entry = entries.setdefault(pkg.name, {
            "name": pkg.name, "version": pkg.version, "author": "",
            "description": pkg.description, "license": "MIT", "versions": {},
            "path": f"python-stdlib/{pkg.name}"})
        for variant, files in variants.items():
            doc = _doc(pkg, files, root, hash_len)
            folder = root / "package" / variant / pkg.name
            _write_doc(folder / f"{pkg.version}.json", doc)
            versions = entry["versions"]
            assert isinstance(versions, dict)
            versions.setdefault(variant, []).append(pkg.version)
            v = Version(pkg.version)
            if (pkg.name, variant) not in newest or v > newest[pkg.name, variant]:
                newest[pkg.name, variant] = v
                _write_doc(folder / "latest.json", doc)
                entry["version"] = pkg.version
    if index_json:
        (root / "index.json").write_text(json.dumps(
            {"v": 2, "updated": 1700000000,
             "packages": [entries[n] for n in sorted(entries)]}, indent=2) + "\n")


def write_manifest(folder: Path, files: dict[str, bytes] | None = None,
                   urls: list[list[str]] | None = None, deps: list[list[str]] | None = None,
                   version: str | None = None, name: str = "package.json") -> Path:
    """A third-party package: ``folder/name`` plus ``files`` beside it.

    Unless ``urls`` is given, each file is listed by its path relative to the
    manifest, as most package.json files on GitHub do."""
    folder.mkdir(parents=True, exist_ok=True)
    files = files or {}
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    doc: dict[str, object] = {"urls": urls if urls is not None else [[r, r] for r in files]}
    if deps is not None:
        doc["deps"] = deps
    if version is not None:
        doc["version"] = version
    path = folder / name
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path
