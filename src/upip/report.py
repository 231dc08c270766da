"""Reporter hooks: no-ops here, overridden by the CLI's console reporter.

Like resolvelib's BaseReporter, the pipeline calls these and never prints.
"""

from __future__ import annotations


class Reporter:
    def note(self, text: str) -> None:
        """Something worth saying (a name was rewritten, a step finished)."""

    def warn(self, text: str) -> None:
        """Something the user should look at, that did not stop the work."""

    def download_started(self, key: str, label: str, total: int | None) -> None:
        """A download began (``total`` bytes when known)."""

    def download_progress(self, key: str, done: int, total: int | None) -> None:
        """``done`` bytes of the download have arrived."""

    def download_finished(self, key: str) -> None:
        """The download ended (successfully or not)."""


class CollectingReporter(Reporter):
    """Keeps notes and warnings (for the Python API and tests)."""

    def __init__(self) -> None:
        self.notes: list[str] = []
        self.warnings: list[str] = []

    def note(self, text: str) -> None:
        self.notes.append(text)

    def warn(self, text: str) -> None:
        self.warnings.append(text)
