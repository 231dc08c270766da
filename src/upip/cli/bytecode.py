"""compile, mpyinfo, size, manifest, freeze and romfs: bytecode, freezing
and ROMFS."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UpipError
from .common import common_options, compile_options, image_dir, parse_size

if TYPE_CHECKING:
    from ..console import ConsoleReporter
    from .common import Subparsers


def add_compile(sub: Subparsers) -> None:
    p = sub.add_parser("compile", help="compile an image's .py files to .mpy",
                       description="Compile every installed package's .py files in DIR to "
                                   ".mpy with mpy-cross, for one MicroPython version, in one "
                                   "transaction (records updated; resources, boot.py and "
                                   "main.py left as they are).",
                       epilog="Targets: MicroPython 1.23+ -> mpy 6.3, 1.22 -> 6.2, "
                              "1.20-1.21 -> 6.1, 1.19 -> 6.0, 1.12-1.18 -> 5, 1.11 -> 4, "
                              "1.9.3-1.10 -> 3, 1.9-1.9.2 -> 2. A device wants "
                              "sys.implementation._mpy & 0xff.")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--target", dest="target_version", metavar="VERSION", default=None,
                       help="the MicroPython version of the firmware (e.g. 1.22)")
    group.add_argument("--mpy-version", metavar="X.Y", default=None,
                       help="the .mpy version to emit (e.g. 6.3, 6.2, 5)")
    p.add_argument("--arch", default=None, help="native code architecture (mpy-cross -march), "
                   "for @micropython.native/viper code")
    p.add_argument("-O", dest="opt", type=int, default=None, metavar="N",
                   help="optimisation level 0-3 (mpy-cross -O)")
    p.add_argument("--dry-run", action="store_true", help="compile, but change nothing")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    common_options(p)


def run_compile(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..compile import compile_image

    options = compile_options(None, args.target_version, args.mpy_version, args.opt, args.arch)
    report = compile_image(image_dir(args), options, reporter, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
        return 0
    for path in report.unowned:
        reporter.warn(f"{path} is not from an installed package; left as .py")
    if not args.quiet:
        verb = "Would compile" if args.dry_run else "Compiled"
        if report.compiled:
            print(f"{verb} {len(report.compiled)} files of {', '.join(report.packages)} "
                  f"to mpy {report.mpy} ({options.target.label}) in {report.target}")
        else:
            print(f"Nothing to compile in {report.target}")
    return 0


def add_mpyinfo(sub: Subparsers) -> None:
    p = sub.add_parser("mpyinfo", help="show .mpy headers (version, arch)",
                       description="Read the header of .mpy files: the .mpy version, "
                                   "sub-version, native architecture and small-int bits, and "
                                   "which MicroPython releases load it.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print as JSON")
    common_options(p, target=False)


def run_mpyinfo(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..mpy import read_file_header

    rows = [(name, read_file_header(name)) for name in args.files]
    if args.json:
        print(json.dumps([{"file": n, "version": h.version, "sub_version": h.sub_version,
                           "arch": h.arch_name, "small_int_bits": h.small_int_bits,
                           "loads_on": h.loads_on()} for n, h in rows], indent=2))
        return 0
    for name, header in rows:
        print(f"{name}: {header}; loads on {header.loads_on()}")
    return 0


def add_size(sub: Subparsers) -> None:
    p = sub.add_parser("size", help="flash cost of an image: sources, .mpy, ROMFS",
                       description="Print per package and in total the size of the sources, "
                                   "of the .mpy files (compiled in memory; nothing is written) "
                                   "and of the package in a ROMFS image.")
    p.add_argument("--mpy", default=None, metavar="TARGET",
                   help="compile for TARGET (MicroPython version or .mpy version; default 6.3)")
    p.add_argument("--budget", type=parse_size, default=None, metavar="BYTES",
                   help="fail when the ROMFS image would be larger (suffixes K, M: 64K)")
    p.add_argument("--json", action="store_true", help="print as JSON")
    common_options(p)


def run_size(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..size import check_budget, measure

    report, _ = measure(image_dir(args), compile_options(args.mpy))
    check_budget(f"the ROMFS image of {report.target}", report.romfs_image, args.budget,
                 report.largest("romfs"))
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{report.target}: flash cost (mpy {report.mpy})")
    for col in ("package", "version", "files", "source", ".mpy", "in ROMFS"):
        table.add_column(col, justify="left" if col in ("package", "version") else "right")
    for row in report.rows:
        table.add_row(row.name, row.version, str(row.files), str(row.source), str(row.mpy),
                      str(row.romfs))
    table.add_row("total", "", str(sum(r.files for r in report.rows)), str(report.source),
                  str(report.compiled), f"{report.romfs_image} (image)")
    Console(width=max(100, Console().width)).print(table)
    return 0


def add_manifest(sub: Subparsers) -> None:
    p = sub.add_parser("manifest", help="write a manifest.py freezing an image",
                       description="Write a manifest.py that freezes every package and module "
                                   "of DIR into firmware (make FROZEN_MANIFEST=FILE).")
    p.add_argument("-o", "--output", default="manifest.py", metavar="FILE",
                   help="where to write it (default: manifest.py); - for standard output")
    p.add_argument("--include", default=None, metavar="MANIFEST",
                   help="a manifest to include first, e.g. $(PORT_DIR)/boards/manifest.py")
    common_options(p)


def run_manifest(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..atomic import write_atomic
    from ..freeze import manifest

    out = Path(args.output)
    where = Path.cwd() if args.output == "-" else out.resolve().parent
    made = manifest(image_dir(args), where, args.include)
    for warning in made.warnings():
        reporter.warn(warning)
    if args.output == "-":
        sys.stdout.write(made.text)
        return 0
    write_atomic(out, made.text.encode("utf-8"))
    if not args.quiet:
        print(f"Wrote {out}: build with make FROZEN_MANIFEST={out.resolve()}")
    return 0


def add_freeze(sub: Subparsers) -> None:
    p = sub.add_parser("freeze", help="install packages into a port's modules/ for freezing",
                       description="The packaging docs' freezing workflow in one command: back "
                                   "up files in PORT/modules that no install put there (into "
                                   "PORT/modules-backup/), empty it with --clean, install SPECs "
                                   "into it, and write PORT/manifest_upip.py for "
                                   "make FROZEN_MANIFEST=.")
    p.add_argument("specs", nargs="*", metavar="SPEC")
    p.add_argument("--port-dir", required=True, metavar="PORT",
                   help="the port folder, e.g. micropython/ports/esp8266")
    p.add_argument("--clean", action="store_true",
                   help="empty PORT/modules first (untracked files are backed up)")
    p.add_argument("-r", "--requirement", action="append", default=[], metavar="FILE")
    p.add_argument("-i", "--index-url", metavar="URL", default=None)
    p.add_argument("--budget", type=parse_size, default=None, metavar="BYTES",
                   help="fail before writing anything when the frozen code (.mpy) would be "
                        "larger (suffixes K, M)")
    common_options(p, target=False)


def run_freeze(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..freeze import freeze_port
    from ..options import Options
    from ..sources.pypi_json import DEFAULT_INDEX
    from ..specs import gather

    wanted = gather(args.specs, args.requirement)
    if not wanted.specs and not args.clean:
        raise UpipError("nothing to freeze: give a SPEC or -r FILE (see upip freeze --help)")
    options = Options(index_url=args.index_url or wanted.index_url or DEFAULT_INDEX)
    done = freeze_port(Path(args.port_dir), wanted.specs, options, clean=args.clean,
                       budget=args.budget, reporter=reporter)
    if not args.quiet:
        if done.backup:
            print(f"Backed up {len(done.untracked)} files no install put in {done.modules} "
                  f"to {done.backup}" + (" and removed them" if args.clean else ""))
        if done.installed and done.installed.installed:
            print(f"Installed {', '.join(map(str, done.installed.installed))} "
                  f"into {done.modules}")
        print(f"Wrote {done.manifest}: build with make "
              f"FROZEN_MANIFEST={done.manifest.resolve()}")
    return 0


def add_romfs(sub: Subparsers) -> None:
    p = sub.add_parser("romfs", help="build or list ROMFS images (MicroPython 1.25+)",
                       description="ROMFS: a read-only image in flash whose .mpy files run in "
                                   "place. `romfs build` packs DIR (as /rom/lib, code compiled "
                                   "to .mpy, resources as files); `romfs ls` lists an image.")
    romfs_sub = p.add_subparsers(dest="romfs_command", metavar="ACTION", required=True)
    q = romfs_sub.add_parser("build", help="build a ROMFS image of an image directory")
    q.add_argument("-o", "--output", required=True, metavar="FILE")
    q.add_argument("--mpy", default=None, metavar="TARGET",
                   help="compile for TARGET (ROMFS needs MicroPython 1.25+: mpy 6.3)")
    q.add_argument("--no-mpy", action="store_true", help="keep .py sources as they are")
    q.add_argument("--prefix", default="lib", help="folder of the image inside ROMFS "
                   "(default: lib, as /rom/lib is on sys.path)")
    q.add_argument("--budget", type=parse_size, default=None, metavar="BYTES",
                   help="fail before writing when the image would be larger (K, M)")
    q.add_argument("--json", action="store_true")
    common_options(q)
    q = romfs_sub.add_parser("ls", help="list the files of a ROMFS image")
    q.add_argument("image", metavar="FILE")
    q.add_argument("--json", action="store_true")
    common_options(q, target=False)


def run_romfs(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from .. import romfs

    if args.romfs_command == "ls":
        data, entries = romfs.read_file(args.image)
        if args.json:
            print(json.dumps([{"path": e.path, "kind": e.kind, "size": e.size,
                               "offset": e.offset} for e in entries], indent=2))
            return 0
        for e in entries:
            print(f"{e.size:>8}  {e.path}{'/' if e.kind == 'dir' else ''}")
        print(f"{len(data):>8}  (image, {sum(e.kind == 'file' for e in entries)} files)")
        return 0
    from ..atomic import write_atomic
    from ..size import romfs_image

    options = None if args.no_mpy else compile_options(args.mpy)
    if options is not None and options.target.mpy != "6.3":
        raise UpipError(f"--mpy {args.mpy}: ROMFS needs MicroPython 1.25 or later, which "
                        "loads mpy 6.3; drop --mpy or give 1.25+")
    image, count = romfs_image(image_dir(args), options, args.prefix, args.budget)
    out = Path(args.output)
    write_atomic(out, image)
    if args.json:
        print(json.dumps({"output": str(out), "size": len(image), "files": count}))
    elif not args.quiet:
        print(f"Wrote {out}: {len(image)} bytes, {count} files under "
              f"/rom/{args.prefix.strip('/')}")
    return 0
