"""Human output: notes and warnings on stderr, download bars on a terminal."""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

from .report import Reporter


class ConsoleReporter(Reporter):
    """Prints notes/warnings; shows rich progress bars when stderr is a terminal."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self._lock = threading.Lock()
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}
        self.bars = not quiet and self.stream.isatty()

    def note(self, text: str) -> None:
        if not self.quiet:
            self._print(f"note: {text}")

    def warn(self, text: str) -> None:
        self._print(f"warning: {text}")

    def _print(self, text: str) -> None:
        with self._lock:
            if self._progress is not None:
                self._progress.console.print(text, markup=False, highlight=False)
            else:
                print(text, file=self.stream)

    def download_started(self, key: str, label: str, total: int | None) -> None:
        if not self.bars:
            return
        with self._lock:
            if self._progress is None:
                from rich.console import Console
                from rich.progress import (
                    BarColumn,
                    DownloadColumn,
                    Progress,
                    TextColumn,
                    TransferSpeedColumn,
                )

                self._progress = Progress(
                    TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                    TransferSpeedColumn(), console=Console(file=self.stream), transient=True)
                self._progress.start()
            self._tasks[key] = self._progress.add_task(label, total=total)

    def download_progress(self, key: str, done: int, total: int | None) -> None:
        if self._progress is not None and key in self._tasks:
            self._progress.update(self._tasks[key], completed=done, total=total)

    def download_finished(self, key: str) -> None:
        with self._lock:
            if self._progress is not None and key in self._tasks:
                self._progress.remove_task(self._tasks.pop(key))

    def close(self) -> None:
        with self._lock:
            if self._progress is not None:
                self._progress.stop()
                self._progress = None
