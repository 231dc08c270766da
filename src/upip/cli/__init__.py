"""``upip`` command line: argument parsing and human/JSON output only.

Every command has a parser (``add_NAME``) and a handler (``run_NAME``) side by
side in one module of this package, which :data:`COMMANDS` names. A handler
parses its options into the library's arguments, calls one library function
and prints what it returns. Only the module of the command being run is
imported (building every command's options costs more than parsing them).
"""

from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import os
import sys
import threading
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from .. import __version__
from ..errors import UpipError

if TYPE_CHECKING:
    from ..console import ConsoleReporter

DESCRIPTION = """\
upip: install MicroPython packages from micropython-lib, PyPI, package.json
manifests and private indexes into a directory image (cross-install) or
straight onto a board, then copy it to the board or put it on MICROPYPATH of
the unix port."""

#: command -> the module of upip.cli with its add_NAME and run_NAME, in --help's order
COMMANDS: dict[str, str] = {
    "install": "install",
    "uninstall": "install",
    "bootstrap": "install",
    "sdist": "authoring",
    "bin2res": "authoring",
    "publish": "authoring",
    "compile": "bytecode",
    "mpyinfo": "bytecode",
    "size": "bytecode",
    "manifest": "bytecode",
    "freeze": "bytecode",
    "romfs": "bytecode",
    "list": "query",
    "show": "query",
    "check": "query",
    "lock": "reproduce",
    "download": "reproduce",
    "outdated": "reproduce",
    "sync": "install",
}


def _module(command: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{COMMANDS[command]}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``upip`` parser; given ``command``, with that subcommand only."""
    parser = argparse.ArgumentParser(prog="upip", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-V", "--version", action="version", version=f"upip {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if command is None or name == command:
            getattr(_module(name), f"add_{name}")(sub)
    return parser


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
    parser = build_parser(words[0] if words and words[0] in COMMANDS else None)
    args = parser.parse_args(words)
    if args.command is None:
        parser.print_help()
        return 2
    from ..console import ConsoleReporter

    handler: Callable[[argparse.Namespace, ConsoleReporter], int] = getattr(
        _module(args.command), f"run_{args.command}")
    reporter = ConsoleReporter(quiet=args.quiet)
    try:
        return int(handler(args, reporter))
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


def bin2res_main(argv: Sequence[str] | None = None) -> int:
    """The ``mpy_bin2res`` console script: ``upip bin2res``."""
    return main(["bin2res", *(sys.argv[1:] if argv is None else argv)])
