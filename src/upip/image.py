"""Where packages go, as the installer sees it (:class:`Destination`), and
the image directory (:class:`Image`): its records (upip.records), read once,
the questions a plan asks of its files, and the plan itself. Everything
written goes through a transaction (upip.transaction)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, NamedTuple, Protocol

from .errors import FileConflict, ImageError, UpipError
from .image_lock import STAGE_NAME, ImageLock

# (the records format has its own module; these names stay importable from here)
from .records import HEADER as HEADER
from .records import RECORDS_NAME as RECORDS_NAME
from .records import DistRecord as DistRecord
from .records import FileRecord as FileRecord
from .records import format_records as format_records
from .records import parse_records as parse_records
from .report import Reporter
from .specs import aliases

if TYPE_CHECKING:
    from .mpy import MpyHeader
    from .transaction import Transaction

RESERVED = (RECORDS_NAME, STAGE_NAME)

_UNOWNED = ("exists but no installed package owns it (put there by hand or another tool?); "
            "move it away or pass --force")


def check_image_path(path: str) -> str:
    """A relative ``a/b`` path that cannot leave the image or touch upip's files."""
    parts = path.split("/")
    if (not path or path.startswith("/") or any(p in ("", ".", "..") for p in parts)
            or parts[0] in RESERVED or "\\" in path or "\x00" in path):
        raise ImageError(path, "refusing to write this path into the image")
    return path


class Staging(Protocol):
    """A destination's transaction: stage writes and deletions, then commit
    them with the new records in one step, or leave the image as it was."""

    def __enter__(self) -> Staging: ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None: ...

    def write(self, path: str, data: bytes) -> None: ...

    def delete(self, path: str) -> None: ...

    def commit(self, records: Iterable[DistRecord]) -> None: ...


class Change(NamedTuple):
    """One package's new files, as a plan sees them."""

    who: str  # the package, as messages name it
    old: DistRecord | None  # the record it replaces (None: a new package)
    files: Mapping[str, bytes]  # image path -> bytes
    hashes: Mapping[str, str]  # image path -> sha256


class Plan(NamedTuple):
    """What changes do to an image: files to write (with their sha256), files
    to delete, and what stops them (nothing may be written unless empty)."""

    puts: dict[str, tuple[bytes, str]]
    deletes: list[str]
    conflicts: list[UpipError]


class Destination:
    """Where packages go, as the installer sees it: the records, and the few
    questions about the files there that a plan needs; everything written goes
    through :meth:`transaction`. The installer never opens a file itself. Two
    implementations: a directory (:class:`Image`) and a board over serial
    (:class:`upip.board.BoardImage`); the device client is the third, on the
    board itself, with the same records and journal."""

    root: Path | str  # what it is called in messages and reports
    records: dict[str, DistRecord]

    def where(self, path: str = "") -> str:
        """A path of the image, as messages name it."""
        raise NotImplementedError

    @property
    def listing(self) -> str:
        """The command that lists this image."""
        raise NotImplementedError

    def intact(self, key: str) -> bool:
        """Whether every file of an installed dist is there as recorded."""
        raise NotImplementedError

    def holds(self, path: str, sha256: str) -> bool | None:
        """Whether the file at ``path`` has the content ``sha256``; None when
        there is no file there."""
        raise NotImplementedError

    def head(self, path: str) -> bytes | None:
        """The first 4 bytes of a file of the image (an .mpy's header); None
        when it is not there or cannot be read."""
        raise NotImplementedError

    def headers(self, skip: Collection[str] = ()) -> dict[str, MpyHeader]:
        """Headers of the recorded .mpy files (minus those of ``skip`` keys).
        A file that is missing or no .mpy is left out: damage is for
        :meth:`intact` and ``upip check`` to report, not a reason to refuse."""
        from .mpy import read_header

        out = {}
        for key, rec in self.records.items():
            if key in skip:
                continue
            for f in rec.files:
                head = self.head(f.path) if f.path.endswith(".mpy") else None
                if head is not None:
                    with contextlib.suppress(UpipError):
                        out[f.path] = read_header(head, f.path)
        return out

    def transaction(self) -> Staging:
        raise NotImplementedError

    def plan(self, changes: Sequence[Change], force: bool = False) -> Plan:
        """The files ``changes`` write and delete here, and their conflicts:
        two packages with other bytes for one path, a path an installed
        package keeps with other bytes, a file no package owns (unless
        ``force``). A file the replaced packages had and no one keeps goes."""
        replacing = {c.old.key for c in changes if c.old is not None}
        owners = self.owners()
        puts: dict[str, tuple[bytes, str]] = {}
        who: dict[str, str] = {}
        conflicts: list[UpipError] = []
        for change in changes:
            for path, data in change.files.items():
                sha = change.hashes[path]
                if path in puts and puts[path][1] != sha:
                    conflicts.append(FileConflict(path, [who[path], change.who]))
                puts[path], who[path] = (data, sha), change.who
                for key in owners.get(path, []):
                    if key in replacing:
                        continue
                    rec = self.records[key]
                    theirs = next(f for f in rec.files if f.path == path)
                    if theirs.sha256 != sha:
                        conflicts.append(FileConflict(
                            path, [change.who, f"the installed {rec.name} {rec.version}"],
                            "; uninstall one of them"))
                if not owners.get(path) and not force and self.holds(path, sha) is False:
                    conflicts.append(ImageError(self.where(path), _UNOWNED))
        deletes = []
        for change in changes:
            for f in change.old.files if change.old is not None else ():
                others = [k for k in owners.get(f.path, []) if k not in replacing]
                if f.path not in puts and not others:
                    deletes.append(f.path)
        return Plan(puts, deletes, conflicts)

    def commit(self, puts: Mapping[str, bytes], deletes: Iterable[str],
               records: Iterable[DistRecord]) -> None:
        """Write ``puts``, delete ``deletes`` and make ``records`` the records,
        in one transaction."""
        with self.transaction() as tx:
            for path, data in puts.items():
                tx.write(path, data)
            for path in deletes:
                tx.delete(path)
            tx.commit(records)

    def owners(self) -> dict[str, list[str]]:
        """Image path -> keys of the dists that own it."""
        owned: dict[str, list[str]] = {}
        for rec in self.records.values():
            for f in rec.files:
                owned.setdefault(f.path, []).append(rec.key)
        return owned

    def find(self, name: str) -> str | None:
        """The key of an installed dist by name; ``foo`` finds ``micropython-foo``
        (the naming rule of upip.specs)."""
        return next((key for key in aliases(name) if key in self.records), None)

    def dependents(self) -> dict[str, list[tuple[DistRecord, str]]]:
        """Key -> the installed dists that require it, with their requirement text."""
        from .errors import UpipError
        from .specs import parse_requirement

        found: dict[str, list[tuple[DistRecord, str]]] = {}
        for rec in self.records.values():
            for text in rec.requires:
                try:
                    key = parse_requirement(text).key
                except UpipError:
                    continue
                if key:
                    found.setdefault(key, []).append((rec, text))
        return found


class Image(Destination):
    """An image directory: records in memory, loaded once."""

    def __init__(self, root: Path, records: dict[str, DistRecord],
                 lock: ImageLock | None = None) -> None:
        self.root: Path = root
        self.records = records
        self.lock = lock  # held by a writer (Image.locked)

    @classmethod
    def open(cls, root: Path, reporter: Reporter | None = None, must_exist: bool = False,
             lock: ImageLock | None = None) -> Image:
        """The image at ``root``, read as it is: a reader takes no lock and
        leaves any stage alone. A missing folder is an empty image, unless
        ``must_exist`` (a command that only reads one). A writer opens it with
        :meth:`locked`, which reads the records under the lock."""
        root = Path(os.path.expanduser(root))
        if root.exists() and not root.is_dir():
            raise ImageError(str(root), "exists and is not a directory")
        if must_exist and not root.exists():
            raise ImageError(str(root), "no such image folder; give the image with -p DIR")
        path = root / RECORDS_NAME
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(root, {}, lock)
        except (OSError, UnicodeDecodeError) as exc:
            raise ImageError(str(path), f"cannot read it: {exc}") from None
        return cls(root, parse_records(text, str(path)), lock)

    @classmethod
    @contextlib.contextmanager
    def locked(cls, root: Path, reporter: Reporter | None = None,
               wait: float | None = None) -> Iterator[Image]:
        """The image, for a writer: the lock taken (a stale one recovered)
        before the records are read, and let go at the end, whatever
        happens."""
        root = Path(os.path.expanduser(root))
        if root.exists() and not root.is_dir():
            raise ImageError(str(root), "exists and is not a directory")
        with ImageLock(root, reporter, wait) as lock:
            yield cls.open(root, reporter, lock=lock)

    @classmethod
    def for_change(cls, root: Path, reporter: Reporter | None = None, dry_run: bool = False
                   ) -> contextlib.AbstractContextManager[Image]:
        """:meth:`locked`, or for a dry run (which writes nothing, not even
        the lock) the image as it is."""
        if dry_run:
            return contextlib.nullcontext(cls.open(root, reporter))
        return cls.locked(root, reporter)

    def paths(self) -> list[str]:
        """Every file in the image directory (``a/b``, sorted), upip's own aside."""
        if not self.root.is_dir():
            return []
        rels = (p.relative_to(self.root) for p in self.root.rglob("*") if p.is_file())
        return sorted(r.as_posix() for r in rels if r.parts[0] not in RESERVED)

    def unowned(self) -> list[str]:
        """Files no installed package owns (put there by hand or another tool)."""
        owned = self.owners()
        return [p for p in self.paths() if p not in owned]

    def intact(self, key: str) -> bool:
        """Whether every file of an installed dist is present with its size."""
        for f in self.records[key].files:
            try:
                if (self.root / f.path).stat().st_size != f.size:
                    return False
            except OSError:
                return False
        return True

    def where(self, path: str = "") -> str:
        return str(self.root / path) if path else str(self.root)

    @property
    def listing(self) -> str:
        return f"upip list -p {self.root}"

    def holds(self, path: str, sha256: str) -> bool | None:
        disk = self.root / path
        if not disk.is_file():
            return None
        return _sha256(disk.read_bytes()) == sha256

    def read(self, path: str) -> bytes:
        """The bytes of a file of the image (the source of ``upip sync``)."""
        try:
            return (self.root / path).read_bytes()
        except OSError as exc:
            raise ImageError(self.where(path), f"cannot read it ({exc.strerror or exc})") from None

    def head(self, path: str) -> bytes | None:
        try:
            with open(self.root / path, "rb") as fh:
                return fh.read(4)
        except OSError:
            return None

    def transaction(self) -> Transaction:
        from .transaction import Transaction  # (only a writer needs it)

        return Transaction(self.root, self.lock)


def _sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()
