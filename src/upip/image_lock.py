"""One writer per image at a time, host and device client alike.

The lock is the stage folder itself, ``DIR/.upip-tx``: one ``mkdir`` takes it
(and fails when it exists), and its ``pid`` file names the owner as ``PID
START``: the process id and the process's start time in clock ticks (field
22 of ``/proc/PID/stat``), so that a reused process id is not taken for the
owner. A board's client, the only program running there, writes it empty.

A writer that finds the lock held by a live owner waits up to ``wait``
seconds (``UPIP_LOCK_WAIT``, default 20), then stops with one line naming it. A lock whose owner is gone is
stale: the transaction it guarded is finished or undone (upip.transaction.recover)
and the lock is taken. Readers (list, show, check) never take it and never
touch the stage.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from types import TracebackType

from .errors import ImageError
from .report import Reporter

STAGE_NAME = ".upip-tx"
OWNER_NAME = "pid"
WAIT = 20.0  # seconds a second writer waits for the first (UPIP_LOCK_WAIT)


def default_wait() -> float:
    try:
        return float(os.environ.get("UPIP_LOCK_WAIT", WAIT))
    except ValueError:
        return WAIT


def _start_time(pid: int) -> str:
    """The start time of process ``pid`` in clock ticks, "" where /proc has none."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            # the command name (field 2) may hold spaces: count from after it
            return f.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return ""


def owner_text() -> str:
    """What this process writes into a lock it takes."""
    pid = os.getpid()
    return f"{pid} {_start_time(pid)}".strip()


def alive(owner: str) -> bool:
    """Whether the process an owner line names is still running (an empty
    line, from a board, names none)."""
    parts = owner.split()
    try:
        pid = int(parts[0])
    except (IndexError, ValueError):
        return False
    if pid <= 0:  # (kill(0) would ask about this process's whole group)
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: it exists
        pass
    start = _start_time(pid)
    return len(parts) < 2 or not start or start == parts[1]


def describe(owner: str) -> str:
    pid = owner.split()[0] if owner.split() else ""
    return f"another upip (pid {pid})" if pid else "another upip"


class ImageLock:
    """The writer's lock on ``root``; makes ``root`` (and its parents) when
    missing, and removes what it made if it goes away with nothing committed."""

    def __init__(self, root: Path, reporter: Reporter | None = None,
                 wait: float | None = None) -> None:
        self.root = root
        self.stage = root / STAGE_NAME
        self.reporter = reporter or Reporter()
        self.wait = default_wait() if wait is None else wait
        self.created_root: list[Path] = []  # folders above and including root it made
        self.held = False

    def acquire(self) -> ImageLock:
        from .transaction import recover  # (the journal is the transaction's)

        self._make_root()
        deadline = time.monotonic() + self.wait
        said = False
        while True:
            try:
                self.stage.mkdir()
                break
            except FileExistsError:
                owner = self._owner()
                if owner is None:  # gone meanwhile: try again at once
                    continue
                if not alive(owner):
                    recover(self.root, self.reporter)
                    self._make_root()  # (undoing a first install removes DIR itself)
                    continue
                if time.monotonic() >= deadline:
                    self._remove_created_root()
                    raise ImageError(str(self.root), f"{describe(owner)} is changing this "
                                     f"image; try again when it is done") from None
                if not said and time.monotonic() > deadline - self.wait + 1:
                    said = True
                    self.reporter.note(f"waiting for {describe(owner)} to finish with "
                                       f"{self.root}")
                time.sleep(0.05)
            except OSError as exc:
                self._remove_created_root()
                raise ImageError(str(self.root),
                                 f"cannot prepare it: {exc.strerror or exc}") from None
        self.held = True
        try:  # written aside and renamed in: a reader never sees it half written
            aside = self.stage / f"{OWNER_NAME}.{os.getpid()}"
            aside.write_text(owner_text())
            os.rename(aside, self.stage / OWNER_NAME)  # (a fresh stage: nothing to replace)
        except OSError as exc:
            self.release()
            raise ImageError(str(self.root), f"cannot prepare it: {exc.strerror or exc}") from None
        return self

    def _owner(self) -> str | None:
        """The owner line of the lock there, or None when there is no lock now.
        A lock just made whose owner line is not written yet is waited for."""
        for _ in range(40):
            try:
                return (self.stage / OWNER_NAME).read_text()
            except FileNotFoundError:
                if not self.stage.exists():
                    return None
                time.sleep(0.005)
            except OSError:
                return ""
        return ""  # a folder with no owner for 0.2 s: left by a crash

    def _make_root(self) -> None:
        missing = []
        here = self.root
        while not here.exists():
            missing.append(here)
            here = here.parent
        try:
            for path in reversed(missing):
                path.mkdir()
                self.created_root.append(path)
        except FileExistsError:  # another writer made it first: fine
            pass
        except OSError as exc:
            self._remove_created_root()
            raise ImageError(str(self.root), f"cannot create it: {exc.strerror or exc}") from None

    def committed(self) -> None:
        """The commit has removed the stage: the lock is gone, and the folders
        made for the image stay."""
        self.held = False
        self.created_root = []

    def rolled_back(self) -> None:
        """A failed commit has been undone, its stage with it: the lock is
        gone, and the folders made for the image go too (if empty)."""
        self.held = False
        self._remove_created_root()

    def release(self) -> None:
        """Let go (nothing was committed, or the commit removed the stage)."""
        if self.held and self.stage.exists():
            shutil.rmtree(self.stage, ignore_errors=True)
        self.held = False
        self._remove_created_root()

    def _remove_created_root(self) -> None:
        for path in reversed(self.created_root):
            try:
                path.rmdir()
            except OSError:
                break
        self.created_root = []

    def __enter__(self) -> ImageLock:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

