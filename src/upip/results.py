"""What a command did, as the CLI prints it and ``--json`` gives it: the
packages installed, removed, left unchanged or skipped, the files a sync
sent, the releases ``outdated`` found."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from .fields import Record, field
from .records import DistRecord


class Item(Record):
    name: str
    version: str
    source: str = ""
    files: int = 0
    requested: bool = False

    def __str__(self) -> str:
        return f"{self.name} {self.version}"

    @classmethod
    def of(cls, rec: DistRecord, requested: bool | None = None) -> Item:
        return cls(rec.name, rec.version, rec.source, len(rec.files),
                   rec.requested if requested is None else requested)


class InstallReport(Record):
    target: Path | str  # the image (a board's: PORT:PATH)
    dry_run: bool = False
    installed: list[Item] = field(default_factory=list)
    removed: list[Item] = field(default_factory=list)  # old versions replaced or uninstalled
    unchanged: list[Item] = field(default_factory=list)
    # dependencies the firmware provides (upip.firmware)
    skipped: list[Item] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        def items(xs: list[Item]) -> list[dict[str, object]]:
            return [{"name": x.name, "version": x.version, "source": x.source,
                     "files": x.files, "requested": x.requested} for x in xs]
        return {"target": str(self.target), "dry_run": self.dry_run,
                "installed": items(self.installed), "removed": items(self.removed),
                "unchanged": items(self.unchanged), "skipped": items(self.skipped)}


class SyncReport(Record):
    source: Path
    target: Path | str
    dry_run: bool = False
    # files written (their sha256 differed, or they were missing)
    sent: list[str] = field(default_factory=list)
    sent_bytes: int = 0
    deleted: list[str] = field(default_factory=list)  # files the image no longer has, removed
    installed: list[Item] = field(default_factory=list)  # dists new or changed on the destination
    # dists the destination had and the image has not
    removed: list[Item] = field(default_factory=list)
    unchanged: list[Item] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        def items(xs: list[Item]) -> list[dict[str, object]]:
            return [{"name": x.name, "version": x.version, "files": x.files} for x in xs]
        return {"source": str(self.source), "target": str(self.target), "dry_run": self.dry_run,
                "sent": self.sent, "sent_bytes": self.sent_bytes, "deleted": self.deleted,
                "installed": items(self.installed), "removed": items(self.removed),
                "unchanged": items(self.unchanged)}


class Outdated(NamedTuple):
    name: str
    installed: str
    latest: str  # the newest release its source has ("" when it cannot tell)
    wanted: str  # the newest within what it was asked for by ("" likewise)
    source: str
