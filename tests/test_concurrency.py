"""One writer per image at a time: a second install waits for the first (or
stops naming it), readers never disturb a writer, a stale lock is recovered."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import Upip, run_cli
from tests.support.catalog import upip_dist
from tests.support.server import IndexServer
from upip.image import Image
from upip.image_lock import STAGE_NAME, alive, owner_text


def start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "upip", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})


def wait_for_lock(lib: Path, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not (lib / STAGE_NAME / "pid").exists():
        assert time.monotonic() < deadline, "the first install never took the lock"
        time.sleep(0.01)


def test_two_installs_at_once_keep_both(index: IndexServer, tmp_path: Path) -> None:
    """Was: both exit 0 and one's packages vanish from the records (4 of 20 runs),
    because records were read before the lock was taken."""
    lib = tmp_path / "lib"
    index.fault("/pypi/micropython-fx-app/json", "stall", 1.5, times=1)  # a slow index
    first = start("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app")
    wait_for_lock(lib)
    second = run_cli("install", "-p", str(lib), "-i", index.json_url, "micropython-fxalias")
    _out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert second.returncode == 0, second.stderr
    assert set(Image.open(lib).records) == {"micropython-fx-app", "micropython-fx-base",
                                            "micropython-fxalias"}
    assert not (lib / STAGE_NAME).exists()


def test_a_second_writer_that_cannot_wait_names_the_first(index: IndexServer,
                                                          tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    index.fault("/pypi/micropython-fx-app/json", "stall", 3, times=1)
    first = start("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app")
    wait_for_lock(lib)
    second = run_cli("uninstall", "-p", str(lib), "micropython-fx-app",
                     env={"UPIP_LOCK_WAIT": "0.2"})
    assert second.returncode == 1
    assert second.stderr.strip() == (f"error: {lib}: another upip (pid {first.pid}) is changing "
                                     "this image; try again when it is done")
    first.communicate(timeout=60)
    assert first.returncode == 0


def test_readers_leave_a_writer_alone(index: IndexServer, tmp_path: Path) -> None:
    """Was: a list during an install deleted its stage."""
    lib = tmp_path / "lib"
    assert run_cli("install", "-q", "-p", str(lib), "-i", index.json_url,
                   "micropython-fx-base==1.0").returncode == 0
    index.fault("/pypi/micropython-fx-app/json", "stall", 1.5, times=1)
    first = start("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app")
    wait_for_lock(lib)
    for command in (["list"], ["show", "micropython-fx-base"], ["check"]):
        result = run_cli(*command, "-p", str(lib))
        assert "micropython-fx-base" in result.stdout or command == ["check"], result.stderr
        assert (lib / STAGE_NAME / "pid").exists(), command
    first.communicate(timeout=60)
    assert first.returncode == 0
    assert Image.open(lib).records["micropython-fx-base"].version == "1.1"


def test_a_lock_whose_owner_is_gone_is_recovered(upip: Upip, index: IndexServer,
                                                 tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    (lib / STAGE_NAME).mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    (lib / STAGE_NAME / "pid").write_text(dead)
    code, _, err = upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app")
    assert code == 0, err
    assert not (lib / STAGE_NAME).exists()


def test_an_owner_is_known_by_pid_and_start_time() -> None:
    mine = owner_text()
    assert alive(mine)
    pid, _, start_time = mine.partition(" ")
    if not start_time:
        pytest.skip("no /proc here: the start time cannot be read")
    assert not alive(f"{pid} {int(start_time) + 1}")  # the pid, reused by another process
    assert not alive("")  # a board's lock names no process


def test_recovery_removes_folders_a_committed_uninstall_emptied(
        upip: Upip, make_index, tmp_path: Path) -> None:
    """Was: a kill just after an uninstall's commit left empty package folders."""
    server = make_index([upip_dist("fxpkg", "1.0", {"fxpkg/deep/__init__.py": b"X = 1\n",
                                                    "fxpkg/__init__.py": b""})])
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "-i", server.json_url, "pypi:fxpkg")[0] == 0
    # what the kill left: the committed journal, the files gone, the folders not
    stage = lib / STAGE_NAME
    stage.mkdir()
    (stage / "committed").write_text("del\t1\tfxpkg/deep/__init__.py\ndel\t2\tfxpkg/__init__.py\n"
                                     "put\t0\t.upip-records\n")
    (lib / "fxpkg/deep/__init__.py").unlink()
    (lib / "fxpkg/__init__.py").unlink()
    (lib / ".upip-records").write_text("upip-records\t1\n")
    (stage / "pid").write_text("")
    code, _, err = upip("uninstall", "-p", str(lib), "nothing-here")
    assert code == 1 and "'nothing-here' is not installed" in err
    assert not (lib / "fxpkg").exists() and not stage.exists()


def test_the_owner_line_is_never_seen_half_written(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that finds the lock reads either no owner yet (and waits) or
    the whole line: it is written aside and renamed in, never written in place
    (an empty owner would read as a dead one, and a live lock be recovered)."""
    from upip.image_lock import ImageLock

    written: list[str] = []
    real = Path.write_text

    def write_text(self: Path, data: str, *args: object, **kwargs: object) -> int:
        written.append(self.name)
        return real(self, data, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", write_text)
    lock = ImageLock(tmp_path / "lib", wait=0).acquire()
    try:
        assert written and "pid" not in written
        assert (tmp_path / "lib" / STAGE_NAME / "pid").read_text() == owner_text()
        assert alive((tmp_path / "lib" / STAGE_NAME / "pid").read_text())
    finally:
        lock.release()
