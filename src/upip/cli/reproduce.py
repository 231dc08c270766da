"""lock, download and outdated: reproducible images."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UpipError
from .common import (
    SPEC_HELP,
    common_options,
    device_options,
    gather_specs,
    image_dir,
    index_options,
    install_options,
    mip_index,
    mip_index_options,
    open_board_image,
    resolution_options,
)

if TYPE_CHECKING:
    from ..console import ConsoleReporter
    from .common import Subparsers


def add_lock(sub: Subparsers) -> None:
    p = sub.add_parser("lock", help="write a PEP 751 lock (pylock.toml) of what SPECs resolve to",
                       description="Resolve SPECs once, as an install into an empty image "
                                   "would, and write a PEP 751 lock: every package with its "
                                   "version, source and sha256 (each file's, for mip and "
                                   "package.json packages), and the target and .mpy settings. "
                                   "upip install --lock FILE installs exactly that. The same "
                                   "inputs give the same bytes.",
                       epilog=SPEC_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("specs", nargs="*", metavar="SPEC", help="what to lock (as for install)")
    p.add_argument("-o", "--output", default="pylock.toml", metavar="FILE",
                   help="where to write it (default: pylock.toml); - for standard output")
    resolution_options(p)
    p.add_argument("--json", action="store_true", help="describe the lock as JSON")
    common_options(p, target=False)


def run_lock(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..atomic import write_atomic
    from ..lock import dumps_lock
    from ..locked import lock

    wanted = gather_specs(args, "lock")
    packages, settings = lock(wanted.specs, install_options(args, wanted), reporter)
    text = dumps_lock(packages, settings)
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    write_atomic(Path(args.output), text.encode("utf-8"))
    if args.json:
        print(json.dumps({"output": args.output, "target": settings.target, "mpy": settings.mpy,
                          "packages": [{"name": p.name, "version": p.version, "kind": p.kind}
                                       for p in packages]}, indent=2))
    elif not args.quiet:
        print(f"Wrote {args.output}: {len(packages)} packages for {settings.target}"
              + (f", mpy {settings.mpy}" if settings.mpy else ""))
    return 0


def add_download(sub: Subparsers) -> None:
    p = sub.add_parser("download", help="fill a folder for a machine without network",
                       description="Resolve SPECs (or take a lock) and put into DIR every "
                                   "archive, a cache of all that was fetched (index pages "
                                   "included) and pylock.toml. On the other machine: upip "
                                   "install --find-links DIR --offline SPEC... (with the same "
                                   "index options), or upip install --lock DIR/pylock.toml "
                                   "--find-links DIR --offline.")
    p.add_argument("specs", nargs="*", metavar="SPEC")
    p.add_argument("-d", "--dest", required=True, metavar="DIR", help="the folder to fill")
    p.add_argument("--lock", metavar="FILE", default=None, help="download what a lock says")
    resolution_options(p)
    p.add_argument("--json", action="store_true", help="list what was downloaded as JSON")
    common_options(p, target=False)


def run_download(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..locked import download
    from ..specs import RequirementsFile

    dest = Path(args.dest)
    if args.lock:
        if args.specs or args.requirement:
            raise UpipError(f"--lock {args.lock}: a lock says what to download; give no SPEC "
                            "or -r FILE with it")
        packages, _ = download(dest, lock_path=Path(args.lock),
                               options=install_options(args, RequirementsFile()), reporter=reporter)
    else:
        wanted = gather_specs(args, "download")
        packages, _ = download(dest, wanted.specs, options=install_options(args, wanted),
                               reporter=reporter)
    if args.json:
        print(json.dumps([{"name": p.name, "version": p.version, "kind": p.kind}
                          for p in packages], indent=2))
    elif not args.quiet:
        print(f"Downloaded {len(packages)} packages into {dest}; there: upip install "
              f"--find-links {dest} --offline ..., or --lock {dest / 'pylock.toml'}")
    return 0


def add_outdated(sub: Subparsers) -> None:
    p = sub.add_parser("outdated", help="installed packages and the newest releases there are",
                       description="For every package in DIR: the version installed, the "
                                   "newest its source has, the newest within what it was "
                                   "asked for by (what upip install -U takes), and its source.")
    index_options(p)
    mip_index_options(p)
    p.add_argument("--offline", action="store_true", help="only the pages the cache holds")
    p.add_argument("--json", action="store_true", help="print as JSON")
    device_options(p)
    common_options(p)


def run_outdated(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..options import Options
    from ..outdated import outdated, outdated_in
    from ..sources import describe_source
    from ..sources.pypi_json import DEFAULT_INDEX

    options = Options(index_url=args.index_url or DEFAULT_INDEX,
                      extra_index_urls=args.extra_index_url, mip_index=mip_index(args),
                      offline=args.offline)
    if args.device:  # (a reader: the records, in one exec)
        with open_board_image(args, reporter, write=False, scan=False, path=args.path) as image:
            records = image.records
        rows = outdated_in(records, options, reporter)
    else:
        rows = outdated(image_dir(args), options, reporter)
    if args.json:
        print(json.dumps([row._asdict() for row in rows], indent=2))
        return 0
    width = max([len(r.name) for r in rows] + [7])
    print(f"{'Package':<{width}}  {'Installed':<10} {'Latest':<10} {'Wanted':<10} Source")
    for r in rows:
        print(f"{r.name:<{width}}  {r.installed:<10} {r.latest or '-':<10} "
              f"{r.wanted or '-':<10} {' '.join(describe_source(r.source))}")
    return 0
