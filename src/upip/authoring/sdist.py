"""Write upip-format sdists: small, reproducible, inflatable with a 4 KiB window.

The archive is ``NAME-VERSION.tar.gz`` (PEP 625 name) with members under
``NAME-VERSION/``: the package and module files, ``R.py`` resource modules,
``NAME.egg-info/PKG-INFO`` and ``requires.txt`` (what every upip since 2014
reads), and a top-level ``PKG-INFO`` (what twine and PyPI read; old upip skips
it). Nothing else: no setup.py, README or setup.cfg.

Reproducible: members sorted, plain ustar headers (no PAX records an old tar
reader would take for files), owner root/0, modes 0644, mtime from
``SOURCE_DATE_EPOCH`` or a fixed date; gzip at level 9 with a 4 KiB window
and a zero header timestamp. Building twice gives the same sha256.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from packaging.requirements import Requirement

from ..atomic import write_atomic
from ..errors import ProjectError
from ..fields import Record, field
from .project import Metadata, Project
from .resources import is_resource, render

#: 1980-01-01, the zip epoch wheels use: the mtime when SOURCE_DATE_EPOCH is unset.
FIXED_MTIME = 315532800
WINDOW_BITS = 12  # 4 KiB


def source_date_epoch(env: Mapping[str, str] | None = None) -> int:
    value = (os.environ if env is None else env).get("SOURCE_DATE_EPOCH", "")
    if not value:
        return FIXED_MTIME
    try:
        return max(0, int(value))
    except ValueError:
        raise ProjectError("SOURCE_DATE_EPOCH", f"{value!r} is not a number of seconds; "
                                                "unset it or give e.g. 1700000000") from None


def gzip_4k(raw: bytes) -> bytes:
    """gzip ``raw`` at level 9 with a 4 KiB window (mtime 0 in the header)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + WINDOW_BITS, 9)
    return comp.compress(raw) + comp.flush()


def tar(members: Iterable[tuple[str, bytes]], mtime: int) -> bytes:
    """A ustar archive of regular files, sorted by name, with fixed headers."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as out:
        for name, data in sorted(members):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), mtime, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            try:
                out.addfile(info, io.BytesIO(data))
            except ValueError as exc:
                raise ProjectError(name, f"cannot be stored in a ustar archive ({exc}); "
                                         "shorten the path") from None
    return buf.getvalue()


def requires_txt(dependencies: Iterable[str]) -> str:
    """setuptools' requires.txt: plain lines, then one ``[:marker]`` section per marker."""
    plain: list[str] = []
    sections: dict[str, list[str]] = {}
    for dep in dependencies:
        req = Requirement(dep)
        marker, req.marker = req.marker, None
        (sections.setdefault(f":{marker}", []) if marker else plain).append(str(req))
    text = "".join(f"{line}\n" for line in plain)
    for head, lines in sections.items():
        text += f"\n[{head}]\n" + "".join(f"{line}\n" for line in lines)
    return text


def pkg_info(meta: Metadata) -> str:
    lines = ["Metadata-Version: 2.1", f"Name: {meta.name}", f"Version: {meta.version}"]
    if meta.summary:
        lines.append(f"Summary: {' '.join(meta.summary.split())}")
    if meta.home_page:
        lines.append(f"Home-page: {meta.home_page}")
    if meta.license:
        lines.append(f"License: {' '.join(meta.license.split())}")
    lines += [f"Requires-Dist: {Requirement(dep)}" for dep in meta.dependencies]
    return "\n".join(lines) + "\n"


class Built(Record):
    path: Path
    sha256: str
    size: int
    raw_size: int
    #: archive member paths below the top folder
    files: list[str]
    #: package → resource keys put into its R.py
    resources: dict[str, list[str]] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {"path": str(self.path), "sha256": self.sha256, "size": self.size,
                "uncompressed": self.raw_size, "files": self.files,
                "resources": self.resources, "left_out": self.left_out,
                "warnings": self.warnings}


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ProjectError(str(path), f"cannot read it ({exc.strerror or exc}); fix its "
                                      "permissions or leave it out with [tool.upip] "
                                      "exclude") from None


def project_members(project: Project) -> tuple[dict[str, bytes], dict[str, list[str]]]:
    """The files of the archive (paths below the top folder) and the R.py keys."""
    members: dict[str, bytes] = {}
    resources: dict[str, dict[str, bytes]] = {}
    for rel in project.files:
        data = _read(project.source / rel)
        top, sep, rest = rel.partition("/")
        if sep and is_resource(rel):
            resources.setdefault(top, {})[rest] = data
            if not project.keep_resource_files:
                continue
        members[rel] = data
    for pkg, res in resources.items():
        members[f"{pkg}/R.py"] = render(res, f"package {pkg}").encode()
    meta = project.meta
    info = pkg_info(meta).encode()
    egg = f"{meta.dist_name}.egg-info"
    members["PKG-INFO"] = info
    members[f"{egg}/PKG-INFO"] = info
    members[f"{egg}/requires.txt"] = requires_txt(meta.dependencies).encode()
    return members, {pkg: sorted(res) for pkg, res in sorted(resources.items())}


def write_archive(members: Mapping[str, bytes], top: str, out: Path, mtime: int) -> Built:
    """Write the archive atomically (temp file, then rename) and describe it."""
    raw = tar(((f"{top}/{rel}", data) for rel, data in members.items()), mtime)
    data = gzip_4k(raw)
    write_atomic(out, data, ProjectError, mkdir=True)
    return Built(path=out, sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                 raw_size=len(raw), files=sorted(members))


def build(project: Project, out_dir: Path, mtime: int | None = None) -> Built:
    """Build ``project`` into ``out_dir/NAME-VERSION.tar.gz``."""
    members, resources = project_members(project)
    top = f"{project.meta.dist_name}-{project.meta.version}"
    built = write_archive(members, top, out_dir / f"{top}.tar.gz",
                          source_date_epoch() if mtime is None else mtime)
    built.resources, built.left_out = resources, project.left_out
    built.warnings = list(project.warnings)
    return built
