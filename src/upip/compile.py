"""Compile an image's ``.py`` files to ``.mpy`` for one MicroPython target.

Used by ``upip compile`` (an installed image, in one transaction with its
records) and ``upip install --mpy`` (the files of each package on their way
in). Resources and ``boot.py``/``main.py`` at the top of the image (which a
board runs as source) stay as they are. An image holds ``.mpy`` files for one
firmware only: a file that would not load beside the new ones is an error
naming it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .errors import ImageError
from .fetch import sha256_hex
from .fields import Record, field
from .image import Image
from .mpy import ARCHES, MpyHeader, Target, TargetError, compile_source, mpy_name, read_header
from .records import DistRecord, FileRecord
from .report import Reporter

#: run as source by a board at boot: never compiled
ENTRY_POINTS = ("boot.py", "main.py")


class CompileOptions(Record):
    target: Target
    opt: int | None = None  # mpy-cross -O
    arch: str | None = None  # mpy-cross -march

    def __post_init__(self) -> None:
        if self.opt is not None and not 0 <= self.opt <= 3:
            raise TargetError(f"-O{self.opt}", "the optimisation level is 0 to 3")
        if self.arch is not None and self.arch not in ARCHES[1:]:
            raise TargetError(self.arch, f"unknown architecture; one of {', '.join(ARCHES[1:])}")

    def header(self) -> MpyHeader:
        """The header the compiled files will have (as far as loading goes)."""
        major, _, sub = self.target.mpy.partition(".")
        arch = ARCHES.index(self.arch) if self.arch else 0
        return MpyHeader(int(major), int(sub or 0), arch, 31)

    def argv(self) -> list[str]:
        out = [f"-O{self.opt}"] if self.opt is not None else []
        return out + ([f"-march={self.arch}"] if self.arch else [])


def compilable(path: str) -> bool:
    return path.endswith(".py") and path not in ENTRY_POINTS


def compiled_paths(paths: Sequence[str]) -> list[str]:
    """The paths a set of files will have once compiled."""
    return sorted(mpy_name(p) if compilable(p) else p for p in paths)


def compile_files(files: Mapping[str, bytes], options: CompileOptions) -> dict[str, bytes]:
    """``.py`` → ``.mpy`` (in parallel, one mpy-cross per file); others unchanged."""
    todo = [p for p in files if compilable(p)]
    out = {p: d for p, d in files.items() if not compilable(p)}
    argv = options.argv()
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 2)) as pool:
        done = pool.map(lambda p: compile_source(files[p], p, binary=options.target.compiler,
                                                 options=argv), todo)
        for path, data in zip(todo, done, strict=True):
            target = mpy_name(path)
            if target in out:
                raise ImageError(path, f"compiles to {target}, which the package also ships; "
                                       "install it without --mpy")
            out[target] = data
    return out


def check_compatible(new: Mapping[str, bytes | MpyHeader], existing: Mapping[str, MpyHeader],
                     label: str) -> None:
    """Refuse ``.mpy`` files that would not load on the same firmware as the others."""
    for path, data in sorted(new.items()):
        if not path.endswith(".mpy"):
            continue
        header = data if isinstance(data, MpyHeader) else read_header(data, path)
        for other, theirs in sorted(existing.items()):
            if not header.compatible(theirs):
                raise TargetError(label, f"{path} would be {header}, but {other} in the "
                                         f"image is {theirs}; an image holds .mpy files for "
                                         "one firmware: reinstall everything with "
                                         "upip install --force-reinstall --mpy=TARGET")


class CompileReport(Record):
    target: Path
    mpy: str
    compiled: list[str] = field(default_factory=list)
    packages: list[str] = field(default_factory=list)
    #: .py files that no installed package owns (left alone)
    unowned: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {"target": str(self.target), "mpy": self.mpy, "compiled": self.compiled,
                "packages": self.packages, "unowned": self.unowned}


def compile_image(root: Path, options: CompileOptions, reporter: Reporter | None = None,
                  dry_run: bool = False) -> CompileReport:
    """Compile every package's .py files in the image, in one transaction."""
    with Image.for_change(root, reporter, dry_run) as image:
        return _compile_image(image, options, dry_run)


def _compile_image(image: Image, options: CompileOptions, dry_run: bool) -> CompileReport:
    root = image.root
    if not image.records:
        raise ImageError(str(root), "no package installed by upip here; install some first "
                                    "(or use upip install --mpy)")
    report = CompileReport(image.root, options.target.mpy)
    records = dict(image.records)
    sources: dict[str, bytes] = {}
    for rec in image.records.values():
        for f in rec.files:
            if compilable(f.path):
                try:
                    sources[f.path] = (image.root / f.path).read_bytes()
                except OSError as exc:
                    raise ImageError(str(image.root / f.path),
                                     f"cannot read it ({exc.strerror or exc}); repair the "
                                     f"image with upip install --force-reinstall {rec.name}"
                                     ) from None
    changing = {k for k, r in image.records.items() if any(compilable(f.path) for f in r.files)}
    existing = image.headers(changing)
    check_compatible({"(the target).mpy": options.header()}, existing, options.target.label)
    compiled = compile_files(sources, options)
    check_compatible(compiled, existing, options.target.label)
    for key, rec in sorted(image.records.items()):
        if key not in changing:
            continue
        files = []
        for f in rec.files:
            if compilable(f.path):
                new = mpy_name(f.path)
                data = compiled[new]
                files.append(FileRecord(new, sha256_hex(data), len(data)))
                report.compiled.append(f.path)
            else:
                files.append(f)
        records[key] = DistRecord(rec.name, rec.version, rec.requested, rec.sha256, rec.source,
                                 rec.requires, sorted(files, key=lambda f: f.path), rec.wanted)
        report.packages.append(rec.name)
    report.unowned = [p for p in image.unowned() if p.endswith(".py")]
    if dry_run or not report.compiled:
        return report
    image.commit({mpy_name(p): compiled[mpy_name(p)] for p in report.compiled}, report.compiled,
                 records.values())
    return report
