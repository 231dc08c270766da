"""list, show and check: the commands that read an image (a folder's or a
board's) and change nothing."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UpipError
from .common import (
    common_options,
    device_options,
    image_dir,
    mip_index,
    mip_index_options,
    open_board_image,
    target_option,
)

if TYPE_CHECKING:
    from ..image import Destination

if TYPE_CHECKING:
    from ..console import ConsoleReporter
    from .common import Subparsers


def add_list(sub: Subparsers) -> None:
    p = sub.add_parser("list", help="list installed packages",
                       description="List the packages installed in an image.")
    p.add_argument("--format", choices=["table", "json", "requirements"], default="table",
                   help="output format (requirements: name==version lines)")
    p.add_argument("--json", action="store_const", const="json", dest="format",
                   help="same as --format json")
    device_options(p)
    common_options(p)


def run_list(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..sources import describe_source

    image = _open_image(args, reporter)
    recs = sorted(image.records.values(), key=lambda r: r.key)
    if args.format == "json":
        print(json.dumps([{"name": r.name, "version": r.version, "requested": r.requested,
                           "source": r.source, "files": len(r.files),
                           "size": sum(f.size for f in r.files)} for r in recs], indent=2))
    elif args.format == "requirements":
        for r in recs:
            print(f"{r.name}=={r.version}")
    elif sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table("Package", "Version", "Files", "Bytes", "Requested", "Source",
                      title=str(image.root), title_justify="left")
        for r in recs:
            table.add_row(r.name, r.version, str(len(r.files)),
                          str(sum(f.size for f in r.files)), "yes" if r.requested else "",
                          " ".join(describe_source(r.source)))
        Console().print(table)
    else:
        width = max([len(r.name) for r in recs] + [7])
        vwidth = max([len(r.version) for r in recs] + [7])
        print(f"{'Package':<{width}}  {'Version':<{vwidth}}  Source")
        for r in recs:
            print(f"{r.name:<{width}}  {r.version:<{vwidth}}  {' '.join(describe_source(r.source))}")
    return 0


def add_show(sub: Subparsers) -> None:
    p = sub.add_parser("show", help="show details of installed packages",
                       description="Show what upip recorded about installed packages.")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("--files", action="store_true", help="list the installed files")
    p.add_argument("--json", action="store_true", help="print as JSON")
    device_options(p)
    common_options(p)


def run_show(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..errors import NotInstalled

    image = _open_image(args, reporter)
    shown = []
    for name in args.names:
        key = image.find(name)
        if key is None:
            raise NotInstalled(name, str(image.root), image.listing)
        shown.append(image.records[key])
    dependents = image.dependents()
    required_by = {rec.key: sorted(r.name for r, _ in dependents.get(rec.key, []))
                   for rec in shown}
    if args.json:
        print(json.dumps([{"name": rec.name, "version": rec.version,
                           "requested": rec.requested, "source": rec.source,
                           "sha256": rec.sha256, "requires": rec.requires,
                           "required_by": required_by[rec.key],
                           "files": [{"path": f.path, "sha256": f.sha256, "size": f.size}
                                     for f in rec.files]} for rec in shown], indent=2))
        return 0
    for i, rec in enumerate(shown):
        if i:
            print("---")
        print(f"Name: {rec.name}\nVersion: {rec.version}\n"
              f"Requested: {'yes' if rec.requested else 'no (a dependency)'}\n"
              f"Source: {rec.source}\nSHA256: {rec.sha256}\n"
              f"Requires: {', '.join(rec.requires)}\n"
              f"Required-by: {', '.join(required_by[rec.key])}\n"
              f"Location: {image.root}")
        if args.files:
            print("Files:")
            for f in rec.files:
                print(f"  {f.path}")
    return 0


def add_check(sub: Subparsers) -> None:
    p = sub.add_parser("check", help="check that every import of an image resolves",
                       description="Read every .py file of DIR (never run it) and check that "
                                   "each import is satisfied by the image or by the target "
                                   "firmware's built-in and frozen modules. Imports guarded by "
                                   "try/except ImportError are optional. Exit 1 when something "
                                   "is missing; where the mip index has a package of that name, "
                                   "it is suggested.")
    target_option(p)
    mip_index_options(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    device_options(p)
    common_options(p)


def run_check(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..check import check_image
    from ..size import image_files
    from ..target import load_profile

    where: Path | str
    if args.device:
        with open_board_image(args, reporter, write=False, scan=False, path=args.path) as image:
            files = image.read_files()
            profile = load_profile(args.target) if args.target else image.info.profile()
            where = image.root
    else:
        profile = load_profile(args.target)
        where = image_dir(args)
        files = image_files(where)
    report = check_image(files, profile, _suggester(mip_index(args), reporter))
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
        return 0 if report.ok else 1
    for u in report.unparsable:
        print(f"{u.path}:{u.line}: does not parse: {u.message}")
    for m in report.missing:
        hint = f"; {m.suggestion}" if m.suggestion else ""
        print(f"{m.path}:{m.line}: imports {m.module}, which neither the image nor the "
              f"firmware ({profile.name}) has{hint}")
    if not args.quiet:
        for m in report.optional:
            print(f"{m.path}:{m.line}: optional import {m.module} is missing (it is guarded)")
        if report.unchecked:
            print(f"{len(report.unchecked)} .mpy file(s) not checked (bytecode)")
        verdict = "every import resolves" if report.ok else (
            f"{len(report.missing)} missing import(s), {len(report.unparsable)} file(s) that "
            "do not parse")
        print(f"Checked {len(report.checked)} files of {where} against {profile.name}: "
              f"{verdict}")
    return 0 if report.ok else 1


def _open_image(args: argparse.Namespace, reporter: ConsoleReporter) -> Destination:
    from ..image import Image

    if args.device:  # (a reader: the records, in one exec)
        with open_board_image(args, reporter, write=False, scan=False, path=args.path) as image:
            return image
    return Image.open(image_dir(args), reporter, must_exist=True)


def _suggester(mip_index: str | None, reporter: ConsoleReporter
               ) -> Callable[[str], str | None] | None:
    """``module -> "upip install NAME"`` where the mip index has a package of
    that name; None without an index (or when it cannot be reached: a check
    must work offline)."""
    if mip_index is None:
        return None
    from ..http import HttpClient
    from ..sources.mip import MipSource
    from ..specs import normalize

    source = MipSource(mip_index, HttpClient(retries=0, timeout=5))
    names: dict[str, str] | None = None

    def suggest(module: str) -> str | None:
        nonlocal names
        if names is None:
            try:
                found = source.packages() or {}
            except UpipError as exc:
                reporter.note(f"no install suggestions: {exc}")
                found = {}
            names = {key: name for key, (name, _) in found.items()}
        for candidate in (module, module.partition(".")[0]):
            name = names.get(normalize(candidate))
            if name:
                return f"upip install {name}"
        return None

    return suggest
