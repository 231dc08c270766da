"""What an image costs in flash: as sources, as ``.mpy``, and in a ROMFS image.

Per package (and for files no package owns) and in total; a budget check
that names the largest packages when the total does not fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from . import romfs
from .compile import CompileOptions, compilable, compile_files
from .dists import never_installed
from .errors import UpipError
from .fields import Record, field
from .image import Image
from .mpy import mpy_name

OTHER = "(files of no package)"
#: where a ROMFS image puts the image directory: /rom/lib is on sys.path
ROMFS_PREFIX = "lib"


class OverBudget(UpipError, ValueError):
    def __init__(self, what: str, total: int, budget: int, largest: list[tuple[str, int]]) -> None:
        self.total, self.budget, self.largest = total, budget, largest
        names = ", ".join(f"{name} ({size} B)" for name, size in largest[:3])
        super().__init__(f"{what} needs {total} bytes, {total - budget} over the budget of "
                         f"{budget}; largest: {names}. Nothing was written")


class Row(Record):
    name: str
    version: str
    files: int
    source: int
    mpy: int
    romfs: int

    def as_json(self) -> dict[str, object]:
        return vars(self).copy()


class SizeReport(Record):
    target: Path
    mpy: str
    rows: list[Row] = field(default_factory=list)
    romfs_image: int = 0

    @property
    def source(self) -> int:
        return sum(r.source for r in self.rows)

    @property
    def compiled(self) -> int:
        return sum(r.mpy for r in self.rows)

    def largest(self, figure: str) -> list[tuple[str, int]]:
        return sorted(((r.name, int(getattr(r, figure))) for r in self.rows),
                      key=lambda x: -x[1])

    def as_json(self) -> dict[str, object]:
        return {"target": str(self.target), "mpy": self.mpy,
                "packages": [r.as_json() for r in self.rows],
                "total": {"source": self.source, "mpy": self.compiled,
                          "romfs": self.romfs_image}}


def image_files(root: Path) -> dict[str, bytes]:
    """Every file of an image directory (upip's own files aside)."""
    if not root.is_dir():
        raise UpipError(f"{root} is not a directory; give the image with -p DIR")
    return {p: (root / p).read_bytes() for p in Image(root, {}).paths()}


def romfs_tree(files: Mapping[str, bytes], prefix: str = ROMFS_PREFIX) -> dict[str, bytes]:
    """The image's files under ``prefix`` (stubs an older install left aside)."""
    return {f"{prefix}/{p}" if prefix else p: d for p, d in files.items()
            if not never_installed(p)}


def measure(root: Path, options: CompileOptions) -> tuple[SizeReport, dict[str, bytes]]:
    """Sizes per package and in total; also the compiled files (for a ROMFS image)."""
    image = Image.open(root)
    files = image_files(image.root)
    compiled = compile_files(files, options)
    report = SizeReport(image.root, options.target.mpy)
    empty = len(romfs.build({}))
    groups: dict[str, tuple[str, str, list[str]]] = {}
    owned: set[str] = set()
    for key, rec in sorted(image.records.items()):
        paths = [f.path for f in rec.files if f.path in files]
        groups[key] = (rec.name, rec.version, paths)
        owned.update(paths)
    rest = [p for p in files if p not in owned]
    if rest:
        groups[OTHER] = (OTHER, "", rest)
    for name, version, paths in groups.values():
        forms = {mpy_name(p) if compilable(p) else p for p in paths}
        part = {p: compiled[p] for p in forms}
        report.rows.append(Row(name, version, len(paths), sum(len(files[p]) for p in paths),
                               sum(len(d) for d in part.values()),
                               len(romfs.build(romfs_tree(part))) - empty))
    report.romfs_image = len(romfs.build(romfs_tree(compiled)))
    return report, compiled


def check_budget(what: str, total: int, budget: int | None,
                 largest: list[tuple[str, int]]) -> None:
    if budget is not None and total > budget:
        raise OverBudget(what, total, budget, largest)


def romfs_image(root: Path, options: CompileOptions | None, prefix: str = ROMFS_PREFIX,
                budget: int | None = None) -> tuple[bytes, int]:
    """A ROMFS image of the image folder ``root`` (code compiled for
    ``options``; None: sources as they are) under ``/rom/PREFIX``, and how
    many files it holds; refused when larger than ``budget``."""
    if options is None:
        files = image_files(root)
        largest = sorted(((p, len(d)) for p, d in files.items()), key=lambda x: -x[1])
    else:
        report, files = measure(root, options)
        largest = report.largest("romfs")
    image = romfs.build(romfs_tree(files, prefix.strip("/")))
    check_budget(f"the ROMFS image of {root}", len(image), budget, largest)
    return image, len(files)
