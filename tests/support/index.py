"""Write an index tree for a set of distribution files, in three protocols:

* PyPI JSON API: ``pypi/<name>/json`` and ``pypi/<name>/<version>/json``
* PEP 503 / 691 simple index: ``simple/<name>/index.html`` and ``index.json``
* mip index v2 (micropython-lib's): ``mip/package/py/<name>/<version|latest>.json``
  and ``mip/file/<h[:2]>/<h>`` (only for upip-format sdists, whose files are
  unpacked into mip's per-file layout)

Archives live in ``files/``. URLs in the JSON API are absolute (``base_url``),
as on pypi.org; the simple index uses relative links, as pypiserver does.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version


@dataclass
class Dist:
    name: str
    version: str
    filename: str
    data: bytes
    yanked: bool = False
    requires_dist: list[str] | None = None  # what the JSON API's info says (often null)
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def kind(self) -> str:
        return "bdist_wheel" if self.filename.endswith(".whl") else "sdist"


def _norm(name: str) -> str:
    return str(canonicalize_name(name))


def wheel_metadata(data: bytes) -> bytes:
    """The METADATA of a wheel, as PEP 658 serves it beside the wheel."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return zf.read(name)


def write_index(root: Path, dists: list[Dist], base_url: str, mip: bool = False,
                absolute: bool = False, metadata: bool = False) -> None:
    """``absolute``: simple-index links as full URLs (as pypi.org), not relative.
    ``metadata``: each wheel's METADATA beside it (``FILE.metadata``, PEP 658), and
    announced in the simple index (``core-metadata``, PEP 714)."""
    files = root / "files"
    files.mkdir(parents=True, exist_ok=True)
    by_project: dict[str, list[Dist]] = {}
    for d in dists:
        (files / d.filename).write_bytes(d.data)
        if metadata and d.filename.endswith(".whl"):
            meta = wheel_metadata(d.data)
            (files / f"{d.filename}.metadata").write_bytes(meta)
            d.extra.setdefault("core-metadata", {"sha256": hashlib.sha256(meta).hexdigest()})
        by_project.setdefault(_norm(d.name), []).append(d)
    simple = root / "simple"
    simple.mkdir(exist_ok=True)
    links = "".join(f'<a href="{n}/">{n}</a>\n' for n in sorted(by_project))
    (simple / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
    for key, project in by_project.items():
        _write_json_api(root / "pypi" / key, project, base_url)
        _write_simple(simple / key, project, f"{base_url}/files/" if absolute else "../../files/")
        if mip:
            _write_mip(root / "mip", project)


def _file_entry(d: Dist, base_url: str) -> dict[str, object]:
    return {
        "filename": d.filename,
        "url": f"{base_url}/files/{d.filename}",
        "packagetype": d.kind,
        "digests": {"sha256": d.sha256, "md5": hashlib.md5(d.data).hexdigest()},
        "size": len(d.data),
        "yanked": d.yanked,
        "yanked_reason": "fixture" if d.yanked else None,
        "requires_python": None,
        **d.extra,
    }


def _write_json_api(folder: Path, project: list[Dist], base_url: str) -> None:
    releases: dict[str, list[dict[str, object]]] = {}
    for d in project:
        releases.setdefault(d.version, []).append(_file_entry(d, base_url))
    latest = max((d for d in project if not d.yanked and not Version(d.version).is_prerelease),
                 key=lambda d: Version(d.version), default=project[0])
    info = {"name": latest.name, "version": latest.version,
            "requires_dist": latest.requires_dist, "summary": "fixture"}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "json").write_text(json.dumps({
        "info": info, "releases": releases,
        "urls": releases[latest.version], "last_serial": 1}))
    for version, entries in releases.items():
        one = next(d for d in project if d.version == version)
        (folder / version).mkdir(exist_ok=True)
        (folder / version / "json").write_text(json.dumps({
            "info": {**info, "version": version, "requires_dist": one.requires_dist},
            "urls": entries, "last_serial": 1}))


def _write_simple(folder: Path, project: list[Dist], prefix: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    anchors = []
    for d in project:
        yanked = ' data-yanked="fixture"' if d.yanked else ""
        meta = d.extra.get("core-metadata")
        if isinstance(meta, dict):
            yanked += f' data-core-metadata="sha256={meta["sha256"]}"'
        href = html.escape(f"{prefix}{d.filename}#sha256={d.sha256}")
        anchors.append(f'<a href="{href}"{yanked}>{html.escape(d.filename)}</a><br>')
    (folder / "index.html").write_text(
        "<!DOCTYPE html><html><body>\n" + "\n".join(anchors) + "\n</body></html>\n")
    (folder / "index.json").write_text(json.dumps({
        "meta": {"api-version": "1.1"},
        "name": _norm(project[0].name),
        "files": [{"filename": d.filename, "url": f"{prefix}{d.filename}",
                   "hashes": {"sha256": d.sha256}, "yanked": d.yanked,
                   **({"core-metadata": d.extra["core-metadata"]}
                      if "core-metadata" in d.extra else {})} for d in project],
        "versions": sorted({d.version for d in project}),
    }))


def _write_mip(root: Path, project: list[Dist]) -> None:
    """mip v2 package JSON for each upip-format sdist of the project."""
    newest: tuple[Version, dict[str, object]] | None = None
    for d in project:
        if d.filename.endswith(".whl"):
            continue
        with tarfile.open(fileobj=io.BytesIO(d.data)) as tar:
            hashes, deps = [], []
            for m in tar.getmembers():
                if not m.isfile():
                    continue
                rel = m.name.split("/", 1)[1]
                data = tar.extractfile(m).read()  # type: ignore[union-attr]
                if rel.endswith("requires.txt"):
                    # mip has no ranges: a dependency is a bare name at "latest"
                    deps = [[Requirement(line).name, "latest"]
                            for line in data.decode().splitlines() if line.strip()]
                    continue
                if ".egg-info" in rel or rel.startswith(("setup.", "PKG-INFO", "README")):
                    continue
                h = hashlib.sha256(data).hexdigest()[:8]
                target = root / "file" / h[:2] / h
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                hashes.append([rel, h])
        doc = {"v": 1, "version": d.version, "hashes": hashes, "deps": deps}
        folder = root / "package" / "py" / _norm(d.name)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{d.version}.json").write_text(json.dumps(doc))
        v = Version(d.version)
        if not d.yanked and (newest is None or v > newest[0]):
            newest = (v, doc)
    if newest is not None:
        folder = root / "package" / "py" / _norm(project[0].name)
        (folder / "latest.json").write_text(json.dumps(newest[1]))
