"""What the commands share: option groups, and turning options into the
library's arguments."""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import UpipError

if TYPE_CHECKING:
    from ..board import BoardImage
    from ..compile import CompileOptions
    from ..console import ConsoleReporter
    from ..options import Options
    from ..specs import RequirementsFile

    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

def seconds(text: str) -> float:
    """An argparse type: a finite number of seconds above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: give a number of seconds above 0")
    return value


def count(minimum: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``minimum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{text!r}: give {minimum} or more")
        return value
    return parse


SPEC_HELP = """\
SPEC can be:
  name                     what mip means by it: micropython-lib's index (--mip-index)
                           first, then PyPI's micropython-NAME, then PyPI's NAME
  mip:name, pypi:name      only the mip index; exactly NAME, only on PyPI
  micropython-name         exactly that, on PyPI
  name==1.2, name@1.2      an exact version (the second form is mip's)
  'name>=1,<2'             any PEP 440 range
  ./dist/pkg-1.0.tar.gz    a local sdist or pure-Python wheel
  ./myproject              a local project directory (read, never built)
  https://host/pkg.tar.gz  an archive URL (add #sha256=... to verify it)
  github:org/repo[/path][@ref]   a package.json manifest on GitHub (also gitlab:,
                           codeberg:), an https://... URL or path of one, or a .py file

Index URLs ending in /simple (or /+simple) are PEP 503/691 simple indexes
(pypiserver, devpi); a URL serving a mip v2 index.json is a mip index; other
URLs are PyPI JSON API bases such as https://pypi.org/pypi (the default).
Every file from a mip index is checked against the hash the index gives.

Examples:
  upip install -p build/lib aioble microdot
  upip install -p build/lib micropython-umqtt.simple micropython-logging
  upip install -p build/lib -r requirements.txt --index-url http://127.0.0.1:8080/simple
  MICROPYPATH=build/lib micropython -c "import umqtt.simple"
"""


def parse_size(text: str) -> int:
    """``65536``, ``64K``, ``1M`` → bytes."""
    units = {"K": 1024, "M": 1024 * 1024}
    value = text.strip().upper().removesuffix("B")
    scale = units.get(value[-1:], 1)
    try:
        return int(value[:-1] if scale > 1 else value) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size; give bytes, "
                                         "or K/M (e.g. 64K)") from None


def common_options(parser: argparse.ArgumentParser, target: bool = True) -> None:
    if target:
        names = ["-p", "--path"]  # (not pip's --target: that names the firmware here)
        parser.add_argument(*names, dest="path", metavar="DIR", default=None,
                            help="the image directory (default: ~/.micropython/lib, "
                                 "which the unix port's micropython imports from); with "
                                 "-d, the folder on the board (default: its first .../lib "
                                 "on sys.path)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks for errors")


def resolution_options(p: argparse.ArgumentParser) -> None:
    """What install and lock share: where packages come from, for which firmware."""
    p.add_argument("-r", "--requirement", action="append", default=[], metavar="FILE",
                   help="packages from a requirements file (repeatable; -r nests)")
    index_options(p)
    p.add_argument("-f", "--find-links", action="append", default=[], metavar="DIR",
                   help="a directory of archives to search (repeatable)")
    mip_index_options(p)
    target_option(p)
    p.add_argument("--no-deps", action="store_true", help="do not take dependencies")
    p.add_argument("--pre", action="store_true", help="allow pre-release versions (taken anyway "
                   "when no final release matches)")
    p.add_argument("--mpy", nargs="?", const="6.3", default=None, metavar="TARGET",
                   help="compile .py to .mpy on the way in, for TARGET: a MicroPython "
                        "version (1.22) or an .mpy version (6.2); default the newest (6.3)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--cache-dir", metavar="DIR", default=None,
                   help="download cache (default: ~/.cache/upip)")
    p.add_argument("--offline", action="store_true",
                   help="no network at all: only what the cache (and -f DIR) holds; what is "
                        "missing is named")
    p.add_argument("--timeout", type=seconds, default=15.0, metavar="SECONDS",
                   help="network timeout per request (default: 15)")
    p.add_argument("--retries", type=count(0), default=3, metavar="N",
                   help="retries for transient network errors (default: 3)")
    p.add_argument("--cert", metavar="PEM", default=None,
                   help="CA bundle to verify TLS with (default: the system's trust store)")
    p.add_argument("--proxy", metavar="URL", default=None,
                   help="a proxy for every request, http://[USER:PASSWORD@]host:port "
                        "(default: $HTTPS_PROXY / $HTTP_PROXY, minus the hosts $NO_PROXY names)")
    p.add_argument("-j", "--jobs", type=count(1), default=16, metavar="N",
                   help="requests in flight at once, at most (default: 16)")


def index_options(p: argparse.ArgumentParser) -> None:
    """The PyPI-style indexes (install, lock, outdated...)."""
    p.add_argument("-i", "--index-url", metavar="URL", default=None,
                   help="main index (default: https://pypi.org/pypi)")
    p.add_argument("--extra-index-url", action="append", default=[], metavar="URL",
                   help="another index to search (repeatable)")


def device_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-d", "--device", metavar="PORT", default=None,
                   help="a board on this serial port instead of a directory (auto: the one "
                        "connected); its image is the first .../lib on its sys.path")
    p.add_argument("--soft-reset", action="store_true",
                   help="soft-reset the board first (by default a running program is only "
                        "interrupted, as `mpremote resume` does)")


def mip_index_options(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--mip-index", metavar="URL", default=None,
                       help="the micropython-lib-style (mip v2) index bare names are looked up "
                            "on first (default: $UPIP_MIP_INDEX, else "
                            "https://micropython.org/pi/v2)")
    group.add_argument("--no-mip-index", action="store_true",
                       help="look bare names up on PyPI only")


def target_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", metavar="T", default=None,
                   help="the firmware: PORT-VERSION such as unix-1.29, rp2-1.24, esp32-1.23 "
                        "(default: generic, what every current port has); dependencies it "
                        "already has are skipped")


def mip_index(args: argparse.Namespace) -> str | None:
    from ..options import default_mip_index

    if args.no_mip_index:
        return None
    return str(args.mip_index) if args.mip_index else default_mip_index()


def image_dir(args: argparse.Namespace) -> Path:
    """The image folder -p names (default: ~/.micropython/lib, which the unix
    port's micropython imports from)."""
    return Path(os.path.expanduser(args.path or os.path.join("~", ".micropython", "lib")))


def gather_specs(args: argparse.Namespace, verb: str) -> RequirementsFile:
    """The specs of the command line and of its -r files, with the index
    options those files set."""
    from ..specs import gather

    if getattr(args, "mpy", None) and not re.fullmatch(r"v?\d+(\.\d+){0,2}", args.mpy):
        args.specs.insert(0, args.mpy)  # `--mpy SPEC`: the flag alone, then a spec
        args.mpy = "6.3"
    wanted = gather(args.specs, args.requirement)
    if not wanted.specs:
        raise UpipError(f"nothing to {verb}: give a SPEC or -r FILE (see upip {verb} --help)")
    return wanted


def install_options(args: argparse.Namespace, wanted: RequirementsFile) -> Options:
    """Options from the resolution options (and, for install, the others)."""
    from ..options import Options
    from ..sources.pypi_json import DEFAULT_INDEX

    return Options(
        index_url=args.index_url or wanted.index_url or DEFAULT_INDEX,
        extra_index_urls=args.extra_index_url + wanted.extra_index_urls,
        find_links=[Path(d) for d in args.find_links] + wanted.find_links,
        no_deps=args.no_deps, upgrade=getattr(args, "upgrade", False),
        force_reinstall=getattr(args, "force_reinstall", False),
        force=getattr(args, "force", False), pre=args.pre or wanted.pre,
        dry_run=getattr(args, "dry_run", False),
        cache_dir=Path(args.cache_dir).expanduser() if args.cache_dir else None,
        no_cache=args.no_cache, timeout=args.timeout, retries=args.retries, jobs=args.jobs,
        cert=args.cert, mpy=compile_options(args.mpy) if args.mpy else None,
        mip_index=mip_index(args), target=args.target,
        boot_files=getattr(args, "boot_files", False), proxy=args.proxy,
        offline=args.offline)


def compile_options(text: str | None, release: str | None = None,
                    mpy_version: str | None = None, opt: int | None = None,
                    arch: str | None = None) -> CompileOptions:
    """What ``--mpy TEXT`` (or a release, or an .mpy version) compiles for."""
    from ..compile import CompileOptions
    from ..mpy import parse_target, target

    chosen = parse_target(text) if text else target(release, mpy_version)
    return CompileOptions(chosen, opt=opt, arch=arch)


def open_board_image(args: argparse.Namespace, reporter: ConsoleReporter, write: bool,
                     scan: bool = True, path: str | None = None
                     ) -> AbstractContextManager[BoardImage]:
    """The image on the board ``-d`` names, at ``path`` on it (default: its
    first .../lib), for the time of a ``with``."""
    from ..board import open_board

    return open_board(args.device, path, write=write, scan=scan, soft_reset=args.soft_reset,
                      reporter=reporter)
