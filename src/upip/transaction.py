"""An image's transactions: stage, verify, commit, or leave it as it was.

A :class:`Transaction` stages every new file in ``DIR/.upip-tx``, checks it,
and only then moves files into place, keeping what it replaces in the stage
too. A journal written before the first move lets any failure (an exception,
Ctrl-C, or a kill followed by the next upip run: :func:`recover`) put DIR back
exactly as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType

from .errors import ImageError
from .image import check_image_path
from .image_lock import STAGE_NAME, ImageLock
from .records import RECORDS_NAME, DistRecord, format_records
from .report import Reporter


class Transaction:
    """Stage ▸ verify ▸ commit, or leave the directory as it was.

    A new file whose folder the image has already is staged flat: the i-th is
    ``.upip-tx/n<i>``, and the file it replaces is kept as ``.upip-tx/o<i>``. A
    folder the image lacks is staged whole, as ``.upip-tx/t<i>``, and goes in
    with one rename. The journal's ``OP<TAB>i<TAB>PATH`` lines (``del``, ``put``,
    ``tree``, and ``root`` for the folders made above DIR) are all a rollback
    needs; it also undoes the ``mkdir`` lines a device's journal has.

    Files are written at commit, a staged folder per thread: the kernel makes
    files one at a time within a folder but not across folders, and making
    files is most of an install's time.
    """

    def __init__(self, root: Path, lock: ImageLock | None = None) -> None:
        self.root = root
        self.stage = root / STAGE_NAME
        self.lock = lock  # the writer's lock; without one, the transaction takes its own
        self.own_lock = lock is None
        self.flat: dict[str, int] = {}  # path -> slot i of a file staged as n<i>
        self.trees: dict[str, int] = {}  # a folder the image lacks -> i of t<i>
        self.writes: dict[str, tuple[str, bytes]] = {}  # path -> (where in the stage, data)
        self.deletes: list[str] = []
        self.committed = self.attempted = False
        self._folders: dict[str, bool] = {}  # image folder -> whether it exists

    @property
    def created_root(self) -> list[Path]:
        """Folders above and including root that the lock made for the image."""
        return self.lock.created_root if self.lock else []

    def __enter__(self) -> Transaction:
        if self.lock is None:
            self.lock = ImageLock(self.root, wait=0).acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self.attempted:
            self._cleanup()

    # -- staging ---------------------------------------------------------

    def write(self, path: str, data: bytes) -> None:
        """Stage ``data`` for ``path`` (written to disk at commit)."""
        check_image_path(path)
        top = self._new_folder(path)
        if top is None:
            slot = self.flat.setdefault(path, len(self.flat))
            self.writes[path] = (f"n{slot}", data)
        else:
            tree = self.trees.setdefault(top, len(self.trees))
            self.writes[path] = (f"t{tree}{path[len(top):]}", data)

    def _new_folder(self, path: str) -> str | None:
        """The outermost folder of ``path`` that the image lacks, if any."""
        folder = ""
        for part in path.split("/")[:-1]:
            folder = f"{folder}/{part}" if folder else part
            there = self._folders.get(folder)
            if there is None:
                full = os.path.join(self.root, folder)
                there = os.path.isdir(full)
                if not there and os.path.lexists(full):
                    raise ImageError(str(self.root), f"{path} needs the folder {folder}, "
                                     "which is a file in the image")
                self._folders[folder] = there
            if not there:
                return folder
        return None

    def _write_stage(self) -> None:
        """Write every staged file: the flat ones on one thread, each folder on its own."""
        groups: dict[str, list[tuple[str, str, bytes]]] = {}
        for path, (where, data) in self.writes.items():
            group = where.split("/", 1)[0] if "/" in where else ""
            groups.setdefault(group, []).append((where, path, data))
        work = list(groups.values())
        threads = min(4, os.cpu_count() or 1, len(work))
        if threads < 2 or len(self.writes) < 16:
            for files in work:
                self._stage_files(files)
            return
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(threads, thread_name_prefix="upip-stage")
        try:
            for future in [pool.submit(self._stage_files, files) for files in work]:
                future.result()
        finally:  # an error or Ctrl-C: no thread may write after the stage is removed
            pool.shutdown(wait=True, cancel_futures=True)

    def _stage_files(self, files: list[tuple[str, str, bytes]]) -> None:
        made: set[str] = set()  # staged folders made already: one makedirs each
        for where, path, data in files:
            folder = os.path.dirname(where)
            if folder and folder not in made:
                try:
                    os.makedirs(os.path.join(self.stage, folder), exist_ok=True)
                except OSError as exc:
                    raise ImageError(str(self.root), f"cannot stage {path}: "
                                     f"{exc.strerror or exc}") from None
                made.add(folder)
            self._stage(where, path, data)

    def _stage(self, where: str, path: str, data: bytes) -> None:
        """Write one staged file and verify the disk took all of it."""
        try:
            fd = os.open(os.path.join(self.stage, where),
                         os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            try:
                view, written = memoryview(data), 0
                while written < len(data):
                    written += os.write(fd, view[written:])
                if os.fstat(fd).st_size != len(data):
                    raise ImageError(str(self.root), f"staged {path} is short on disk")
            finally:
                os.close(fd)
        except OSError as exc:
            raise ImageError(str(self.root), f"cannot stage {path}: {exc.strerror or exc}") from None

    def delete(self, path: str) -> None:
        self.deletes.append(check_image_path(path))

    # -- commit ----------------------------------------------------------

    def commit(self, records: Iterable[DistRecord]) -> None:
        self._write_stage()
        flat = self.flat
        slot = len(flat)  # the records file takes the next slot
        self._stage(f"n{slot}", RECORDS_NAME, format_records(records).encode("utf-8"))
        real_root = os.path.realpath(self.root)
        ops: list[tuple[str, int, str]] = []
        extra = slot + 1
        for path in self.deletes:
            if path not in self.writes:
                ops.append(("del", extra, path))
                extra += 1
        ops += [("put", flat[p], p) for p in sorted(flat)]
        ops += [("tree", i, p) for p, i in sorted(self.trees.items())]
        ops.append(("put", slot, RECORDS_NAME))
        journal = "".join(f"{op}\t{i}\t{path}\n" for op, i, path in ops)
        journal += "".join(f"root\t-1\t{p}\n" for p in self.created_root)
        self.attempted = True  # from here on, a failure is rolled back, not cleaned up
        try:
            with open(self.stage / "journal", "w", encoding="utf-8") as f:
                f.write(journal)
                f.flush()
                os.fsync(f.fileno())
            root, stage = os.fspath(self.root), os.fspath(self.stage)
            # Whether each folder written into resolves inside the image, asked
            # once per folder: no step here creates a symbolic link, so none
            # can lead a folder checked inside to somewhere else.
            inside: dict[str, bool] = {}
            for op, i, path in ops:
                target = os.path.join(root, path)
                folder = os.path.dirname(path)
                if folder:
                    if folder not in inside:
                        inside[folder] = _inside(real_root,
                                                 os.path.realpath(os.path.dirname(target)))
                    if not inside[folder]:
                        raise ImageError(str(self.root), f"{path} would land outside the image")
                if op == "tree":
                    if os.path.lexists(target):
                        raise ImageError(str(self.root), f"{path} appeared during the install")
                    os.replace(os.path.join(stage, f"t{i}"), target)
                    continue
                if os.path.lexists(target):
                    if os.path.isdir(target) and not os.path.islink(target):
                        raise ImageError(str(self.root), f"{path} is a directory in the image")
                    os.replace(target, os.path.join(stage, f"o{i}"))
                if op == "put":
                    os.replace(os.path.join(stage, f"n{i}"), target)
            os.replace(self.stage / "journal", self.stage / "committed")
        except BaseException as exc:
            _rollback(self.root, self.stage)
            assert self.lock is not None
            self.lock.rolled_back()
            if isinstance(exc, OSError) and not isinstance(exc, ImageError):
                raise ImageError(str(self.root), f"cannot commit: {exc.strerror or exc}") from None
            raise
        self.committed = True
        shutil.rmtree(self.stage, ignore_errors=True)
        assert self.lock is not None
        self.lock.committed()
        _prune_empty_dirs(self.root, self.deletes)

    def _cleanup(self) -> None:
        """Nothing was committed: the stage emptied (and the lock let go when
        the transaction took it itself)."""
        assert self.lock is not None
        if self.own_lock:
            self.lock.release()
            return
        for entry in os.scandir(self.stage) if self.stage.exists() else ():
            if entry.name != "pid":
                path = Path(entry.path)
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)


def _inside(root: str, path: str) -> bool:
    return os.path.commonpath([root, path]) == root


def _prune_empty_dirs(root: Path, deleted: Iterable[str]) -> None:
    dirs = {os.path.dirname(p) for p in deleted}
    for d in sorted(dirs, key=lambda p: -p.count("/")):
        while d:
            try:
                (root / d).rmdir()
            except OSError:
                break
            d = os.path.dirname(d)


def _rollback(root: Path, stage: Path) -> None:
    """Undo the moves a journal lists, newest first; then drop the stage."""
    try:
        lines = (stage / "journal").read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []
    ops = [line.split("\t", 2) for line in lines if line.count("\t") == 2]
    for op, i, path in reversed(ops):
        if op == "root":
            continue
        target, new, old = root / path, stage / f"n{i}", stage / f"o{i}"
        if op == "tree":
            if os.path.lexists(target) and not os.path.lexists(stage / f"t{i}"):
                os.replace(target, stage / f"t{i}")
            continue
        if op == "mkdir":  # a device's journal: it stages files flat
            with contextlib.suppress(OSError):
                target.rmdir()
            continue
        if op == "put" and not new.exists() and os.path.lexists(target):
            # the new file went in: back to the stage, not deleted, so that
            # an undo cut short and run again never takes the old file it
            # has put back for the new one
            os.replace(target, new)
        if os.path.lexists(old):
            os.replace(old, target)
    shutil.rmtree(stage, ignore_errors=True)
    for op, _, path in reversed(ops):
        if op == "root":
            try:
                Path(path).rmdir()
            except OSError:
                break


def recover(root: Path, reporter: Reporter) -> None:
    """Finish or undo the transaction of a writer that is gone (upip.image_lock
    calls this for a stale lock): a committed one loses its stage and the
    folders its deletions emptied; one cut short is rolled back."""
    stage = root / STAGE_NAME
    committed = stage / "committed"
    if committed.exists():
        try:
            lines = committed.read_text(encoding="utf-8").splitlines()
        except OSError:
            lines = []
        deleted = [line.split("\t", 2)[2] for line in lines
                   if line.startswith("del\t") and line.count("\t") == 2]
        shutil.rmtree(stage, ignore_errors=True)
        _prune_empty_dirs(root, deleted)
        return
    if (stage / "journal").exists():
        _rollback(root, stage)
        reporter.warn(f"{root}: undid an install that was interrupted; the directory is as before")
    else:
        shutil.rmtree(stage, ignore_errors=True)
