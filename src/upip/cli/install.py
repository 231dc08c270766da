"""install, uninstall, sync and bootstrap: the commands that change an image."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UpipError
from .common import (
    SPEC_HELP,
    common_options,
    device_options,
    gather_specs,
    image_dir,
    install_options,
    open_board_image,
    resolution_options,
)

if TYPE_CHECKING:
    from ..results import InstallReport

if TYPE_CHECKING:
    from ..console import ConsoleReporter
    from .common import Subparsers


def add_install(sub: Subparsers) -> None:
    p = sub.add_parser("install", help="install packages into a directory image",
                       description="Resolve, download (hash-checked, cached) and install "
                                   "packages into DIR as one transaction: on any error DIR is "
                                   "left exactly as it was.",
                       epilog=SPEC_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("specs", nargs="*", metavar="SPEC", help="what to install (see below)")
    p.add_argument("--lock", metavar="FILE", default=None,
                   help="install exactly what a PEP 751 lock (upip lock) says: no resolution, "
                        "every hash checked")
    resolution_options(p)
    p.add_argument("-U", "--upgrade", action="store_true",
                   help="take the newest allowed versions even if older ones are installed")
    p.add_argument("--force-reinstall", action="store_true",
                   help="reinstall packages even when the same version is installed")
    p.add_argument("--force", action="store_true",
                   help="overwrite files in DIR that no installed package owns")
    p.add_argument("--boot-files", action="store_true",
                   help="also install main.py, boot.py and usetup.py at the top of DIR, which "
                        "a board runs by itself at start (left out by default)")
    p.add_argument("--dry-run", action="store_true",
                   help="resolve and download, show what would change, write nothing to DIR")
    p.add_argument("--no-mpy", action="store_true",
                   help="with -d: install .py sources, not .mpy for the board's version "
                        "(the default there)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    device_options(p)
    common_options(p)


def run_install(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..installer import install

    if args.device:
        return _print_install(args, _install_on_board(args, reporter), reporter)
    if args.lock:
        if args.specs or args.requirement:
            raise UpipError(f"--lock {args.lock}: a lock says what to install; give no SPEC "
                            "or -r FILE with it")
        from ..locked import install_locked  # (packaging.pylock: only for a lock)
        from ..specs import RequirementsFile

        report = install_locked(Path(args.lock), image_dir(args),
                                install_options(args, RequirementsFile()), reporter)
        return _print_install(args, report, reporter)
    if args.upgrade and not args.specs and not args.requirement:
        # `install -U`: every package the image was asked for, within its specs
        from ..specs import RequirementsFile

        report = install([], image_dir(args), install_options(args, RequirementsFile()), reporter)
        return _print_install(args, report, reporter)
    wanted = gather_specs(args, "install")
    if not any(s.applies() for s in wanted.specs):
        if not args.quiet:
            print("Nothing to install: the marker of every requirement excludes MicroPython")
        return 0
    options = install_options(args, wanted)
    report = install(wanted.specs, image_dir(args), options, reporter)
    return _print_install(args, report, reporter)


def _install_on_board(args: argparse.Namespace, reporter: ConsoleReporter) -> InstallReport:
    """install -d: the board says what it is (one exec), then the install is
    resolved for its firmware, compiled for its .mpy version (unless
    --no-mpy), and committed on it."""
    from ..installer import install_into
    from ..specs import RequirementsFile
    from ..target import load_profile

    if args.mpy and args.no_mpy:
        raise UpipError("--mpy and --no-mpy: give one of them")
    if args.lock:
        if args.specs or args.requirement:
            raise UpipError(f"--lock {args.lock}: a lock says what to install; give no SPEC "
                            "or -r FILE with it")
        from ..lock import read_lock
        from ..locked import install_locked_into, locked_options

        packages, settings = read_lock(Path(args.lock))
        wanted = RequirementsFile()
    else:
        wanted = gather_specs(args, "install")
        if not any(s.applies() for s in wanted.specs):
            raise UpipError("nothing to install: the marker of every requirement excludes "
                            "MicroPython")
    options = install_options(args, wanted)
    with open_board_image(args, reporter, write=not args.dry_run, path=args.path) as image:
        info = image.info
        if args.lock:
            options = locked_options(options, settings, args.lock)
            profile = load_profile(settings.target)
            return install_locked_into(image, packages, options, reporter, None, profile)
        if args.no_mpy:
            options.mpy = None
        elif options.mpy is None:
            options.mpy = info.compile_options()
        profile = load_profile(args.target) if args.target else info.profile()
        free = f"; {info.free} bytes free" if info.free is not None else ""
        code = f".mpy {options.mpy.target.mpy}" if options.mpy else ".py sources"
        reporter.note(f"{image.root}: MicroPython {'.'.join(map(str, info.version))} "
                      f"({profile.name}){free}; installing {code}")
        return install_into(image, wanted.specs, options, reporter, None, profile)


def _print_install(args: argparse.Namespace, report: InstallReport,
                   reporter: ConsoleReporter) -> int:
    reporter.close()
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
        return 0
    if args.quiet:
        return 0
    verb = "Would install" if report.dry_run else "Installed"
    if report.installed:
        print(f"{verb} {', '.join(map(str, report.installed))} into {report.target}")
    if report.removed:
        print(f"{'Would replace' if report.dry_run else 'Replaced'} "
              f"{', '.join(map(str, report.removed))}")
    if report.unchanged and not report.installed:
        print(f"Already installed: {', '.join(map(str, report.unchanged))}")
    return 0


def add_uninstall(sub: Subparsers) -> None:
    p = sub.add_parser("uninstall", help="remove installed packages from an image",
                       description="Remove packages and the files only they own.")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("-y", "--yes", action="store_true", help="accepted for pip habits; "
                   "upip never asks")
    p.add_argument("--dry-run", action="store_true", help="show what would be removed")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    device_options(p)
    common_options(p)


def run_uninstall(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..installer import uninstall, uninstall_from

    if args.device:
        with open_board_image(args, reporter, write=not args.dry_run, path=args.path) as image:
            report = uninstall_from(image, args.names, reporter, args.dry_run,
                                    image.info.profile())
    else:
        report = uninstall(args.names, image_dir(args), reporter, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    elif not args.quiet:
        verb = "Would remove" if args.dry_run else "Removed"
        print(f"{verb} {', '.join(map(str, report.removed))} from {report.target}")
    return 0


def add_sync(sub: Subparsers) -> None:
    p = sub.add_parser("sync", help="push an image to a board, only what changed",
                       description="Make the image on a board the image DIR is: the files whose "
                                   "sha256 differs are sent, the files DIR no longer has are "
                                   "removed, and the board's records become DIR's, in one "
                                   "transaction on the board (a cut cable leaves it as it was).")
    p.add_argument("--board-path", metavar="PATH", default=None,
                   help="the image's folder on the board (default: its first .../lib on "
                        "sys.path)")
    p.add_argument("--force", action="store_true",
                   help="overwrite files on the board that no installed package owns")
    p.add_argument("--dry-run", action="store_true", help="show what would be sent and removed")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    device_options(p)
    common_options(p)


def run_sync(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..image import Image
    from ..sync import sync

    if not args.device:
        raise UpipError("upip sync pushes an image to a board: give its port with -d PORT "
                        "(-d auto: the one connected)")
    source = Image.open(image_dir(args), reporter, must_exist=True)
    with open_board_image(args, reporter, write=not args.dry_run, path=args.board_path) as dest:
        report = sync(source, dest, reporter, dry_run=args.dry_run, force=args.force)
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
        return 0
    if args.quiet:
        return 0
    if not report.sent and not report.deleted and not report.installed and not report.removed:
        print(f"Already in sync: {report.target} has what {report.source} has "
              f"({len(report.unchanged)} packages)")
        return 0
    verb = "Would send" if args.dry_run else "Sent"
    deleted = f", {'would remove' if args.dry_run else 'removed'} {len(report.deleted)}" if (
        report.deleted) else ""
    print(f"{verb} {len(report.sent)} file(s) ({report.sent_bytes} bytes) to {report.target}"
          f"{deleted}")
    if report.installed:
        print(f"{'Would install' if args.dry_run else 'Installed'} "
              f"{', '.join(map(str, report.installed))}")
    if report.removed:
        print(f"{'Would replace or remove' if args.dry_run else 'Replaced or removed'} "
              f"{', '.join(map(str, report.removed))}")
    return 0


def add_bootstrap(sub: Subparsers) -> None:
    p = sub.add_parser("bootstrap", help="put the device client into an image",
                       description="Put upip's device client into DIR (as .mpy), so that a "
                                   "board with the image can run `micropython -m upip install` "
                                   "itself.")
    p.add_argument("--no-mpy", action="store_true", help="copy .py sources instead of .mpy")
    p.add_argument("--ca", metavar="CERT", default=None,
                   help="CA certificate (PEM or DER) the device checks TLS against, stored "
                        "as upip/ca.der; without one the device warns that TLS is unverified")
    common_options(p)


def run_bootstrap(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..bootstrap import bootstrap

    report = bootstrap(image_dir(args), mpy=not args.no_mpy,
                       ca=Path(args.ca) if args.ca else None, reporter=reporter)
    if not args.quiet:
        done = report.installed or report.unchanged
        print(f"{'Installed' if report.installed else 'Already installed'} "
              f"{', '.join(map(str, done))} into {report.target}")
    return 0
