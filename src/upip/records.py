"""The records file of an image, ``DIR/.upip-records``: what is installed, in
a format the host, a board over serial and the device client all read and
write. UTF-8 text, one tab-separated record per line, so the device client can
read and rewrite it a line at a time::

    upip-records<TAB>1
    dist<TAB>NAME<TAB>VERSION<TAB>REQUESTED(0|1)<TAB>ARCHIVE_SHA256<TAB>SOURCE
    want<TAB>SPEC                  (what the user asked for it by, if asked: install -U)
    req<TAB>REQUIREMENT            (dependencies of the dist above, PEP 508)
    file<TAB>PATH<TAB>SHA256<TAB>SIZE

A reader skips the line kinds it does not know; the device client copies them
with the dist they follow. (A mip or package.json package's sha256 is that of
its JSON document; its source, that document's URL.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from .errors import ImageError
from .fields import Record, field
from .specs import normalize

RECORDS_NAME = ".upip-records"
HEADER = "upip-records\t1"


class FileRecord(NamedTuple):
    path: str
    sha256: str
    size: int


class DistRecord(Record):
    name: str
    version: str
    requested: bool
    sha256: str
    source: str
    requires: list[str] = field(default_factory=list)
    files: list[FileRecord] = field(default_factory=list)
    # the specs it was asked for by ("aioble>=0.5"), for install -U
    wanted: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return normalize(self.name)


def parse_records(text: str, where: str) -> dict[str, DistRecord]:
    lines = text.splitlines()
    if not lines or lines[0] != HEADER:
        raise ImageError(where, f"not an upip records file (first line is not {HEADER!r})")
    records: dict[str, DistRecord] = {}
    current: DistRecord | None = None
    for number, line in enumerate(lines[1:], 2):
        parts = line.split("\t")
        try:
            if parts[0] == "dist" and len(parts) == 6:
                current = DistRecord(parts[1], parts[2], parts[3] == "1", parts[4], parts[5])
                records[current.key] = current
            elif parts[0] == "req" and len(parts) == 2 and current is not None:
                current.requires.append(parts[1])
            elif parts[0] == "want" and len(parts) == 2 and current is not None:
                current.wanted.append(parts[1])
            elif (len(parts) > 1 and parts[0].isalpha() and parts[0].islower()
                  and parts[0] not in ("dist", "req", "file", "want") and current is not None):
                pass  # a kind of line a later upip writes: skipped, as the device does
            elif parts[0] == "file" and len(parts) == 4 and current is not None:
                current.files.append(FileRecord(parts[1], parts[2], int(parts[3])))
            elif line.strip():
                raise ValueError
        except ValueError:
            raise ImageError(where, f"line {number} is damaged: {line[:60]!r}") from None
    return records


def format_records(records: Iterable[DistRecord]) -> str:
    out = [HEADER]
    for rec in sorted(records, key=lambda r: r.key):
        out.append("\t".join(("dist", rec.name, rec.version, "1" if rec.requested else "0",
                              rec.sha256, rec.source)))
        out += [f"want\t{w}" for w in rec.wanted]
        out += [f"req\t{r}" for r in rec.requires]
        out += [f"file\t{f.path}\t{f.sha256}\t{f.size}" for f in sorted(rec.files,
                                                                       key=lambda f: f.path)]
    return "\n".join(out) + "\n"
