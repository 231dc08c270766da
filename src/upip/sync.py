"""``upip sync``: make a destination (a board, another folder) the image a
folder holds, sending only the files whose sha256 differs, in one
transaction."""

from __future__ import annotations

from .errors import ImageError
from .fetch import sha256_hex
from .image import Destination, Image
from .records import DistRecord
from .report import Reporter
from .results import Item, SyncReport


def sync(source: Image, dest: Destination, reporter: Reporter | None = None,
         dry_run: bool = False, force: bool = False) -> SyncReport:
    """Make ``dest`` (opened for a change) the image ``source`` is: the files
    whose sha256 differs there are written, the files of its records that
    ``source`` no longer has are deleted, and its records become
    ``source``'s, in one transaction. Only the files ``source``'s records own
    go; a file there that no package owns is refused unless ``force``, as
    an install does."""
    reporter = reporter or Reporter()
    report = SyncReport(source.root, dest.root, dry_run)
    wanted: dict[str, tuple[bytes, str]] = {}
    for rec in source.records.values():
        for f in rec.files:
            data = source.read(f.path)
            if sha256_hex(data) != f.sha256 or len(data) != f.size:
                raise ImageError(source.where(f.path), f"differs from what {rec.name} "
                                 f"{rec.version} installed; repair the image with upip install "
                                 f"-p {source.root} --force-reinstall {rec.name}")
            wanted[f.path] = (data, f.sha256)
    unowned = source.unowned()
    if unowned:
        reporter.note(f"{len(unowned)} file(s) of {source.root} that no package owns stay "
                      f"behind ({', '.join(unowned[:3])}{', ...' if len(unowned) > 3 else ''})")
    owned = dest.owners()
    puts = {}
    for path, (data, sha) in sorted(wanted.items()):
        there = dest.holds(path, sha)
        if there:
            continue
        if there is False and not owned.get(path) and not force:
            raise ImageError(dest.where(path), "exists but no installed package owns it (put "
                             "there by hand or another tool?); move it away or pass --force")
        puts[path] = data
    deletes = sorted(p for p in owned if p not in wanted)
    for key, rec in sorted(source.records.items()):
        old = dest.records.get(key)
        if old is not None and _same(old, rec):
            report.unchanged.append(Item.of(rec))
        else:
            report.installed.append(Item.of(rec))
            if old is not None and (old.version, old.sha256) != (rec.version, rec.sha256):
                report.removed.append(Item.of(old))
    report.removed += [Item.of(r) for k, r in sorted(dest.records.items())
                       if k not in source.records]
    report.sent, report.deleted = sorted(puts), deletes
    report.sent_bytes = sum(len(d) for d in puts.values())
    same = dest.records.keys() == source.records.keys() and all(
        _same(r, dest.records[k]) for k, r in source.records.items())
    if dry_run or (not puts and not deletes and same):
        return report
    dest.commit(puts, deletes, source.records.values())
    dest.records = dict(source.records)
    return report


def _same(a: DistRecord, b: DistRecord) -> bool:
    """The same record, whatever order its files were written in."""
    def files(r: DistRecord) -> list[tuple[str, str, int]]:
        return sorted((f.path, f.sha256, f.size) for f in r.files)
    return ((a.name, a.version, a.requested, a.sha256, a.source, a.requires, files(a))
            == (b.name, b.version, b.requested, b.sha256, b.source, b.requires, files(b)))
