"""What a command did, as the CLI prints it and ``--json`` gives it: the
packages installed, removed, left unchanged or skipped, the files a sync
sent, the releases ``outdated`` found."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from .records import DistRecord
from .slotted import Slotted


class Item(Slotted):
    __slots__ = ("name", "version", "source", "files", "requested")
    name: str
    version: str
    source: str
    files: int
    requested: bool

    def __init__(self, name: str, version: str, source: str = "", files: int = 0,
                 requested: bool = False) -> None:
        self.name, self.version, self.source = name, version, source
        self.files, self.requested = files, requested

    def __str__(self) -> str:
        return f"{self.name} {self.version}"

    @classmethod
    def of(cls, rec: DistRecord, requested: bool | None = None) -> Item:
        return cls(rec.name, rec.version, rec.source, len(rec.files),
                   rec.requested if requested is None else requested)


class InstallReport(Slotted):
    __slots__ = ("target", "dry_run", "installed", "removed", "unchanged", "skipped", "notes")
    target: Path | str  # the image (a board's: PORT:PATH)
    dry_run: bool
    installed: list[Item]
    removed: list[Item]  # old versions replaced or uninstalled
    unchanged: list[Item]
    skipped: list[Item]  # dependencies the firmware provides (upip.firmware)
    notes: list[str]

    def __init__(self, target: Path | str, dry_run: bool = False,
                 installed: list[Item] | None = None,
                 removed: list[Item] | None = None, unchanged: list[Item] | None = None,
                 skipped: list[Item] | None = None, notes: list[str] | None = None) -> None:
        self.target, self.dry_run = target, dry_run
        self.installed = [] if installed is None else installed
        self.removed = [] if removed is None else removed
        self.unchanged = [] if unchanged is None else unchanged
        self.skipped = [] if skipped is None else skipped
        self.notes = [] if notes is None else notes

    def as_json(self) -> dict[str, object]:
        def items(xs: list[Item]) -> list[dict[str, object]]:
            return [{"name": x.name, "version": x.version, "source": x.source,
                     "files": x.files, "requested": x.requested} for x in xs]
        return {"target": str(self.target), "dry_run": self.dry_run,
                "installed": items(self.installed), "removed": items(self.removed),
                "unchanged": items(self.unchanged), "skipped": items(self.skipped)}


class SyncReport(Slotted):
    __slots__ = ("source", "target", "dry_run", "sent", "sent_bytes", "deleted", "installed",
                 "removed", "unchanged")
    source: Path
    target: Path | str
    dry_run: bool
    sent: list[str]  # files written (their sha256 differed, or they were missing)
    sent_bytes: int
    deleted: list[str]  # files the image no longer has, removed
    installed: list[Item]  # dists new or changed on the destination
    removed: list[Item]  # dists the destination had and the image has not
    unchanged: list[Item]

    def __init__(self, source: Path, target: Path | str, dry_run: bool = False) -> None:
        self.source, self.target, self.dry_run = source, target, dry_run
        self.sent, self.sent_bytes, self.deleted = [], 0, []
        self.installed, self.removed, self.unchanged = [], [], []

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
