"""A local directory of archives (``--find-links DIR``)."""

from __future__ import annotations

from pathlib import Path

from ..errors import IndexUnreachable
from . import Candidate, best_per_version, parse_version, split_filename


class DirectorySource:
    def __init__(self, location: Path) -> None:
        self.path = location
        self.location = str(location)
        self._files: list[Path] | None = None

    def _listing(self) -> list[Path]:
        if self._files is None:
            try:
                self._files = sorted(p for p in self.path.iterdir() if p.is_file())
            except OSError as exc:
                raise IndexUnreachable(self.location, exc.strerror or str(exc)) from None
        return self._files

    def candidates(self, name: str) -> list[Candidate] | None:
        found = []
        for path in self._listing():
            split = split_filename(path.name, name)
            if split is None:
                continue
            version_text, kind = split
            version = parse_version(version_text)
            if version is not None:
                found.append(Candidate(name, version, version_text, kind, str(path),
                                       path.name, self.location))
        return best_per_version(found) if found else None
