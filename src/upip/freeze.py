"""Firmware freezing: ``manifest.py`` for an image, and ``upip freeze`` for a port.

A current port freezes what a ``manifest.py`` names (``make
FROZEN_MANIFEST=...``): ``package(name, base_path=)`` and ``module(file,
base_path=)`` for sources, ``freeze(base_path, name)`` for ``.mpy`` files
(which ``package``/``module`` do not take). Paths are written relative to the
manifest, so the port tree can move.

``upip freeze`` is the docs' old workflow in one command: back up the files in
``PORT/modules`` that no install put there (as ``make clean-frozen`` did),
empty the folder with ``--clean``, install into it, write the manifest.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .atomic import write_atomic
from .errors import ImageError
from .fields import Record, field
from .image import RESERVED, Image
from .report import Reporter

if TYPE_CHECKING:
    from .options import Options
    from .results import InstallReport
    from .specs import Spec

MANIFEST_NAME = "manifest_upip.py"


def _code(path: Path) -> bool:
    return path.suffix in (".py", ".mpy")


def _has(folder: Path, suffix: str) -> bool:
    return any(p.suffix == suffix for p in folder.rglob(f"*{suffix}"))


class Manifest(Record):
    text: str
    #: top-level data files outside packages, which a frozen build cannot hold
    left_out: list[str] = field(default_factory=list)
    #: data files inside packages: frozen firmware has no files, so only R.py serves them
    data_files: list[str] = field(default_factory=list)

    def warnings(self) -> list[str]:
        out = [f"{name} is not code in a package; frozen firmware cannot hold it"
               for name in self.left_out]
        if self.data_files:
            out.append(f"frozen firmware has no files: {', '.join(self.data_files[:5])} "
                       "can only be read from R.py (pkg_resources)")
        return out


def manifest(image_dir: Path, manifest_dir: Path, include: str | None = None) -> Manifest:
    """The manifest.py text freezing every package and module of ``image_dir``."""
    image = Image.open(image_dir, must_exist=True)
    versions = {}
    for rec in image.records.values():
        tops = {f.path.split("/", 1)[0] for f in rec.files}
        for top in tops:
            versions[top] = f"{rec.name} {rec.version}"
    base = os.path.relpath(image_dir, manifest_dir).replace(os.sep, "/")
    lines = ["# Frozen modules written by upip: build with make FROZEN_MANIFEST=<this file>",
             f"# from the image {base!r} (relative to this file)."]
    if include:
        lines.append(f"include({include!r})")
    out = Manifest("")
    for entry in sorted(image.root.iterdir() if image.root.is_dir() else []):
        name = entry.name
        if name in RESERVED or name.startswith("."):
            continue
        about = f"  # {versions[name]}" if name in versions else ""
        if entry.is_dir():
            if not (_has(entry, ".py") or _has(entry, ".mpy")):
                out.left_out.append(name + "/")
                continue
            out.data_files += sorted(p.relative_to(image.root).as_posix()
                                     for p in entry.rglob("*") if p.is_file() and not _code(p))
            if _has(entry, ".mpy"):
                lines.append(f"freeze({base!r}, {name!r}){about}")
            else:
                lines.append(f"package({name!r}, base_path={base!r}){about}")
        elif entry.suffix == ".py":
            lines.append(f"module({name!r}, base_path={base!r}){about}")
        elif entry.suffix == ".mpy":
            lines.append(f"freeze({base!r}, {name!r}){about}")
        else:
            out.left_out.append(name)
    out.text = "\n".join(lines) + "\n"
    return out


# -- ports ---------------------------------------------------------------------------------


def check_port(port: Path) -> Path:
    """The port's ``modules`` folder; the port must look like a MicroPython port."""
    if not port.is_dir():
        raise ImageError(str(port), "no such folder; give a MicroPython port folder such as "
                                    "micropython/ports/esp32")
    markers = [m for m in ("Makefile", "CMakeLists.txt", "modules", "boards")
               if (port / m).exists()]
    if "Makefile" not in markers and "CMakeLists.txt" not in markers:
        raise ImageError(str(port), "is not a MicroPython port folder (no Makefile or "
                                    "CMakeLists.txt); give e.g. micropython/ports/esp8266")
    modules = port / "modules"
    if modules.exists() and not modules.is_dir():
        raise ImageError(str(modules), "exists and is not a folder")
    return modules


def board_manifest(port: Path) -> str | None:
    """``$(PORT_DIR)/boards/manifest.py`` when the port has one (keep what it freezes)."""
    return "$(PORT_DIR)/boards/manifest.py" if (port / "boards" / "manifest.py").is_file() \
        else None


def untracked(modules: Path) -> list[str]:
    """Files in ``modules`` that no upip install put there."""
    return Image.open(modules).unowned()


def back_up(modules: Path, files: list[str], port: Path) -> Path:
    """Copy ``files`` (relative to ``modules``) to ``PORT/modules-backup/<time>/``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    dest = port / "modules-backup" / stamp
    n = 1
    while dest.exists():
        n += 1
        dest = port / "modules-backup" / f"{stamp}-{n}"
    try:
        for rel in files:
            copy = dest / rel
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(modules / rel, copy)
    except OSError as exc:
        raise ImageError(str(dest), f"cannot back up into it ({exc.strerror or exc}); "
                                    "nothing was changed in modules/") from None
    return dest


def remove(modules: Path, files: list[str]) -> None:
    for rel in files:
        (modules / rel).unlink()
    for folder in sorted({p for rel in files for p in Path(rel).parents if str(p) != "."},
                         key=lambda p: -len(p.parts)):
        with contextlib.suppress(OSError):
            (modules / folder).rmdir()


class FreezeReport(Record):
    modules: Path
    manifest: Path
    untracked: list[str]
    backup: Path | None
    installed: InstallReport | None


def freeze_port(port: Path, specs: list[Spec], options: Options, clean: bool = False,
                budget: int | None = None, reporter: Reporter | None = None) -> FreezeReport:
    """Back up what no install put in PORT/modules, empty it when ``clean``,
    install ``specs`` into it and write PORT/manifest_upip.py. With ``budget``,
    the install is first made in a scratch copy and measured: nothing in the
    port changes when the frozen code would not fit."""
    from .compile import CompileOptions
    from .installer import install, uninstall
    from .mpy import target
    from .size import check_budget, measure

    reporter = reporter or Reporter()
    modules = check_port(port)
    if budget is not None:
        with tempfile.TemporaryDirectory(prefix="upip-freeze-") as tmp:
            scratch = Path(tmp) / "modules"
            if modules.is_dir() and not clean:
                shutil.copytree(modules, scratch, symlinks=True)
            install(specs, scratch, options, reporter)
            sizes, _ = measure(scratch, CompileOptions(target()))
            check_budget("the frozen code (.mpy)", sizes.compiled, budget,
                         sizes.largest("mpy"))
    loose = untracked(modules)
    backup = back_up(modules, loose, port) if loose else None
    if clean and modules.is_dir():
        names = [r.name for r in Image.open(modules).records.values()]
        if names:
            uninstall(names, modules, reporter)
        remove(modules, loose)
    done = install(specs, modules, options, reporter) if specs else None
    made = manifest(modules, port, board_manifest(port))
    for warning in made.warnings():
        reporter.warn(warning)
    target_file = port / MANIFEST_NAME
    write_atomic(target_file, made.text.encode("utf-8"))
    return FreezeReport(modules, target_file, loose, backup, done)
