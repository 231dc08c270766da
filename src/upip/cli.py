"""``upip`` command line: argument parsing and human/JSON output only."""

from __future__ import annotations

import argparse
import atexit
import gc
import json
import os
import re
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import UpipError

if TYPE_CHECKING:
    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

DESCRIPTION = """\
upip: install MicroPython packages from PyPI and private indexes into a
directory image (cross-install), then copy it to a board or put it on
MICROPYPATH of the unix port."""

INSTALL_EPILOG = """\
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


SDIST_EPILOG = """\
What goes in, unless [tool.upip] in pyproject.toml says otherwise:
  packages   every top-level folder (under src/ when there is one) holding .py
             files, except tests, docs, examples, build...
  modules    every top-level .py file except setup.py, conftest.py, test_*.py
  resources  every other file inside a package: put into the package's R.py,
             and kept as a file too unless --no-resource-files

[tool.upip] keys: source-dir, packages, modules, exclude (globs),
keep-resource-files. setup.py projects: import sdist_upip and pass
cmdclass={"sdist": sdist_upip.sdist} to setup().
"""


def _size(text: str) -> int:
    """``65536``, ``64K``, ``1M`` → bytes."""
    units = {"K": 1024, "M": 1024 * 1024}
    value = text.strip().upper().removesuffix("B")
    scale = units.get(value[-1:], 1)
    try:
        return int(value[:-1] if scale > 1 else value) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size; give bytes, "
                                         "or K/M (e.g. 64K)") from None


def _default_target() -> str:
    return os.path.join("~", ".micropython", "lib")


def _common(parser: argparse.ArgumentParser, target: bool = True) -> None:
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


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``upip`` parser; given ``command``, with that subcommand only.

    Building every subcommand's options costs more than parsing them, so
    :func:`main` builds just the one it is asked to run.
    """
    parser = argparse.ArgumentParser(prog="upip", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-V", "--version", action="version", version=f"upip {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, add in SUBCOMMANDS.items():
        if command is None or name == command:
            add(sub)
    return parser


def _install_parser(sub: Subparsers) -> None:
    p = sub.add_parser("install", help="install packages into a directory image",
                       description="Resolve, download (hash-checked, cached) and install "
                                   "packages into DIR as one transaction: on any error DIR is "
                                   "left exactly as it was.",
                       epilog=INSTALL_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("specs", nargs="*", metavar="SPEC", help="what to install (see below)")
    p.add_argument("--lock", metavar="FILE", default=None,
                   help="install exactly what a PEP 751 lock (upip lock) says: no resolution, "
                        "every hash checked")
    _resolution_options(p)
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
    _device_options(p)
    _common(p)


def _resolution_options(p: argparse.ArgumentParser) -> None:
    """What install and lock share: where packages come from, for which firmware."""
    p.add_argument("-r", "--requirement", action="append", default=[], metavar="FILE",
                   help="packages from a requirements file (repeatable; -r nests)")
    p.add_argument("-i", "--index-url", metavar="URL", default=None,
                   help="main index (default: https://pypi.org/pypi)")
    p.add_argument("--extra-index-url", action="append", default=[], metavar="URL",
                   help="another index to search (repeatable)")
    p.add_argument("-f", "--find-links", action="append", default=[], metavar="DIR",
                   help="a directory of archives to search (repeatable)")
    _mip_index_options(p)
    _target_option(p)
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
    p.add_argument("--timeout", type=float, default=15.0, metavar="SECONDS",
                   help="network timeout per request (default: 15)")
    p.add_argument("--retries", type=int, default=3, metavar="N",
                   help="retries for transient network errors (default: 3)")
    p.add_argument("--cert", metavar="PEM", default=None,
                   help="CA bundle to verify TLS with (default: the system's trust store)")
    p.add_argument("--proxy", metavar="URL", default=None,
                   help="a proxy for every request, http://[USER:PASSWORD@]host:port "
                        "(default: $HTTPS_PROXY / $HTTP_PROXY, minus the hosts $NO_PROXY names)")
    p.add_argument("-j", "--jobs", type=int, default=8, metavar="N",
                   help="parallel downloads (default: 8)")


def _download_parser(sub: Subparsers) -> None:
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
    _resolution_options(p)
    p.add_argument("--json", action="store_true", help="list what was downloaded as JSON")
    _common(p, target=False)


def _outdated_parser(sub: Subparsers) -> None:
    p = sub.add_parser("outdated", help="installed packages and the newest releases there are",
                       description="For every package in DIR: the version installed, the "
                                   "newest its source has, the newest within what it was "
                                   "asked for by (what upip install -U takes), and its source.")
    p.add_argument("-i", "--index-url", metavar="URL", default=None,
                   help="main index (default: https://pypi.org/pypi)")
    p.add_argument("--extra-index-url", action="append", default=[], metavar="URL")
    _mip_index_options(p)
    p.add_argument("--offline", action="store_true", help="only the pages the cache holds")
    p.add_argument("--json", action="store_true", help="print as JSON")
    _common(p)


def _lock_parser(sub: Subparsers) -> None:
    p = sub.add_parser("lock", help="write a PEP 751 lock (pylock.toml) of what SPECs resolve to",
                       description="Resolve SPECs once, as an install into an empty image "
                                   "would, and write a PEP 751 lock: every package with its "
                                   "version, source and sha256 (each file's, for mip and "
                                   "package.json packages), and the target and .mpy settings. "
                                   "upip install --lock FILE installs exactly that. The same "
                                   "inputs give the same bytes.",
                       epilog=INSTALL_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("specs", nargs="*", metavar="SPEC", help="what to lock (as for install)")
    p.add_argument("-o", "--output", default="pylock.toml", metavar="FILE",
                   help="where to write it (default: pylock.toml); - for standard output")
    _resolution_options(p)
    p.add_argument("--json", action="store_true", help="describe the lock as JSON")
    _common(p, target=False)


def _device_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-d", "--device", metavar="PORT", default=None,
                   help="a board on this serial port instead of a directory (auto: the one "
                        "connected); its image is the first .../lib on its sys.path")
    p.add_argument("--soft-reset", action="store_true",
                   help="soft-reset the board first (by default a running program is only "
                        "interrupted, as `mpremote resume` does)")


def _mip_index_options(p: argparse.ArgumentParser) -> None:
    group = p.add_mutually_exclusive_group()
    group.add_argument("--mip-index", metavar="URL", default=None,
                       help="the micropython-lib-style (mip v2) index bare names are looked up "
                            "on first (default: $UPIP_MIP_INDEX, else "
                            "https://micropython.org/pi/v2)")
    group.add_argument("--no-mip-index", action="store_true",
                       help="look bare names up on PyPI only")


def _target_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", metavar="T", default=None,
                   help="the firmware: PORT-VERSION such as unix-1.29, rp2-1.24, esp32-1.23 "
                        "(default: generic, what every current port has); dependencies it "
                        "already has are skipped")


def _mip_index(args: argparse.Namespace) -> str | None:
    from .options import default_mip_index

    if args.no_mip_index:
        return None
    return str(args.mip_index) if args.mip_index else default_mip_index()


def _uninstall_parser(sub: Subparsers) -> None:
    p = sub.add_parser("uninstall", help="remove installed packages from an image",
                       description="Remove packages and the files only they own.")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("-y", "--yes", action="store_true", help="accepted for pip habits; "
                   "upip never asks")
    p.add_argument("--dry-run", action="store_true", help="show what would be removed")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    _device_options(p)
    _common(p)


def _bootstrap_parser(sub: Subparsers) -> None:
    p = sub.add_parser("bootstrap", help="put the device client into an image",
                       description="Put upip's device client into DIR (as .mpy), so that a "
                                   "board with the image can run `micropython -m upip install` "
                                   "itself.")
    p.add_argument("--no-mpy", action="store_true", help="copy .py sources instead of .mpy")
    p.add_argument("--ca", metavar="CERT", default=None,
                   help="CA certificate (PEM or DER) the device checks TLS against, stored "
                        "as upip/ca.der; without one the device warns that TLS is unverified")
    _common(p)


def _sdist_parser(sub: Subparsers) -> None:
    p = sub.add_parser("sdist", help="build an upip-format sdist from a pyproject.toml project",
                       description="Build PROJECT (default: .) into DIST_DIR/NAME-VERSION.tar.gz: "
                                   "package and module files, an R.py resource module per "
                                   "package, PKG-INFO and requires.txt; gzip with a 4 KiB window "
                                   "so the smallest boards can inflate it. Byte-reproducible "
                                   "(mtime from SOURCE_DATE_EPOCH or 1980-01-01).",
                       epilog=SDIST_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("project", nargs="?", default=".", metavar="PROJECT",
                   help="the project folder holding pyproject.toml (default: .)")
    p.add_argument("-o", "--outdir", default=None, metavar="DIST_DIR",
                   help="where to write the archive (default: PROJECT/dist)")
    p.add_argument("--no-resource-files", action="store_true",
                   help="ship resources only inside R.py, not also as files "
                        "(same as [tool.upip] keep-resource-files = false)")
    p.add_argument("--json", action="store_true", help="describe the archive as JSON")
    _common(p, target=False)


def _bin2res_parser(sub: Subparsers) -> None:
    p = sub.add_parser("bin2res", help="write an R.py resource module for files",
                       description="Write a resource module R = {'key': b'...'} holding FILEs, "
                                   "for pkg_resources.resource_stream(package, key).")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("-o", "--output", default=None, metavar="R.py",
                   help="write here instead of standard output")
    p.add_argument("--strip", default=None, metavar="PREFIX",
                   help="make keys relative to PREFIX (default: the paths as given)")
    _common(p, target=False)


def _publish_parser(sub: Subparsers) -> None:
    p = sub.add_parser("publish", help="upload sdists to PyPI or another index (twine)",
                       description="Check, then upload distributions with the standard upload "
                                   "API. Credentials: --username/--password, or "
                                   "TWINE_USERNAME/TWINE_PASSWORD, or a PyPI token as password.")
    p.add_argument("dists", nargs="+", metavar="DIST")
    p.add_argument("--repository-url", default=None, metavar="URL",
                   help="upload endpoint (default: https://upload.pypi.org/legacy/)")
    p.add_argument("-u", "--username", default=None)
    p.add_argument("--password", default=None)
    _common(p, target=False)


def _compile_parser(sub: Subparsers) -> None:
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
    _common(p)


def _mpyinfo_parser(sub: Subparsers) -> None:
    p = sub.add_parser("mpyinfo", help="show .mpy headers (version, arch)",
                       description="Read the header of .mpy files: the .mpy version, "
                                   "sub-version, native architecture and small-int bits, and "
                                   "which MicroPython releases load it.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print as JSON")
    _common(p, target=False)


def _size_parser(sub: Subparsers) -> None:
    p = sub.add_parser("size", help="flash cost of an image: sources, .mpy, ROMFS",
                       description="Print per package and in total the size of the sources, "
                                   "of the .mpy files (compiled in memory; nothing is written) "
                                   "and of the package in a ROMFS image.")
    p.add_argument("--mpy", default=None, metavar="TARGET",
                   help="compile for TARGET (MicroPython version or .mpy version; default 6.3)")
    p.add_argument("--budget", type=_size, default=None, metavar="BYTES",
                   help="fail when the ROMFS image would be larger (suffixes K, M: 64K)")
    p.add_argument("--json", action="store_true", help="print as JSON")
    _common(p)


def _manifest_parser(sub: Subparsers) -> None:
    p = sub.add_parser("manifest", help="write a manifest.py freezing an image",
                       description="Write a manifest.py that freezes every package and module "
                                   "of DIR into firmware (make FROZEN_MANIFEST=FILE).")
    p.add_argument("-o", "--output", default="manifest.py", metavar="FILE",
                   help="where to write it (default: manifest.py); - for standard output")
    p.add_argument("--include", default=None, metavar="MANIFEST",
                   help="a manifest to include first, e.g. $(PORT_DIR)/boards/manifest.py")
    _common(p)


def _freeze_parser(sub: Subparsers) -> None:
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
    p.add_argument("--budget", type=_size, default=None, metavar="BYTES",
                   help="fail before writing anything when the frozen code (.mpy) would be "
                        "larger (suffixes K, M)")
    _common(p, target=False)


def _romfs_parser(sub: Subparsers) -> None:
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
    q.add_argument("--budget", type=_size, default=None, metavar="BYTES",
                   help="fail before writing when the image would be larger (K, M)")
    q.add_argument("--json", action="store_true")
    _common(q)
    q = romfs_sub.add_parser("ls", help="list the files of a ROMFS image")
    q.add_argument("image", metavar="FILE")
    q.add_argument("--json", action="store_true")
    _common(q, target=False)


def _list_parser(sub: Subparsers) -> None:
    p = sub.add_parser("list", help="list installed packages",
                       description="List the packages installed in an image.")
    p.add_argument("--format", choices=["table", "json", "requirements"], default="table",
                   help="output format (requirements: name==version lines)")
    p.add_argument("--json", action="store_const", const="json", dest="format",
                   help="same as --format json")
    _device_options(p)
    _common(p)


def _show_parser(sub: Subparsers) -> None:
    p = sub.add_parser("show", help="show details of installed packages",
                       description="Show what upip recorded about installed packages.")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("--files", action="store_true", help="list the installed files")
    p.add_argument("--json", action="store_true", help="print as JSON")
    _device_options(p)
    _common(p)


def _check_parser(sub: Subparsers) -> None:
    p = sub.add_parser("check", help="check that every import of an image resolves",
                       description="Read every .py file of DIR (never run it) and check that "
                                   "each import is satisfied by the image or by the target "
                                   "firmware's built-in and frozen modules. Imports guarded by "
                                   "try/except ImportError are optional. Exit 1 when something "
                                   "is missing; where the mip index has a package of that name, "
                                   "it is suggested.")
    _target_option(p)
    _mip_index_options(p)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    _device_options(p)
    _common(p)


def _sync_parser(sub: Subparsers) -> None:
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
    _device_options(p)
    _common(p)


SUBCOMMANDS: dict[str, Callable[[Subparsers], None]] = {
    "install": _install_parser,
    "uninstall": _uninstall_parser,
    "bootstrap": _bootstrap_parser,
    "sdist": _sdist_parser,
    "bin2res": _bin2res_parser,
    "publish": _publish_parser,
    "compile": _compile_parser,
    "mpyinfo": _mpyinfo_parser,
    "size": _size_parser,
    "manifest": _manifest_parser,
    "freeze": _freeze_parser,
    "romfs": _romfs_parser,
    "list": _list_parser,
    "show": _show_parser,
    "check": _check_parser,
    "lock": _lock_parser,
    "download": _download_parser,
    "outdated": _outdated_parser,
    "sync": _sync_parser,
}


def run() -> int:
    """The ``upip`` command and ``python -m upip``: :func:`main` in a process of its own.

    Such a process frees nearly all it allocates by reference counting, and
    ends with the command; so the cycle collector is switched off. At its
    default pace it ran some 60 times in a warm install and once more at
    exit, found next to nothing, and took about 14 ms of it. Then the process
    ends without tearing the interpreter down (see :func:`_exit_now`).
    (:func:`main` itself leaves the collector alone, for callers in a
    longer-lived process.)
    """
    gc.disable()
    code = main()
    _exit_now(code)
    return code  # only when the process could not end at once


def _exit_now(code: int) -> None:
    """End the process with ``code`` as a normal exit would, minus the teardown.

    Freeing every module and object one by one at exit took 20-30 ms after a
    warm install, a tenth of it. When :func:`main` returns, the image is
    committed (os.replace; no file is left open) and the worker threads are
    daemons, which a normal exit does not wait for either; so stdout and
    stderr are flushed, the atexit handlers run as they would, and the
    process ends. With another non-daemon thread alive, or output
    that cannot be flushed (a closed pipe), this returns and the normal exit
    joins the thread or reports the error, as before.
    """
    others = [t for t in threading.enumerate() if t is not threading.main_thread()]
    if any(not t.daemon for t in others):
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    atexit._run_exitfuncs()
    os._exit(code)


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    # `upip install ...` needs only install's parser; anything else (`upip -h`,
    # a typo) gets them all, to list them.
    parser = build_parser(words[0] if words and words[0] in SUBCOMMANDS else None)
    args = parser.parse_args(words)
    if args.command is None:
        parser.print_help()
        return 2
    from .console import ConsoleReporter

    reporter = ConsoleReporter(quiet=args.quiet)
    try:
        return int(COMMANDS[args.command](args, reporter))
    except UpipError as exc:
        reporter.close()
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        reporter.close()
        if args.debug:
            raise
        print("error: interrupted; the image was left as it was", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `upip list | head -1`: the reader has all it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # (so that the flush at exit is quiet too)
        return 141  # as a process ended by SIGPIPE
    finally:
        reporter.close()


def _target(args: argparse.Namespace) -> Path:
    return Path(os.path.expanduser(args.path or _default_target()))


def _wanted(args: argparse.Namespace, verb: str) -> Any:
    """The specs of the command line and of its -r files, with the index
    options those files set."""
    from .specs import RequirementsFile, parse_spec, read_requirements

    if getattr(args, "mpy", None) and not re.fullmatch(r"v?\d+(\.\d+){0,2}", args.mpy):
        args.specs.insert(0, args.mpy)  # `--mpy SPEC`: the flag alone, then a spec
        args.mpy = "6.3"
    wanted = RequirementsFile()
    for path in args.requirement:
        wanted.merge(read_requirements(Path(path)))
    wanted.specs += [parse_spec(s, "command line") for s in args.specs]
    if not wanted.specs:
        raise UpipError(f"nothing to {verb}: give a SPEC or -r FILE (see upip {verb} --help)")
    return wanted


def _options(args: argparse.Namespace, wanted: Any) -> Any:
    """Options from the resolution options (and, for install, the others)."""
    from .options import Options
    from .sources.pypi_json import DEFAULT_INDEX

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
        cert=args.cert, mpy=_compile_options(args.mpy) if args.mpy else None,
        mip_index=_mip_index(args), target=args.target,
        boot_files=getattr(args, "boot_files", False), proxy=args.proxy,
        offline=args.offline)


def cmd_install(args: argparse.Namespace, reporter: Any) -> int:
    from .installer import install
    from .locked import install_locked

    if args.device:
        return _print_install(args, _install_on_board(args, reporter), reporter)
    if args.lock:
        if args.specs or args.requirement:
            raise UpipError(f"--lock {args.lock}: a lock says what to install; give no SPEC "
                            "or -r FILE with it")
        from .specs import RequirementsFile

        report = install_locked(Path(args.lock), _target(args),
                                _options(args, RequirementsFile()), reporter)
        return _print_install(args, report, reporter)
    if args.upgrade and not args.specs and not args.requirement:
        # `install -U`: every package the image was asked for, within its specs
        from .specs import RequirementsFile

        report = install([], _target(args), _options(args, RequirementsFile()), reporter)
        return _print_install(args, report, reporter)
    wanted = _wanted(args, "install")
    if not any(s.applies() for s in wanted.specs):
        if not args.quiet:
            print("Nothing to install: the marker of every requirement excludes MicroPython")
        return 0
    options = _options(args, wanted)
    report = install(wanted.specs, _target(args), options, reporter)
    return _print_install(args, report, reporter)


def _board(args: argparse.Namespace, reporter: Any, write: bool, scan: bool = True,
           path: str | None = None) -> Any:
    """The image on the board ``-d`` names, at ``path`` on it (default: its
    first .../lib), for the time of a ``with``."""
    from .board import open_board

    return open_board(args.device, path, write=write, scan=scan, soft_reset=args.soft_reset,
                      reporter=reporter)


def _install_on_board(args: argparse.Namespace, reporter: Any) -> Any:
    """install -d: the board says what it is (one exec), then the install is
    resolved for its firmware, compiled for its .mpy version (unless
    --no-mpy), and committed on it."""
    from .installer import install_into
    from .lock import read_lock
    from .locked import install_locked_into, locked_options
    from .specs import RequirementsFile
    from .target import load_profile

    if args.mpy and args.no_mpy:
        raise UpipError("--mpy and --no-mpy: give one of them")
    if args.lock:
        if args.specs or args.requirement:
            raise UpipError(f"--lock {args.lock}: a lock says what to install; give no SPEC "
                            "or -r FILE with it")
        packages, settings = read_lock(Path(args.lock))
        wanted = RequirementsFile()
    else:
        wanted = _wanted(args, "install")
        if not any(s.applies() for s in wanted.specs):
            raise UpipError("nothing to install: the marker of every requirement excludes "
                            "MicroPython")
    options = _options(args, wanted)
    with _board(args, reporter, write=not args.dry_run, path=args.path) as image:
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


def _print_install(args: argparse.Namespace, report: Any, reporter: Any) -> int:
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


def _compile_options(text: str | None, release: str | None = None,
                     mpy_version: str | None = None, opt: int | None = None,
                     arch: str | None = None) -> Any:
    from .compile import CompileOptions
    from .mpy import parse_target, target

    chosen = parse_target(text) if text else target(release, mpy_version)
    return CompileOptions(chosen, opt=opt, arch=arch)


def cmd_download(args: argparse.Namespace, reporter: Any) -> int:
    from .locked import download
    from .specs import RequirementsFile

    dest = Path(args.dest)
    if args.lock:
        if args.specs or args.requirement:
            raise UpipError(f"--lock {args.lock}: a lock says what to download; give no SPEC "
                            "or -r FILE with it")
        packages, _ = download(dest, lock_path=Path(args.lock),
                               options=_options(args, RequirementsFile()), reporter=reporter)
    else:
        wanted = _wanted(args, "download")
        packages, _ = download(dest, wanted.specs, options=_options(args, wanted),
                               reporter=reporter)
    if args.json:
        print(json.dumps([{"name": p.name, "version": p.version, "kind": p.kind}
                          for p in packages], indent=2))
    elif not args.quiet:
        print(f"Downloaded {len(packages)} packages into {dest}; there: upip install "
              f"--find-links {dest} --offline ..., or --lock {dest / 'pylock.toml'}")
    return 0


def cmd_outdated(args: argparse.Namespace, reporter: Any) -> int:
    from .options import Options
    from .outdated import outdated
    from .sources import describe_source
    from .sources.pypi_json import DEFAULT_INDEX

    options = Options(index_url=args.index_url or DEFAULT_INDEX,
                      extra_index_urls=args.extra_index_url, mip_index=_mip_index(args),
                      offline=args.offline)
    rows = outdated(_target(args), options, reporter)
    if args.json:
        print(json.dumps([row._asdict() for row in rows], indent=2))
        return 0
    width = max([len(r.name) for r in rows] + [7])
    print(f"{'Package':<{width}}  {'Installed':<10} {'Latest':<10} {'Wanted':<10} Source")
    for r in rows:
        print(f"{r.name:<{width}}  {r.installed:<10} {r.latest or '-':<10} "
              f"{r.wanted or '-':<10} {' '.join(describe_source(r.source))}")
    return 0


def cmd_lock(args: argparse.Namespace, reporter: Any) -> int:
    from .atomic import write_atomic
    from .lock import dumps_lock
    from .locked import lock

    wanted = _wanted(args, "lock")
    packages, settings = lock(wanted.specs, _options(args, wanted), reporter)
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


def cmd_compile(args: argparse.Namespace, reporter: Any) -> int:
    from .compile import compile_image

    options = _compile_options(None, args.target_version, args.mpy_version, args.opt, args.arch)
    report = compile_image(_target(args), options, reporter, dry_run=args.dry_run)
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


def cmd_size(args: argparse.Namespace, reporter: Any) -> int:
    from .size import check_budget, measure

    report, _ = measure(_target(args), _compile_options(args.mpy))
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


def cmd_manifest(args: argparse.Namespace, reporter: Any) -> int:
    from .atomic import write_atomic
    from .freeze import manifest

    out = Path(args.output)
    where = Path.cwd() if args.output == "-" else out.resolve().parent
    made = manifest(_target(args), where, args.include)
    for warning in made.warnings():
        reporter.warn(warning)
    if args.output == "-":
        sys.stdout.write(made.text)
        return 0
    write_atomic(out, made.text.encode("utf-8"))
    if not args.quiet:
        print(f"Wrote {out}: build with make FROZEN_MANIFEST={out.resolve()}")
    return 0


def cmd_freeze(args: argparse.Namespace, reporter: Any) -> int:
    from .freeze import freeze_port
    from .options import Options
    from .sources.pypi_json import DEFAULT_INDEX
    from .specs import RequirementsFile, parse_spec, read_requirements

    wanted = RequirementsFile()
    for path in args.requirement:
        wanted.merge(read_requirements(Path(path)))
    wanted.specs += [parse_spec(s, "command line") for s in args.specs]
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


def cmd_romfs(args: argparse.Namespace, reporter: Any) -> int:
    from . import romfs

    if args.romfs_command == "ls":
        from .errors import ProjectError

        try:
            data = Path(args.image).read_bytes()
        except OSError as exc:
            raise ProjectError(args.image, f"cannot read it ({exc.strerror or exc})") from None
        entries = romfs.read(data)
        if args.json:
            print(json.dumps([{"path": e.path, "kind": e.kind, "size": e.size,
                               "offset": e.offset} for e in entries], indent=2))
            return 0
        for e in entries:
            print(f"{e.size:>8}  {e.path}{'/' if e.kind == 'dir' else ''}")
        print(f"{len(data):>8}  (image, {sum(e.kind == 'file' for e in entries)} files)")
        return 0
    from .atomic import write_atomic
    from .size import check_budget, image_files, measure, romfs_tree

    root = _target(args)
    if args.no_mpy:
        files = image_files(root)
        largest = sorted(((p, len(d)) for p, d in files.items()), key=lambda x: -x[1])
    else:
        options = _compile_options(args.mpy)
        if options.target.mpy != "6.3":
            raise UpipError(f"--mpy {args.mpy}: ROMFS needs MicroPython 1.25 or later, which "
                            "loads mpy 6.3; drop --mpy or give 1.25+")
        report, files = measure(root, options)
        largest = report.largest("romfs")
    image = romfs.build(romfs_tree(files, args.prefix.strip("/")))
    check_budget(f"the ROMFS image of {root}", len(image), args.budget, largest)
    out = Path(args.output)
    write_atomic(out, image)
    if args.json:
        print(json.dumps({"output": str(out), "size": len(image), "files": len(files)}))
    elif not args.quiet:
        print(f"Wrote {out}: {len(image)} bytes, {len(files)} files under "
              f"/rom/{args.prefix.strip('/')}")
    return 0


def cmd_mpyinfo(args: argparse.Namespace, reporter: Any) -> int:
    from .errors import ProjectError
    from .mpy import read_header

    rows = []
    for name in args.files:
        try:
            with open(name, "rb") as f:
                head = f.read(4)
        except OSError as exc:
            raise ProjectError(name, f"cannot read it ({exc.strerror or exc})") from None
        header = read_header(head, name)
        rows.append((name, header))
    if args.json:
        print(json.dumps([{"file": n, "version": h.version, "sub_version": h.sub_version,
                           "arch": h.arch_name, "small_int_bits": h.small_int_bits,
                           "loads_on": h.loads_on()} for n, h in rows], indent=2))
        return 0
    for name, header in rows:
        print(f"{name}: {header}; loads on {header.loads_on()}")
    return 0


def cmd_bootstrap(args: argparse.Namespace, reporter: Any) -> int:
    from .bootstrap import bootstrap

    report = bootstrap(_target(args), mpy=not args.no_mpy,
                       ca=Path(args.ca) if args.ca else None, reporter=reporter)
    if not args.quiet:
        done = report.installed or report.unchanged
        print(f"{'Installed' if report.installed else 'Already installed'} "
              f"{', '.join(map(str, done))} into {report.target}")
    return 0


def cmd_uninstall(args: argparse.Namespace, reporter: Any) -> int:
    from .installer import uninstall, uninstall_from

    if args.device:
        with _board(args, reporter, write=not args.dry_run, path=args.path) as image:
            report = uninstall_from(image, args.names, reporter, args.dry_run,
                                    image.info.profile())
    else:
        report = uninstall(args.names, _target(args), reporter, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    elif not args.quiet:
        verb = "Would remove" if args.dry_run else "Removed"
        print(f"{verb} {', '.join(map(str, report.removed))} from {report.target}")
    return 0


def _open_image(args: argparse.Namespace, reporter: Any) -> Any:
    from .image import Image

    if args.device:  # (a reader: the records, in one exec)
        with _board(args, reporter, write=False, scan=False, path=args.path) as image:
            return image
    return Image.open(_target(args), reporter, must_exist=True)


def cmd_list(args: argparse.Namespace, reporter: Any) -> int:
    from .sources import describe_source

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


def cmd_show(args: argparse.Namespace, reporter: Any) -> int:
    from .errors import NotInstalled

    image = _open_image(args, reporter)
    shown = []
    for name in args.names:
        key = image.find(name)
        if key is None:
            raise NotInstalled(name, str(image.root), image.listing)
        shown.append(image.records[key])
    dependents = image.dependents()
    out = []
    for rec in shown:
        out.append({"name": rec.name, "version": rec.version, "requested": rec.requested,
                    "source": rec.source, "sha256": rec.sha256, "requires": rec.requires,
                    "required_by": sorted(r.name for r, _ in dependents.get(rec.key, [])),
                    "files": [{"path": f.path, "sha256": f.sha256, "size": f.size}
                              for f in rec.files]})
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    for i, info in enumerate(out):
        if i:
            print("---")
        print(f"Name: {info['name']}\nVersion: {info['version']}\n"
              f"Requested: {'yes' if info['requested'] else 'no (a dependency)'}\n"
              f"Source: {info['source']}\nSHA256: {info['sha256']}\n"
              f"Requires: {', '.join(info['requires'])}\n"
              f"Required-by: {', '.join(info['required_by'])}\n"
              f"Location: {image.root}")
        if args.files:
            print("Files:")
            for f in info["files"]:
                print(f"  {f['path']}")
    return 0


def cmd_check(args: argparse.Namespace, reporter: Any) -> int:
    from .check import check_image
    from .size import image_files
    from .target import load_profile

    where: Any = _target(args)
    if args.device:
        with _board(args, reporter, write=False, scan=False, path=args.path) as image:
            files = image.read_files()
            profile = load_profile(args.target) if args.target else image.info.profile()
            where = image.root
    else:
        profile = load_profile(args.target)
        files = image_files(where)
    report = check_image(files, profile, _suggester(_mip_index(args), reporter))
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


def cmd_sync(args: argparse.Namespace, reporter: Any) -> int:
    from .image import Image
    from .sync import sync

    if not args.device:
        raise UpipError("upip sync pushes an image to a board: give its port with -d PORT "
                        "(-d auto: the one connected)")
    source = Image.open(_target(args), reporter, must_exist=True)
    with _board(args, reporter, write=not args.dry_run, path=args.board_path) as dest:
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


def _suggester(mip_index: str | None, reporter: Any) -> Any:
    """``module -> "upip install NAME"`` where the mip index has a package of
    that name; None without an index (or when it cannot be reached: a check
    must work offline)."""
    if mip_index is None:
        return None
    from .http import HttpClient
    from .sources.mip import MipSource
    from .specs import normalize

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


def cmd_sdist(args: argparse.Namespace, reporter: Any) -> int:
    from .build import project as project_mod
    from .build import sdist

    root = Path(args.project)
    project = project_mod.load(root)
    if args.no_resource_files:
        project.keep_resource_files = False
    built = sdist.build(project, Path(args.outdir) if args.outdir else root / "dist")
    if args.json:
        print(json.dumps(built.as_json(), indent=2))
        return 0
    for warning in built.warnings:
        reporter.warn(warning)
    if args.quiet:
        return 0
    count = sum(len(keys) for keys in built.resources.values())
    print(f"Built {built.path} ({built.size} bytes, sha256 {built.sha256})")
    where = ", ".join(f"{p}/R.py" for p in built.resources)
    print(f"  {len(built.files)} files" + (f"; {count} resources in {where}" if count else
                                           "; no resources"))
    if built.left_out:
        print(f"  left out (not in a package, so not a resource): {', '.join(built.left_out)}")
    return 0


def cmd_bin2res(args: argparse.Namespace, reporter: Any) -> int:
    from .atomic import write_atomic
    from .build.resources import render, resource_key
    from .errors import ProjectError

    resources: dict[str, bytes] = {}
    for name in args.files:
        key = resource_key(name, args.strip)
        if key in resources:
            raise ProjectError(name, f"gives the key {key!r} twice; name each file once")
        try:
            resources[key] = Path(name).read_bytes()
        except OSError as exc:
            raise ProjectError(name, f"cannot read it ({exc.strerror or exc})") from None
    text = render(resources)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    out = Path(args.output)
    write_atomic(out, text.encode("utf-8"), ProjectError)
    if not args.quiet:
        print(f"Wrote {out}: {len(resources)} resources, {len(text)} bytes")
    return 0


def bin2res_main(argv: Sequence[str] | None = None) -> int:
    """The ``mpy_bin2res`` console script: ``upip bin2res``."""
    return main(["bin2res", *(sys.argv[1:] if argv is None else argv)])


def cmd_publish(args: argparse.Namespace, reporter: Any) -> int:
    from .build.publish import PYPI_UPLOAD, publish

    url = args.repository_url or PYPI_UPLOAD
    done = publish([Path(d) for d in args.dists], url, args.username, args.password,
                   quiet=args.quiet)
    if not args.quiet:
        print(f"Uploaded {', '.join(f'{c.name} {c.version}' for c in done)} to {url}")
    return 0


COMMANDS = {"install": cmd_install, "bootstrap": cmd_bootstrap, "uninstall": cmd_uninstall, "list": cmd_list,
            "show": cmd_show, "sdist": cmd_sdist, "bin2res": cmd_bin2res,
            "publish": cmd_publish, "compile": cmd_compile, "mpyinfo": cmd_mpyinfo,
            "size": cmd_size, "manifest": cmd_manifest, "freeze": cmd_freeze, "romfs": cmd_romfs,
            "check": cmd_check, "lock": cmd_lock, "download": cmd_download,
            "outdated": cmd_outdated, "sync": cmd_sync}
