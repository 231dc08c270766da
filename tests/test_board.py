"""Straight onto a board: `upip install|uninstall|list|show|check -d PORT`, `upip sync`.

The board is the real MicroPython unix port behind a pseudo-terminal
(tests/support/ptyboard.py), reached through mpremote's serial transport as
a USB board is; its image is ``HOME/.micropython/lib`` on this disk, so a
test can look at it, run it, and run the device client on it.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import Upip, snapshot
from tests.support.catalog import upip_dist
from tests.support.device import SOURCES, Device
from tests.support.index import Dist
from tests.support.mpy import run_micropython
from tests.support.ptyboard import SHIMS, PtyBoard
from tests.support.server import IndexServer
from upip.board import Board, BoardError, choose_port
from upip.board.image import stored_blocks
from upip.image import parse_records
from upip.mpy import read_header
from upip.report import CollectingReporter

MakeIndex = Callable[..., IndexServer]


@pytest.fixture
def make_board(tmp_path: Path, micropython: object) -> Iterator[Callable[..., PtyBoard]]:
    boards: list[PtyBoard] = []

    def make(name: str = "board", **kwargs: object) -> PtyBoard:
        board = PtyBoard(tmp_path / name, **kwargs).start()  # type: ignore[arg-type]
        boards.append(board)
        return board

    yield make
    for board in boards:
        board.stop()


@pytest.fixture
def board(make_board: Callable[..., PtyBoard]) -> PtyBoard:
    return make_board()


def consistent(lib: Path) -> dict[str, str]:
    """Assert that the records of ``lib`` match its files exactly (no stage
    left, nothing unrecorded); the records, name -> version."""
    assert not (lib / ".upip-tx").exists()
    records = parse_records((lib / ".upip-records").read_text(), "") if (
        lib / ".upip-records").exists() else {}
    recorded = {f.path: f.sha256 for r in records.values() for f in r.files}
    on_disk = {p: h for p, h in snapshot(lib).items() if h != "dir" and p != ".upip-records"}
    assert on_disk == recorded
    return {r.name: r.version for r in records.values()}


def flash_files(board: PtyBoard) -> dict[str, int]:
    """Path -> size of every file and folder under the board's /flash/lib (a
    littlefs in the board's RAM), as the board itself lists them."""
    code = ("import os\n"
            "def walk(d):\n"
            "    for n, kind, *_ in os.ilistdir(d):\n"
            "        p = d + '/' + n\n"
            "        if kind == 0x4000:\n"
            "            print(p, -1)\n"
            "            walk(p)\n"
            "        else:\n"
            "            print(p, os.stat(p)[6])\n"
            "walk('/flash/lib')\n")
    with Board.connect(board.port) as conn:
        out = conn.run(code)
    return {p: int(n) for p, n in (line.rsplit(" ", 1) for line in out.splitlines())}


def big_dist(name: str, version: str, size: int, seed: int = 1) -> Dist:
    """A package with ``size`` bytes of data in a few files (not .py: no compiling)."""
    rng = random.Random(seed)
    files = {f"{name}/__init__.py": f"VERSION = {version!r}\n"}
    files.update({f"{name}/data{i}.bin": rng.randbytes(size // 4).hex()[: size // 4]
                  for i in range(4)})
    return upip_dist(f"micropython-{name}", version, files)  # type: ignore[arg-type]


# -- install, list, show, uninstall -------------------------------------------------------


def test_install_list_show_uninstall_on_a_board(upip: Upip, board: PtyBoard,
                                                index: IndexServer) -> None:
    code, out, err = upip("install", "-d", board.port, "-i", index.json_url,
                          "micropython-fx-app")
    assert code == 0, err
    assert out == (f"Installed micropython-fx-app 1.0, micropython-fx-base 1.1 into "
                   f"{board.port}:{board.lib}\n")
    assert f"{board.port}:{board.lib}: MicroPython 1.29.0 (unix-1.29 on {board.port})" in err
    # compiled for the board, recorded as the device client records, and it runs there
    assert consistent(board.lib) == {"micropython-fx-app": "1.0", "micropython-fx-base": "1.1"}
    assert sorted(p for p, h in snapshot(board.lib).items() if h != "dir") == [
        ".upip-records", "fxapp/__init__.mpy", "fxapp/data/banner.txt", "fxbase.mpy"]
    run = run_micropython("import fxapp; print(fxapp.run())", path=[board.lib])
    assert run.stdout == "app 1.0 on base 1.1: 42\n", run.stderr
    # two execs in all: the probe, and the files with the commit
    assert len(board.execs()) == 2

    code, out, _ = upip("list", "-d", board.port)
    assert code == 0
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [
        ["micropython-fx-app", "1.0"], ["micropython-fx-base", "1.1"]]
    code, out, _ = upip("show", "-d", board.port, "fx-base", "--files")
    assert code == 0
    assert "Required-by: micropython-fx-app" in out and "  fxbase.mpy" in out
    assert f"Location: {board.port}:{board.lib}" in out

    board.clear_log()
    code, out, err = upip("uninstall", "-d", board.port, "fx-app")
    assert code == 0, err
    assert out == f"Removed micropython-fx-app 1.0 from {board.port}:{board.lib}\n"
    assert consistent(board.lib) == {"micropython-fx-base": "1.1"}
    assert not (board.lib / "fxapp").exists()  # (the folder its files left empty too)
    assert len(board.execs()) == 2
    code, _, err = upip("show", "-d", board.port, "fx-app")
    assert code == 1
    assert err == (f"error: 'fx-app' is not installed in {board.port}:{board.lib}; see "
                   f"`upip list -d {board.port}`\n")


def test_a_no_op_rerun_is_one_exec_and_sends_no_file(upip: Upip, board: PtyBoard,
                                                     index: IndexServer) -> None:
    assert upip("install", "-d", board.port, "-i", index.json_url, "micropython-fx-app")[0] == 0
    before = snapshot(board.lib)
    board.clear_log()
    sent = board.sent
    code, out, err = upip("install", "-d", board.port, "-i", index.json_url,
                          "micropython-fx-app")
    assert code == 0, err
    assert out == "Already installed: micropython-fx-app 1.0, micropython-fx-base 1.1\n"
    assert len(board.execs()) == 1  # the probe: one round trip
    assert board.sent - sent < 8000  # (its code; no file)
    assert snapshot(board.lib) == before


def test_dry_run_and_json(upip: Upip, board: PtyBoard, index: IndexServer) -> None:
    code, out, _ = upip("install", "-d", board.port, "-i", index.json_url, "--dry-run",
                        "micropython-fx-app")
    assert code == 0
    assert out.startswith("Would install micropython-fx-app 1.0, micropython-fx-base 1.1")
    assert not board.lib.exists()
    code, out, _ = upip("install", "-d", board.port, "-i", index.json_url, "--json",
                        "micropython-fx-base==1.0")
    import json

    report = json.loads(out)
    assert report["target"] == f"{board.port}:{board.lib}"
    assert [i["name"] for i in report["installed"]] == ["micropython-fx-base"]


def test_mpy_is_the_boards_version_unless_no_mpy(upip: Upip, make_board: Callable[..., PtyBoard],
                                                 index: IndexServer) -> None:
    board = make_board()
    assert upip("install", "-d", board.port, "-i", index.json_url, "micropython-fx-base")[0] == 0
    said = run_micropython("import sys; print(sys.implementation._mpy)").stdout
    mpy = int(said)
    header = read_header((board.lib / "fxbase.mpy").read_bytes()[:4])
    assert header.version == mpy & 0xFF == 6
    assert not header.native  # (bytecode: loads on any board of that version)
    assert run_micropython("import fxbase; print(fxbase.add(1, 2))",
                           path=[board.lib]).stdout == "3\n"
    # --no-mpy: the sources; --mpy VERSION: what is asked
    other = make_board("other")
    assert upip("install", "-d", other.port, "-i", index.json_url, "--no-mpy",
                "micropython-fx-base")[0] == 0
    assert sorted(snapshot(other.lib)) == [".upip-records", "fxbase.py"]
    third = make_board("third")
    assert upip("install", "-d", third.port, "-i", index.json_url, "--mpy", "1.12",
                "micropython-fx-base")[0] == 0
    assert read_header((third.lib / "fxbase.mpy").read_bytes()[:4]).version == 5


def test_a_dependency_the_boards_firmware_has_is_skipped(upip: Upip, board: PtyBoard,
                                                         make_index: MakeIndex) -> None:
    # fx-uses needs json (the unix port has it built in) and fx-lacks (it has not)
    server = make_index([
        upip_dist("micropython-fx-uses", "1.0", {"fxuses.py": b"import json, fxlacks\n"},
                  requires=("micropython-json", "micropython-fx-lacks")),
        upip_dist("micropython-json", "0.1", {"json.py": b"# ffi-era json\n"}),
        upip_dist("micropython-fx-lacks", "1.0", {"fxlacks.py": b"X = 1\n"}),
    ])
    code, out, err = upip("install", "-d", board.port, "-i", server.json_url,
                          "micropython-fx-uses")
    assert code == 0, err
    assert out.startswith("Installed micropython-fx-lacks 1.0, micropython-fx-uses 1.0 ")
    assert (f"micropython-json 0.1 skipped: the firmware (unix-1.29 on {board.port}) has json"
            in err)
    assert not (board.lib / "json.mpy").exists()
    code, out, _ = upip("check", "-d", board.port, "--no-mip-index")
    assert code == 0, out


# -- the board's filesystem -------------------------------------------------------------


def test_an_install_that_does_not_fit_is_refused_before_any_transfer(
        upip: Upip, make_board: Callable[..., PtyBoard], make_index: MakeIndex) -> None:
    board = make_board(flash_blocks=96)  # a 48 KiB littlefs at /flash
    server = make_index([big_dist("fxbig", "1.0", 80_000), upip_dist(
        "micropython-fx-small", "1.0", {"fxsmall.py": b"X = 1\n"})])
    code, out, err = upip("install", "-d", board.port, "-i", server.json_url,
                          "micropython-fx-small")
    assert code == 0, err  # (the littlefs takes a commit as a folder does)
    board.clear_log()
    code, out, err = upip("install", "-d", board.port, "-i", server.json_url,
                          "micropython-fxbig")
    assert code == 1
    line = err.strip().splitlines()[-1]
    assert line.startswith(f"error: {board.port}: /flash/lib does not fit: the board has ")
    assert "bytes free, and this change needs" in line and "nothing was sent" in line
    assert len(board.execs()) == 1  # the probe only
    code, out, _ = upip("list", "-d", board.port)
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["micropython-fx-small"]


def test_a_filesystem_that_fills_mid_transfer_is_one_line_and_changes_nothing(
        upip: Upip, make_board: Callable[..., PtyBoard], make_index: MakeIndex) -> None:
    # upip counts the blocks of each file before sending (as littlefs stores
    # it) but not littlefs's own metadata: 32 files of 600 bytes in one
    # folder pass that check and fill the flash on the way
    board = make_board(flash_blocks=96)
    files = {f"fxfull/d{i}.bin": bytes([65 + i]) * 600 for i in range(32)}
    files["fxfull/__init__.py"] = b"X = 1\n"
    server = make_index([upip_dist("micropython-fx-small", "1.0", {"fxsmall.py": b"X = 1\n"}),
                         upip_dist("micropython-fxfull", "1.0", files)])
    code, _out, err = upip("install", "-d", board.port, "-i", server.json_url,
                          "micropython-fx-small")
    assert code == 0, err
    before = flash_files(board)
    assert sorted(before) == ["/flash/lib/.upip-records", "/flash/lib/fxsmall.mpy"]
    code, _out, err = upip("install", "-d", board.port, "-i", server.json_url,
                          "micropython-fxfull")
    assert code == 1
    assert err.splitlines()[-1].startswith(f"error: {board.port}: the board's filesystem is "
                                           "full while upip "), err
    assert "Traceback" not in err
    assert flash_files(board) == before
    code, out, err = upip("list", "-d", board.port)
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["micropython-fx-small"], err


def test_the_fit_counts_blocks_as_littlefs_stores_a_file() -> None:
    # block 0 holds 512 bytes; block i after it 512 - 4 * (ctz(i) + 1): its
    # pointers back (littlefs's CTZ skip list)
    assert [stored_blocks(n, 512) for n in (0, 512, 513, 1020, 1021, 2048)] == [1, 1, 2, 2, 3, 5]
    assert stored_blocks(100_000, 512) == 199  # (196 by whole blocks)


def test_read_only_filesystem_is_one_line(upip: Upip, make_board: Callable[..., PtyBoard],
                                          index: IndexServer) -> None:
    board = make_board(flash_blocks=64, read_only=True)
    code, _out, err = upip("install", "-d", board.port, "-i", index.json_url,
                          "micropython-fx-base")
    assert code == 1
    assert err.splitlines()[-1].startswith(f"error: {board.port}: the board's filesystem is "
                                           "read-only while upip ")
    assert "Traceback" not in err


def test_a_board_without_hashlib_is_one_line(upip: Upip, make_board: Callable[..., PtyBoard],
                                             index: IndexServer) -> None:
    board = make_board(hide=("hashlib",))
    code, _, err = upip("install", "-d", board.port, "-i", index.json_url, "micropython-fx-base")
    assert code == 1
    assert err.splitlines()[-1] == (
        f"error: {board.port}: the board's firmware has no hashlib, which upip needs to check "
        "what is on it and what it writes; use a firmware built with hashlib")
    assert not board.lib.exists()


# -- ports ------------------------------------------------------------------------------


def test_no_such_port_and_a_port_that_is_not_a_repl(upip: Upip, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, err = upip("list", "-d", "/dev/ttyNOPE9")
    assert code == 1
    assert err == ("error: /dev/ttyNOPE9: no such serial port; is the board plugged in? "
                   "(-d auto finds the one connected)\n")
    # a terminal nobody answers on
    monkeypatch.setattr("upip.board.connection.CONNECT_TIMEOUT", 0.5)
    master, slave = os.openpty()
    name = os.ttyname(slave)
    try:
        code, out, err = upip("list", "-d", name)
    finally:
        os.close(master)
        os.close(slave)
    assert code == 1
    assert err.startswith(f"error: {name}: no MicroPython REPL answers on this port")
    assert len(err.splitlines()) == 1 and not out


def test_auto_picks_the_one_board() -> None:
    said = CollectingReporter()
    assert choose_port(["/dev/ttyACM0"], said) == "/dev/ttyACM0"
    assert said.notes == ["using the board on /dev/ttyACM0"]  # (it says which)
    with pytest.raises(BoardError, match="no board is connected"):
        choose_port([])
    with pytest.raises(BoardError, match=r"2 boards are connected \(/dev/ttyACM0, "
                                         r"/dev/ttyUSB0\); give one with -d PORT"):
        choose_port(["/dev/ttyACM0", "/dev/ttyUSB0"])


def test_auto_without_a_board_is_one_line(upip: Upip) -> None:
    code, _, err = upip("list", "-d", "auto")
    assert code == 1
    assert err.startswith("error: auto: no board is connected")


def test_a_running_main_py_is_interrupted_without_a_soft_reset(
        upip: Upip, make_board: Callable[..., PtyBoard], index: IndexServer) -> None:
    board = make_board(main_py="import time\nprint('running')\nwhile True:\n    time.sleep(0.01)\n")
    code, _, err = upip("install", "-d", board.port, "-i", index.json_url, "micropython-fx-base")
    assert code == 0, err
    assert -1 not in board.execs()  # no soft reset
    code, _, err = upip("list", "-d", board.port, "--soft-reset")
    assert code == 0, err
    assert board.execs()[-2:] == [-1, board.execs()[-1]]


def test_a_pulled_cable_mid_transfer_is_one_line_and_changes_nothing(
        upip: Upip, board: PtyBoard, make_index: MakeIndex) -> None:
    server = make_index([big_dist("fxbig", "1.0", 100_000)])
    board.pull_cable(after=70_000)  # (in the third exec of files)
    code, _, err = upip("install", "-d", board.port, "-i", server.json_url, "micropython-fxbig")
    assert code == 1
    assert err.splitlines()[-1].startswith(f"error: {board.port}: the board stopped answering "
                                           "while upip wrote to it")
    board.plug_cable()
    assert (board.lib / ".upip-tx").exists()  # (what it had of the run)
    code, _out, err = upip("install", "-d", board.port, "-i", server.json_url,
                          "micropython-fxbig")
    assert code == 0, err
    assert consistent(board.lib) == {"micropython-fxbig": "1.0"}


# -- sync -------------------------------------------------------------------------------


def test_sync_sends_what_changed_and_removes_what_is_gone(upip: Upip, board: PtyBoard,
                                                         index: IndexServer,
                                                         tmp_path: Path) -> None:
    image = tmp_path / "image"
    assert upip("install", "-p", str(image), "-i", index.json_url, "--mpy",
                "micropython-fx-base==1.0", "micropython-fxalias")[0] == 0
    code, out, err = upip("sync", "-p", str(image), "-d", board.port)
    assert code == 0, err
    assert out.splitlines()[0].startswith("Sent 2 file(s) (")
    assert snapshot(board.lib) == snapshot(image)
    # changed (fx-base 1.0 -> 1.1), added (fx-wheel), removed (fxalias)
    assert upip("install", "-p", str(image), "-i", index.json_url, "--mpy",
                "micropython-fx-base==1.1", "fx-wheel")[0] == 0
    assert upip("uninstall", "-p", str(image), "fxalias")[0] == 0
    board.clear_log()
    code, out, err = upip("sync", "-p", str(image), "-d", board.port, "--json")
    assert code == 0, err
    import json

    report = json.loads(out)
    assert report["sent"] == ["fxbase.mpy", "fxwheel.mpy"]
    assert report["deleted"] == ["fxalias.mpy"]
    assert snapshot(board.lib) == snapshot(image)
    assert len(board.execs()) == 2
    # a no-op sync: one exec, nothing sent
    board.clear_log()
    code, out, err = upip("sync", "-p", str(image), "-d", board.port)
    assert code == 0, err
    assert out.startswith("Already in sync:")
    assert len(board.execs()) == 1


def test_sync_refuses_a_file_no_package_owns(upip: Upip, board: PtyBoard, index: IndexServer,
                                             tmp_path: Path) -> None:
    image = tmp_path / "image"
    assert upip("install", "-p", str(image), "-i", index.json_url, "micropython-fx-base")[0] == 0
    board.lib.mkdir(parents=True)
    (board.lib / "fxbase.py").write_text("# mine\n")
    code, _, err = upip("sync", "-p", str(image), "-d", board.port)
    assert code == 1
    assert err == (f"error: {board.port}:{board.lib}/fxbase.py: exists but no installed package "
                   "owns it (put there by hand or another tool?); move it away or pass "
                   "--force\n")
    assert upip("sync", "-p", str(image), "-d", board.port, "--force")[0] == 0
    assert snapshot(board.lib) == snapshot(image)


# -- interrupted: kill -9 of upip, a power cut of the board ------------------------------


def upip_process(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "upip", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_kill_9_of_upip_at_any_point_of_a_transfer(upip: Upip, board: PtyBoard,
                                                   make_index: MakeIndex) -> None:
    # upip killed when 5%...99% of what an upgrade sends has gone: the next run
    # finds the board's old image (or, once committed, the new one), and its
    # records match its files
    server = make_index([big_dist("fxbig", "1.0", 120_000, seed=1),
                         big_dist("fxbig", "2.0", 120_000, seed=2)])
    install = ("install", "-d", board.port, "-i", server.json_url, "--no-cache")
    assert upip(*install, "micropython-fxbig==1.0")[0] == 0
    before = snapshot(board.lib)
    start = board.sent
    assert upip(*install, "micropython-fxbig==2.0")[0] == 0
    after = snapshot(board.lib)
    total = board.sent - start
    assert total > 100_000
    assert upip(*install, "micropython-fxbig==1.0")[0] == 0
    assert snapshot(board.lib) == before
    outcomes = []
    for fraction in (0.02, 0.3, 0.6, 0.9, 0.99, 0.999):
        proc = upip_process(*install, "micropython-fxbig==2.0")
        board.when_sent(board.sent + int(total * fraction) - 1,
                        lambda p=proc: os.kill(p.pid, signal.SIGKILL))  # type: ignore[misc]
        proc.communicate(timeout=60)
        assert proc.returncode == -9 or fraction > 0.99, fraction  # (a run may send less)
        board.when_sent(None)  # (not fired: the run sent less)
        time.sleep(0.1)  # (what the board had of it runs, or waits, as it will)
        code, _, err = upip("list", "-d", board.port)  # a reader: the stage stays
        assert code == 0, err
        code, _out, err = upip(*install, "micropython-fxbig==1.0")  # the next writer
        assert code == 0, err
        state = snapshot(board.lib)
        assert state == before, fraction
        outcomes.append("undone" if "undid" in err else "as before")
        assert consistent(board.lib) == {"micropython-fxbig": "1.0"}
    assert outcomes.count("as before") >= 3, outcomes
    assert after != before


def test_power_cut_of_the_board_at_any_point_of_its_commit(
        upip: Upip, make_board: Callable[..., PtyBoard], index: IndexServer) -> None:
    # the board loses power before each of its changes to its filesystem in
    # turn: after it is back, the next run finds it before or after, never between
    install = ("install", "-i", index.json_url, "--no-cache")
    ref = make_board("ref")
    assert upip(*install, "-d", ref.port, "micropython-fx-base==1.0", "micropython-fxalias")[0] == 0
    before = snapshot(ref.lib)
    assert upip(*install, "-d", ref.port, "micropython-fx-app")[0] == 0
    after = snapshot(ref.lib)
    outcomes = []
    for n in range(1, 40):
        board = make_board(f"cut{n}")
        assert upip(*install, "-d", board.port, "micropython-fx-base==1.0",
                    "micropython-fxalias")[0] == 0
        board.env["POWERCUT"] = str(n)
        board.restart()
        code, _, err = upip(*install, "-d", board.port, "micropython-fx-app")
        if code == 0:
            break
        assert "the board stopped answering" in err, err
        del board.env["POWERCUT"]
        board.restart()
        if n % 2:  # the next run over serial, or on the board itself
            assert upip("list", "-d", board.port)[0] == 0
            assert upip(*install, "-d", board.port, "micropython-fxalias")[0] == 0  # (a no-op)
        else:  # (a writer: readers leave a stage alone)
            result = Device("py", SOURCES).upip("install", "-p", str(board.lib), "-i",
                                                index.json_url, "micropython-fxalias")
            assert result.returncode == 0, result.stderr
        state = {p: h for p, h in snapshot(board.lib).items()}
        assert state in (before, after), n
        consistent(board.lib)
        outcomes.append("before" if state == before else "after")
        board.stop()
    assert outcomes.count("before") >= 3 and outcomes.count("after") >= 1, outcomes
    assert outcomes == sorted(outcomes, key=["before", "after"].index)  # (one commit point)


# -- one image, two writers: over serial and the device client on the board ------------------


def test_the_serial_path_and_the_device_client_share_one_image(
        upip: Upip, board: PtyBoard, index: IndexServer, monkeypatch: pytest.MonkeyPatch) -> None:
    device = Device("py", SOURCES)
    lib = str(board.lib)
    assert upip("install", "-d", board.port, "-i", index.json_url,
                "micropython-fx-base==1.0")[0] == 0
    result = device.upip("install", "-p", lib, "-i", index.json_url, "micropython-fxalias")
    assert result.returncode == 0, result.stderr
    code, out, _ = upip("list", "-d", board.port)
    assert [line.split()[:2] for line in out.splitlines()[1:]] == [
        ["micropython-fx-base", "1.0"], ["micropython-fxalias", "0.1"]]
    # each removes what the other installed
    assert upip("uninstall", "-d", board.port, "fxalias")[0] == 0
    result = device.upip("uninstall", "-p", lib, "micropython-fx-base")
    assert result.returncode == 0, result.stderr + result.stdout
    assert consistent(board.lib) == {}
    # the device client cut short by a power cut mid-commit: the serial run undoes it
    assert upip("install", "-d", board.port, "-i", index.json_url,
                "micropython-fx-base==1.0")[0] == 0
    before = snapshot(board.lib)
    for cut in range(2, 30):
        monkeypatch.setenv("POWERCUT", str(cut))
        script = (f"import powercut, upip\nupip.install('micropython-fxalias', path={lib!r}, "
                  f"index={index.json_url!r})")
        run = device.run(script, path=[SHIMS])
        monkeypatch.delenv("POWERCUT")
        if run.returncode == 0:
            break
        if (board.lib / ".upip-tx" / "journal").exists():
            break
        assert upip("list", "-d", board.port)[0] == 0
    assert (board.lib / ".upip-tx" / "journal").exists()
    code, _, err = upip("install", "-d", board.port, "-i", index.json_url,
                        "micropython-fx-base==1.0")
    assert code == 0, err
    assert "undid an install that was interrupted" in err
    assert snapshot(board.lib) == before


def test_the_device_client_finishes_what_the_serial_path_left(
        upip: Upip, board: PtyBoard, index: IndexServer) -> None:
    # a serial commit cut by a power cut of the board, with its journal written:
    # micropython -m upip on the board undoes it
    assert upip("install", "-d", board.port, "-i", index.json_url,
                "micropython-fx-base==1.0")[0] == 0
    before = snapshot(board.lib)
    for cut in range(3, 12):
        board.env["POWERCUT"] = str(cut)
        board.restart()
        code, _, _ = upip("install", "-d", board.port, "-i", index.json_url,
                          "micropython-fx-app")
        if (board.lib / ".upip-tx" / "journal").exists():
            break
        assert code == 1
    assert (board.lib / ".upip-tx" / "journal").exists()
    result = Device("py", SOURCES).upip("install", "-p", str(board.lib), "-i", index.json_url,
                                        "micropython-fx-base==1.0")  # (a writer, a no-op)
    assert result.returncode == 0, result.stderr
    assert "undid an install that was interrupted" in result.stdout + result.stderr
    assert snapshot(board.lib) == before
    digest = hashlib.sha256((board.lib / ".upip-records").read_bytes()).hexdigest()
    assert digest == before[".upip-records"]


# -- reproducible images on a board ------------------------------------------------------


def test_a_lock_installs_onto_a_board_exactly(upip: Upip, board: PtyBoard, index: IndexServer,
                                              tmp_path: Path) -> None:
    """install -d --lock: what the lock says, every hash checked; a lock whose
    hash the index's file no longer has is refused with the board untouched."""
    lock = tmp_path / "pylock.toml"
    assert upip("lock", "-o", str(lock), "-i", index.json_url, "--no-mip-index",
                "micropython-fx-base==1.0")[0] == 0
    code, out, err = upip("install", "-d", board.port, "--lock", str(lock))
    assert code == 0, err
    assert out == f"Installed micropython-fx-base 1.0 into {board.port}:{board.lib}\n"
    assert consistent(board.lib) == {"micropython-fx-base": "1.0"}
    # the lock was made for sources (no --mpy): that is what lands, not the board's .mpy
    assert (board.lib / "fxbase.py").is_file()

    tampered = tmp_path / "tampered.toml"
    text = lock.read_text()
    sha = text.split('sha256 = "', 1)[1][:64]
    tampered.write_text(text.replace(sha, "0" * 64))
    assert upip("uninstall", "-d", board.port, "fx-base")[0] == 0
    before = snapshot(board.lib)
    code, _, err = upip("install", "-d", board.port, "--no-cache", "--lock", str(tampered))
    assert code == 1
    assert err.startswith("error: sha256 of micropython-fx-base-1.0.tar.gz is "), err
    assert len(err.splitlines()) == 1
    assert snapshot(board.lib) == before


def test_outdated_reads_a_boards_records(upip: Upip, board: PtyBoard,
                                         index: IndexServer) -> None:
    assert upip("install", "-d", board.port, "-i", index.json_url,
                "micropython-fx-base<1.1")[0] == 0
    board.clear_log()
    code, out, err = upip("outdated", "-d", board.port, "-i", index.json_url,
                          "--no-mip-index", "--json")
    assert code == 0, err
    assert [(r["name"], r["installed"], r["latest"], r["wanted"]) for r in json.loads(out)] == [
        ("micropython-fx-base", "1.0", "2.0", "1.0")]
    assert len(board.execs()) == 1  # a reader: the records, in one exec
