"""The image directory: records file, path rules, transactions and crash recovery.

The failure tests inject faults into ``os.replace`` (the only call that moves
files into place) and, to stand in for a SIGKILL, switch off the in-process
rollback so the stage and its journal stay behind for the next run.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import SimpleNamespace

import pytest

import upip.transaction
from tests.conftest import snapshot
from upip.errors import ImageError, UpipError
from upip.image import (
    HEADER,
    RECORDS_NAME,
    STAGE_NAME,
    DistRecord,
    FileRecord,
    Image,
    check_image_path,
    format_records,
    parse_records,
)
from upip.report import CollectingReporter
from upip.transaction import Transaction

REAL_REPLACE = os.replace


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def record(name: str, version: str, files: Mapping[str, bytes], requested: bool = True,
           requires: Iterable[str] = ()) -> DistRecord:
    return DistRecord(name, version, requested, sha(name.encode() + version.encode()),
                      f"http://127.0.0.1/files/{name}-{version}.tar.gz", list(requires),
                      [FileRecord(p, sha(d), len(d)) for p, d in sorted(files.items())])


def commit(root: Path, puts: Mapping[str, bytes], deletes: Iterable[str] = (),
           records: Iterable[DistRecord] = ()) -> None:
    with Transaction(root) as tx:
        for path, data in puts.items():
            tx.write(path, data)
        for path in deletes:
            tx.delete(path)
        tx.commit(records)


class FailOnCall:
    """Stands in for os.replace: the Nth call raises, every other call is real."""

    def __init__(self, n: int, exc: BaseException) -> None:
        self.n, self.exc, self.calls = n, exc, 0

    def __call__(self, src: os.PathLike[str] | str, dst: os.PathLike[str] | str) -> None:
        self.calls += 1
        if self.calls == self.n:
            raise self.exc
        REAL_REPLACE(src, dst)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# -- records file ------------------------------------------------------------------

APP = record("Micropython_FX.App", "1.0", {"fxapp/z.py": b"z\n", "fxapp/__init__.py": b"i\n"},
             requires=["micropython-fx-base>=1.1,<2", 'fx-never; implementation_name == "cpython"'])
BASE = record("micropython-fx-base", "3.4.2-4", {"fxbase.py": b"base\n"}, requested=False)
WHEEL = record("fx-wheel", "1.0", {}, requested=True)


SHA_I, SHA_Z, SHA_BASE = sha(b"i\n"), sha(b"z\n"), sha(b"base\n")


def test_records_are_written_sorted_and_read_back_the_same() -> None:
    text = format_records([BASE, WHEEL, APP])
    assert text.splitlines() == [
        HEADER,
        f"dist\tfx-wheel\t1.0\t1\t{WHEEL.sha256}\t{WHEEL.source}",
        f"dist\tMicropython_FX.App\t1.0\t1\t{APP.sha256}\t{APP.source}",
        "req\tmicropython-fx-base>=1.1,<2",
        'req\tfx-never; implementation_name == "cpython"',
        f"file\tfxapp/__init__.py\t{SHA_I}\t2",
        f"file\tfxapp/z.py\t{SHA_Z}\t2",
        f"dist\tmicropython-fx-base\t3.4.2-4\t0\t{BASE.sha256}\t{BASE.source}",
        f"file\tfxbase.py\t{SHA_BASE}\t5",
    ]
    assert text.endswith("\n")
    parsed = parse_records(text, "lib/.upip-records")
    assert list(parsed) == ["fx-wheel", "micropython-fx-app", "micropython-fx-base"]
    assert parsed["micropython-fx-app"] == APP
    assert parsed["micropython-fx-base"] == BASE
    assert parsed["micropython-fx-base"].requested is False
    assert parsed["fx-wheel"] == WHEEL
    assert format_records(parsed.values()) == text


def test_unsorted_files_come_back_sorted() -> None:
    rec = record("a", "1", {})
    rec.files = [FileRecord("b.py", "1" * 64, 1), FileRecord("a.py", "2" * 64, 2)]
    back = parse_records(format_records([rec]), "x")["a"]
    assert [f.path for f in back.files] == ["a.py", "b.py"]


def test_blank_lines_in_records_are_ignored() -> None:
    text = format_records([BASE]).replace("\nfile", "\n\n   \nfile")
    assert parse_records(text, "x") == {"micropython-fx-base": BASE}


@pytest.mark.parametrize(("line", "number"), [
    ("dist\tonly\tthree", 3),
    ("file\tfxbase.py\tabc\tnot-a-size", 3),
    ("file\tfxbase.py\tabc", 3),
    ("something else", 3),
    ("dist\ta\t1\t1\tsha\tsrc\textra", 3),
])
def test_damaged_records_line_is_named(line: str, number: int) -> None:
    text = format_records([WHEEL]) + line + "\n"
    with pytest.raises(ImageError, match=f"line {number} is damaged") as info:
        parse_records(text, "lib/.upip-records")
    assert info.value.directory == "lib/.upip-records"
    assert repr(line) in str(info.value)


def test_a_kind_of_line_a_later_upip_writes_is_skipped() -> None:
    text = format_records([WHEEL]) + "later\tsomething\tnew\n"
    assert parse_records(text, "x") == parse_records(format_records([WHEEL]), "x")


def test_requirement_before_any_dist_is_damaged() -> None:
    with pytest.raises(ImageError, match="line 2 is damaged"):
        parse_records(f"{HEADER}\nreq\tfoo\n", "x")


@pytest.mark.parametrize("text", ["", "upip-records\t2\n", "dist\ta\t1\t1\ts\tsrc\n",
                                  "# not it\n" + HEADER + "\n"])
def test_wrong_header_is_refused(text: str) -> None:
    with pytest.raises(ImageError, match="not an upip records file") as info:
        parse_records(text, "lib/.upip-records")
    assert str(info.value).startswith("lib/.upip-records: ")


def test_image_error_is_an_upip_error_and_an_os_error() -> None:
    with pytest.raises(ImageError) as info:
        parse_records("", "x")
    assert isinstance(info.value, UpipError) and isinstance(info.value, OSError)


# -- image paths -------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "", "/abs", "/abs/x.py", "a/../b", "..", "../x.py", "./a.py", "a/./b.py", "a//b.py", "a/",
    ".upip-records", ".upip-tx", ".upip-tx/x", ".upip-tx/new/a.py", "a\\b.py", "..\\x.py",
    "a\x00.py",
])
def test_check_image_path_refuses(path: str) -> None:
    with pytest.raises(ImageError, match="refusing to write this path"):
        check_image_path(path)


@pytest.mark.parametrize("path", ["a.py", "pkg/__init__.py", "pkg/data/x.bin",
                                  "pkg/.upip-records", ".upip-records.bak", "..a.py"])
def test_check_image_path_accepts(path: str) -> None:
    assert check_image_path(path) == path


def test_transaction_write_refuses_bad_path(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    with Transaction(root) as tx, pytest.raises(ImageError, match="refusing"):
        tx.write("../evil.py", b"x")
    assert not root.exists()
    assert not (tmp_path / "evil.py").exists()


# -- transactions ------------------------------------------------------------------

OLD_FILES = {"a.py": b"old a\n", "b.py": b"old b\n", "pkg/__init__.py": b"",
             "pkg/old.py": b"old\n", "keep.py": b"keep\n"}
OLD = [record("old", "1", {p: d for p, d in OLD_FILES.items() if p != "keep.py"}),
       record("keep", "1", {"keep.py": b"keep\n"})]
NEW_PUTS = {"a.py": b"new a, longer than before\n", "new/sub/c.py": b"c\n", "new/d.py": b"d\n"}
NEW_DELETES = ["b.py", "pkg/__init__.py", "pkg/old.py"]
NEW = [record("old", "2", {"a.py": NEW_PUTS["a.py"], "new/sub/c.py": b"c\n",
                           "new/d.py": b"d\n"}), OLD[1]]


def populate(root: Path) -> None:
    commit(root, OLD_FILES, records=OLD)


def change(root: Path) -> None:
    commit(root, NEW_PUTS, NEW_DELETES, NEW)


def test_commit_puts_replaces_and_deletes_files_and_writes_records(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    populate(root)
    assert set(snapshot(root)) == {RECORDS_NAME, "a.py", "b.py", "keep.py", "pkg",
                                   "pkg/__init__.py", "pkg/old.py"}
    change(root)
    assert (root / "a.py").read_bytes() == NEW_PUTS["a.py"]
    assert (root / "new" / "sub" / "c.py").read_bytes() == b"c\n"
    assert (root / "new" / "d.py").read_bytes() == b"d\n"
    assert (root / "keep.py").read_bytes() == b"keep\n"
    assert not (root / "b.py").exists()
    assert not (root / "pkg").exists()  # emptied by the deletes, so pruned
    assert not (root / STAGE_NAME).exists()
    assert (root / RECORDS_NAME).read_text(encoding="utf-8") == format_records(NEW)
    assert set(snapshot(root)) == {RECORDS_NAME, "a.py", "keep.py", "new", "new/d.py", "new/sub",
                                   "new/sub/c.py"}
    assert Image.open(root).records == {r.key: r for r in NEW}


def test_commit_creates_missing_target_and_parents(tmp_path: Path) -> None:
    root = tmp_path / "build" / "deep" / "lib"
    commit(root, {"x/y/z.py": b"z\n"}, records=[record("z", "1", {"x/y/z.py": b"z\n"})])
    assert snapshot(root) == {RECORDS_NAME: sha(format_records(
        [record("z", "1", {"x/y/z.py": b"z\n"})]).encode()), "x": "dir", "x/y": "dir",
        "x/y/z.py": sha(b"z\n")}


def test_abandoned_transaction_removes_the_directories_it_made(tmp_path: Path) -> None:
    before = snapshot(tmp_path)
    root = tmp_path / "build" / "deep" / "lib"
    with pytest.raises(RuntimeError, match="boom"), Transaction(root) as tx:
        tx.write("a.py", b"a\n")
        assert (root / STAGE_NAME).is_dir()
        raise RuntimeError("boom")
    assert not (tmp_path / "build").exists()
    assert snapshot(tmp_path) == before


def test_abandoned_transaction_leaves_existing_image_alone(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    populate(root)
    before = snapshot(root)
    with pytest.raises(KeyboardInterrupt), Transaction(root) as tx:
        tx.write("a.py", b"other\n")
        tx.delete("b.py")
        raise KeyboardInterrupt
    assert snapshot(root) == before


def test_second_transaction_on_same_directory_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    populate(root)
    with Transaction(root), pytest.raises(ImageError, match="another upip"):
        Transaction(root).__enter__()  # this process's own lock: alive
    assert not (root / STAGE_NAME).exists()


@pytest.mark.parametrize(("puts", "refused"), [
    ({"linked/x.py": b"x\n", "zz.py": b"z\n"}, "linked/x.py"),
    # linked/new is missing, so it is staged whole: the one rename must be refused too
    ({"linked/new/x.py": b"x\n"}, "linked/new"),
])
def test_write_through_symlinked_dir_leaving_the_image_is_refused(
        tmp_path: Path, puts: dict[str, bytes], refused: str) -> None:
    root = tmp_path / "lib"
    populate(root)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (root / "linked").symlink_to(outside)
    before, before_outside = snapshot(root), snapshot(outside)
    with pytest.raises(ImageError, match=f"{refused} would land outside the image"):
        commit(root, puts, records=OLD)
    assert snapshot(root) == before
    assert snapshot(outside) == before_outside == {}


def test_write_through_symlink_to_sibling_with_same_prefix_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    populate(root)
    sibling = tmp_path / "lib-other"
    sibling.mkdir()
    (root / "linked").symlink_to("../lib-other")
    with pytest.raises(ImageError, match="would land outside the image"):
        commit(root, {"linked/x.py": b"x\n"}, records=OLD)
    assert snapshot(sibling) == {}


def test_folder_that_is_a_file_in_the_image_is_named(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    populate(root)
    before = snapshot(root)
    with pytest.raises(ImageError, match=r"a\.py/x\.py needs the folder a\.py, which is a file"):
        commit(root, {"a.py/x.py": b"x\n"}, records=OLD)
    assert snapshot(root) == before


MANY = {**{f"pkg{i}/__init__.py": f"p{i}\n".encode() for i in range(12)},
        **{f"pkg{i}/sub/m.py": f"m{i}\n".encode() for i in range(12)},
        "pkg/more.py": b"more\n", "top.py": b"top\n"}


def test_many_new_folders_are_staged_on_threads(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "lib"
    populate(root)
    threads = set()
    stage_files = Transaction._stage_files

    def spy(tx: Transaction, files: list[tuple[str, str, bytes]]) -> None:
        threads.add(threading.current_thread().name)
        stage_files(tx, files)

    monkeypatch.setattr(Transaction, "_stage_files", spy)
    commit(root, MANY, records=[*OLD, record("many", "1", MANY)])
    assert any(name.startswith("upip-stage") for name in threads)
    after = snapshot(root)
    for path, data in MANY.items():
        assert after[path] == sha(data), path
    assert {p for p in after if after[p] != "dir"} - set(MANY) == set(OLD_FILES) | {RECORDS_NAME}
    assert not (root / STAGE_NAME).exists()


# -- failures during commit ----------------------------------------------------------

FAULTS: dict[str, Callable[[], BaseException]] = {
    "disk-full": lambda: OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
    "ctrl-c": KeyboardInterrupt,
}


@pytest.mark.parametrize("fault", FAULTS)
def test_failure_while_staging_on_threads_leaves_image_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    root = tmp_path / "lib"
    populate(root)
    before = snapshot(root)
    real_open = os.open
    calls = 0
    lock = threading.Lock()

    def failing_open(path: str, flags: int, mode: int = 0o777, **kw: int) -> int:
        nonlocal calls
        with lock:
            calls += 1
            if calls == 15:
                raise FAULTS[fault]()
        return real_open(path, flags, mode, **kw)

    with monkeypatch.context() as m:
        m.setattr(upip.transaction.os, "open", failing_open)
        exc_type = ImageError if fault == "disk-full" else KeyboardInterrupt
        with pytest.raises(exc_type) as info:
            commit(root, MANY, records=[*OLD, record("many", "1", MANY)])
    if fault == "disk-full":
        assert "cannot stage" in str(info.value) and "No space left" in str(info.value)
    assert snapshot(root) == before
    assert not (root / STAGE_NAME).exists()



def each_failing_move(monkeypatch: pytest.MonkeyPatch, make_root: Callable[[int], Path],
                      run: Callable[[Path], None], fault: Callable[[], BaseException]
                      ) -> Iterable[tuple[int, Path, dict[str, str], BaseException]]:
    """Run ``run`` once per os.replace call, failing that call; yield each outcome.

    Ends with the first run that needs fewer moves than the failing call number.
    """
    for n in itertools.count(1):
        root = make_root(n)
        top = root.parent.parent
        before = snapshot(top)
        failing = FailOnCall(n, fault())
        raised: BaseException | None = None
        with monkeypatch.context() as m:
            m.setattr(upip.transaction.os, "replace", failing)
            try:
                run(root)
            except BaseException as exc:  # whatever the fault raised
                raised = exc
        if raised is None:
            assert failing.calls == n - 1
            return
        yield n, top, before, raised


@pytest.mark.parametrize("fault", FAULTS)
def test_failed_commit_into_existing_image_restores_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    def make_root(n: int) -> Path:
        root = tmp_path / f"run{n}" / "parent" / "lib"
        populate(root)
        return root

    failures = 0
    for n, top, before, exc in each_failing_move(monkeypatch, make_root, change, FAULTS[fault]):
        failures += 1
        if fault == "disk-full":
            assert isinstance(exc, ImageError), exc
            assert "No space left on device" in str(exc)
        else:
            assert isinstance(exc, KeyboardInterrupt)
        assert snapshot(top) == before, f"after a failure at move {n}"
        assert not (top / "parent" / "lib" / STAGE_NAME).exists()
    # 3 deletes, 1 replaced file (2 moves), the new folder (1), the records (2), the journal
    assert failures == 9


@pytest.mark.parametrize("fault", FAULTS)
def test_failed_commit_into_new_directory_removes_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    def make_root(n: int) -> Path:
        (tmp_path / f"run{n}").mkdir()
        return tmp_path / f"run{n}" / "parent" / "lib"

    failures = 0
    for n, top, before, exc in each_failing_move(monkeypatch, make_root, change, FAULTS[fault]):
        failures += 1
        assert isinstance(exc, ImageError if fault == "disk-full" else KeyboardInterrupt)
        assert before == {}
        assert snapshot(top) == {}, f"after a failure at move {n}"
        assert not (top / "parent").exists()
    assert failures == 4  # a new file, the new folder, the records, the journal


def fail_fsync(fd: int) -> None:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_disk_full_while_writing_the_journal_leaves_image_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "lib"
    populate(root)
    before = snapshot(root)
    monkeypatch.setattr(upip.transaction.os, "fsync", fail_fsync)  # the journal's fsync
    with pytest.raises(OSError, match="No space left on device"):
        change(root)
    assert snapshot(root) == before


def test_disk_full_while_writing_the_journal_is_an_image_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "lib"
    populate(root)
    monkeypatch.setattr(upip.transaction.os, "fsync", fail_fsync)
    with pytest.raises(ImageError, match="No space left on device"):
        change(root)


# -- recovery after a kill -------------------------------------------------------------


def crash_during_commit(root: Path, monkeypatch: pytest.MonkeyPatch, n: int) -> bool:
    """Commit NEW_PUTS but die (no rollback, no __exit__) at the Nth move.

    Returns False when the commit needs fewer than N moves (it then completed).
    """
    tx = Transaction(root).__enter__()
    for path, data in NEW_PUTS.items():
        tx.write(path, data)
    for path in NEW_DELETES:
        tx.delete(path)
    with monkeypatch.context() as m:
        m.setattr(upip.transaction.os, "replace", FailOnCall(n, KeyboardInterrupt()))
        m.setattr(upip.transaction, "_rollback", lambda root, stage: None)
        try:
            tx.commit(NEW)
        except KeyboardInterrupt:
            return True
    return False


def test_next_run_undoes_a_commit_killed_at_any_move(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    crashes = 0
    for n in itertools.count(1):
        root = tmp_path / f"run{n}" / "lib"
        populate(root)
        before = snapshot(root)
        if not crash_during_commit(root, monkeypatch, n):
            break
        crashes += 1
        assert (root / STAGE_NAME / "journal").is_file()
        (root / STAGE_NAME / "pid").write_text(str(dead_pid()))
        reporter = CollectingReporter()
        with Image.locked(root, reporter) as image:  # the next writer
            pass
        assert snapshot(root) == before, f"after a kill at move {n}"
        assert image.records == {r.key: r for r in OLD}
        assert len(reporter.warnings) == 1
        assert "interrupted" in reporter.warnings[0] and str(root) in reporter.warnings[0]
    assert crashes == 9


def test_next_run_removes_new_directory_of_a_killed_commit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(tmp_path)
    root = tmp_path / "build" / "lib"
    assert crash_during_commit(root, monkeypatch, 2)
    assert (root / "a.py").exists()  # the first move happened
    (root / STAGE_NAME / "pid").write_text(str(dead_pid()))
    reporter = CollectingReporter()
    with Image.locked(root, reporter) as image:
        assert image.records == {}
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "build").exists()
    assert len(reporter.warnings) == 1


def test_stage_of_a_finished_commit_is_just_removed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "lib"
    populate(root)
    with monkeypatch.context() as m:  # killed after the commit, before the clean-up
        m.setattr(upip.transaction, "shutil", SimpleNamespace(rmtree=lambda *a, **k: None))
        change(root)
    assert (root / STAGE_NAME / "committed").is_file()
    (root / STAGE_NAME / "pid").write_text(str(dead_pid()))
    reporter = CollectingReporter()
    with Image.locked(root, reporter) as image:
        pass
    assert not (root / STAGE_NAME).exists()
    assert reporter.warnings == []
    assert image.records == {r.key: r for r in NEW}
    assert (root / "a.py").read_bytes() == NEW_PUTS["a.py"]
    assert not (root / "b.py").exists()


def test_stage_killed_before_commit_is_just_removed(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    populate(root)
    before = snapshot(root)
    tx = Transaction(root).__enter__()
    tx.write("a.py", b"half\n")
    (root / STAGE_NAME / "pid").write_text(str(dead_pid()))
    reporter = CollectingReporter()
    with Image.locked(root, reporter) as image:
        assert image.records == {r.key: r for r in OLD}
    assert snapshot(root) == before
    assert reporter.warnings == []


def test_stage_of_a_running_upip_is_left_alone(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    populate(root)
    Transaction(root).__enter__()
    (root / STAGE_NAME / "pid").write_text(str(os.getppid()))  # alive, and not us
    staged = snapshot(root)
    assert Image.open(root).records == {r.key: r for r in OLD}  # a reader: left alone
    held = f"another upip \\(pid {os.getppid()}\\) is changing this image"
    with pytest.raises(ImageError, match=held), Image.locked(root, CollectingReporter(), wait=0.2):
        pass
    assert snapshot(root) == staged


# -- reading an image ----------------------------------------------------------------


def test_open_missing_directory_is_empty_image(tmp_path: Path) -> None:
    image = Image.open(tmp_path / "nothing" / "lib")
    assert image.records == {}
    assert not (tmp_path / "nothing").exists()


def test_open_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "lib").write_text("x")
    with pytest.raises(ImageError, match="exists and is not a directory"):
        Image.open(tmp_path / "lib")


def test_open_damaged_records_names_file_and_line(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    populate(root)
    with (root / RECORDS_NAME).open("a") as f:
        f.write("dist\tbroken\n")
    with pytest.raises(ImageError) as info:
        Image.open(root)
    assert str(root / RECORDS_NAME) in str(info.value)
    assert f"line {len(format_records(OLD).splitlines()) + 1} is damaged" in str(info.value)


def test_intact_checks_presence_and_size(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    populate(root)
    image = Image.open(root)
    assert image.intact("old") and image.intact("keep")
    (root / "pkg" / "old.py").write_bytes(b"old\n")  # same size, other bytes: still intact
    (root / "keep.py").write_bytes(b"kept longer\n")
    assert image.intact("old") and not image.intact("keep")
    (root / "a.py").unlink()
    assert not image.intact("old")


def test_owners_lists_every_dist_owning_a_path(tmp_path: Path) -> None:
    root = tmp_path / "lib"
    shared = {"shared.py": b"same\n"}
    commit(root, {"shared.py": b"same\n", "one.py": b"1\n"}, records=[
        record("Two", "1", shared), record("one", "1", {**shared, "one.py": b"1\n"})])
    owners = Image.open(root).owners()
    assert owners == {"shared.py": ["one", "two"], "one.py": ["one"]}


def test_an_undo_cut_short_and_run_again_loses_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A commit killed at any move, then its undo killed at any of its own
    moves, then the next writer: the image is the old one, every file of it."""
    import upip.transaction

    cases, gone = 0, str(dead_pid())
    for n in range(1, 10):
        for m in itertools.count(1):
            root = tmp_path / f"run{n}-{m}" / "lib"
            populate(root)
            before = snapshot(root)
            assert crash_during_commit(root, monkeypatch, n)
            with monkeypatch.context() as mp:
                mp.setattr(upip.transaction.os, "replace",
                           FailOnCall(m, KeyboardInterrupt()))
                try:
                    upip.transaction._rollback(root, root / STAGE_NAME)
                    cut = False
                except KeyboardInterrupt:
                    cut = True
            if cut:
                (root / STAGE_NAME / "pid").write_text(gone)
                with Image.locked(root, CollectingReporter()):  # the next writer
                    pass
            assert snapshot(root) == before, f"a commit killed at move {n}, its undo at {m}"
            cases += 1
            if not cut:
                break
    assert cases > 20
