"""The device client recovering from crashes, its own and the host's (a power
cut at every step, a host install killed mid-commit), and a full disk.

Every test runs the client the way a user does, as a ``micropython`` process
against a real HTTP(S) index on 127.0.0.1, then looks at the image directory and
imports what was installed on the same MicroPython. The client is run from its
sources (``py``) and, where the form matters, as the ``.mpy`` image ``upip
bootstrap`` makes (``mpy``). Helpers: tests/support/device_cases.py.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

import upip.transaction as host_transaction
from tests.conftest import Upip, snapshot
from tests.support.catalog import base_module
from tests.support.device import (
    Device,
    error_line,
    fsize_limit,
    lines,
)
from tests.support.device_cases import (
    SHIMS,
    done,
    host_list,
    host_writer,
    install,
    listed,
    populated,
    untouched,
)
from tests.support.server import IndexServer

# -- crash recovery across sides ---------------------------------------------------------


def interrupted_host_install(upip: Upip, monkeypatch: pytest.MonkeyPatch, lib: Path,
                             server: IndexServer, n: int, *specs: str) -> bool:
    """A host install killed at its Nth file move: no rollback, stage left behind.
    Returns False when the install needs fewer moves (it then completed)."""
    real_replace = os.replace
    calls = 0

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        nonlocal calls
        calls += 1
        if calls == n:
            raise KeyboardInterrupt
        real_replace(src, dst)

    with monkeypatch.context() as m:
        m.setattr(os, "replace", replace)  # upip.transaction moves files with os.replace
        m.setattr(host_transaction, "_rollback", lambda root, stage: None)
        m.setattr(host_transaction, "shutil", SimpleNamespace(rmtree=lambda *a, **k: None))
        code, _, err = upip("install", "-p", str(lib), "-i", server.json_url, "--no-cache",
                            *specs)
    assert code in (0, 130), err
    if code == 130:  # as the kill would have left it: the lock's owner gone
        (lib / ".upip-tx" / "pid").write_text(gone_pid())
    return code == 130


def gone_pid() -> str:
    """The id of a process that has ended (a lock it held is stale)."""
    return subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()


def interrupted_images(upip: Upip, monkeypatch: pytest.MonkeyPatch, index: IndexServer,
                       tmp_path: Path) -> Iterator[tuple[int, Path, dict[str, str]]]:
    """(n, lib, snapshot before) for host installs of fx-base 1.0, each then upgraded to
    fx-app (fx-base 1.1 and new fxapp/ folders) and killed at move n, while there are moves."""
    for n in range(1, 20):
        lib = tmp_path / f"run{n}" / "lib"
        assert upip("install", "-p", str(lib), "-i", index.json_url,
                    "micropython-fx-base==1.0")[0] == 0
        before = snapshot(lib)
        if not interrupted_host_install(upip, monkeypatch, lib, index, n, "micropython-fx-app"):
            return
        yield n, lib, before


def test_device_install_undoes_an_interrupted_host_install(
        upip: Upip, device: Device, index: IndexServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    crashes = 0
    for n, lib, before in interrupted_images(upip, monkeypatch, index, tmp_path):
        crashes += 1
        assert (lib / ".upip-tx" / "journal").is_file()
        assert snapshot(lib) != before
        out = done(install(device, lib, index, "micropython-fxalias"))
        assert out[0] == f"warning: undid an install that was interrupted; {lib} is as before"
        assert listed(device, lib) == ["micropython-fx-base 1.0", "micropython-fxalias 0.1"]
        after = snapshot(lib)
        del after["fxalias.py"], after[".upip-records"], before[".upip-records"]
        assert after == before, n
    assert crashes >= 5


def test_device_list_leaves_an_interrupted_host_install_to_the_next_writer(
        upip: Upip, device: Device, index: IndexServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # a reader never touches a stage (was: a device list recovered it, and so
    # removed a live install's stage); the next writer, an uninstall here, does
    for n, lib, before in interrupted_images(upip, monkeypatch, index, tmp_path):
        left = snapshot(lib)
        assert device.upip("list", "-p", str(lib)).returncode == 0, n  # (what the records say)
        assert snapshot(lib) == left, n
        result = device.upip("uninstall", "-p", str(lib), "micropython-nothing")
        assert lines(result) == [
            f"warning: undid an install that was interrupted; {lib} is as before",
            f"error: micropython-nothing is not installed in {lib}"], n
        untouched(lib, before)


def test_a_device_undo_cut_short_and_run_again_loses_nothing(
        upip: Upip, device: Device, index: IndexServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # a host install killed at move n; the device's undo of it (the next
    # writer) cut at each of its own changes in turn; then the next writer,
    # device or host: the image is the old one, every file of it (was: the
    # second undo took the old file the first had put back for the new one,
    # and deleted it)
    cases = 0
    for n, lib, before in interrupted_images(upip, monkeypatch, index, tmp_path):
        if n % 3 != 1:  # (every third: each undo of a later cut is longer, and covers more)
            continue
        for m in itertools.count(1):
            work = lib.parent / f"cut{m}"
            shutil.copytree(lib, work)
            monkeypatch.setenv("POWERCUT", str(m))
            status = device.run(
                f"import powercut\nimport upip\nupip.uninstall('micropython-nothing', "
                f"path={str(work)!r})", path=[SHIMS]).returncode
            if status != -9:  # (the undo ran to its end: "not installed")
                assert status == 1, (n, m)
                break
            if m % 2:
                host_writer(work)
            else:
                result = device.upip("uninstall", "-p", str(work), "micropython-nothing")
                assert error_line(result).endswith(" is not installed in " + str(work))
            assert snapshot(work) == before, f"a host commit killed at move {n}, its undo at {m}"
            cases += 1
    assert cases > 10, cases


def test_device_install_after_an_interrupted_host_install(
        upip: Upip, device: Device, index: IndexServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-base==1.0")[0] == 0
    assert interrupted_host_install(upip, monkeypatch, lib, index, 3, "micropython-fx-app")
    out = done(install(device, lib, index, "micropython-fxalias"))
    assert out[0] == f"warning: undid an install that was interrupted; {lib} is as before"
    assert listed(device, lib) == ["micropython-fx-base 1.0", "micropython-fxalias 0.1"]
    assert (lib / "fxbase.py").read_text() == base_module("1.0")
    assert sorted(snapshot(lib)) == [".upip-records", "fxalias.py", "fxbase.py"]
    assert [n for n, _, _ in host_list(upip, lib)] == ["micropython-fx-base",
                                                       "micropython-fxalias"]


def test_power_cut_at_any_point_of_a_device_install(upip: Upip, device: Device,
                                                    index: IndexServer, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # the device killed (SIGKILL, as a power cut) before each of its changes to
    # the filesystem in turn: the next run, on either side, finds DIR as it was
    # before the install or, once committed, as after it; never in between
    def base(lib: Path) -> dict[str, str]:
        done(install(device, lib, index, "micropython-fx-base==1.0"))
        return snapshot(lib)

    def upgrade(lib: Path, cut: int | None = None) -> int:
        code = (f"import upip\nupip.install('micropython-fx-app', path={str(lib)!r}, "
                f"index={index.json_url!r})")
        if cut is None:
            return device.run(code).returncode
        monkeypatch.setenv("POWERCUT", str(cut))
        return device.run("import powercut\n" + code, path=[SHIMS]).returncode

    before = base(tmp_path / "ref")
    assert upgrade(tmp_path / "ref") == 0
    after = snapshot(tmp_path / "ref")
    outcomes = []
    for n in range(1, 100):
        lib = tmp_path / f"cut{n}"
        assert base(lib) == before
        status = upgrade(lib, n)
        if status == 0:
            break
        assert status == -9, n  # (killed, not an error)
        if n % 2:  # the next writer on the device (an uninstall of nothing), or on the host
            result = device.upip("uninstall", "-p", str(lib), "micropython-nothing")
            assert error_line(result).endswith(" is not installed in " + str(lib)), n
        else:
            host_writer(lib)
        state = snapshot(lib)
        assert state in (before, after), n
        outcomes.append("before" if state == before else "after")
    assert outcomes.count("before") >= 3 and outcomes.count("after") >= 1, outcomes
    assert outcomes == sorted(outcomes, key=["before", "after"].index)  # (one commit point)


def test_host_finishes_a_committed_device_install(upip: Upip, device: Device,
                                                  index: IndexServer, tmp_path: Path) -> None:
    # a device killed after its commit, before the clean-up: the stage only says so
    lib = tmp_path / "lib"
    populated(device, lib, index)
    stage = lib / ".upip-tx"
    stage.mkdir()
    (stage / "committed").write_text("")
    (stage / "pid").write_text("0")
    assert [n for n, _, _ in host_list(upip, lib)] == ["micropython-fx-base",
                                                       "micropython-fxalias"]
    assert stage.exists()  # a reader leaves it alone
    host_writer(lib)
    assert not stage.exists()


# -- disk full -------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [100, 600])  # the archive (384 B) / the records (~870 B)
def test_disk_full_leaves_the_target_unchanged(device: Device, index: IndexServer,
                                               tmp_path: Path, limit: int) -> None:
    lib = tmp_path / "lib"
    before = populated(device, lib, index)
    result = install(device, lib, index, "micropython-fx-app", preexec_fn=fsize_limit(limit))
    assert result.returncode == 1
    error_line(result)
    untouched(lib, before)


def test_disk_full_while_committing_names_the_target(device: Device, index: IndexServer,
                                                     tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    populated(device, lib, index)
    result = install(device, lib, index, "micropython-fx-app", preexec_fn=fsize_limit(600))
    message = error_line(result)
    assert str(lib) in message or "micropython-fx-app" in message
    assert message != "error: 27"


@pytest.mark.parametrize(("name", "error", "said"), [
    # a commit's errors (store, sync) name DIR themselves: said once
    (None, "UpipError('LIB: out of memory while committing')",
     "LIB: out of memory while committing"),
    (None, "OSError(28)", "LIB: no space left on device"),
    ("micropython-fx-app", "UpipError(22)", "micropython-fx-app: the archive is truncated"),
    ("micropython-fx-app", "OSError(110, 'http://x/a.tar.gz')",
     "micropython-fx-app: http://x/a.tar.gz: timed out"),
])
def test_errors_are_worded_once_with_what_they_concern(any_device: Device, name: str | None,
                                                       error: str, said: str) -> None:
    code = ("import upip.throw\nfrom upip import UpipError\nclass O: pass\no = O()\n"
            f"o.name, o.path = {name!r}, 'LIB'\nprint(upip.throw.run(o, {error}))")
    result = any_device.run(code)
    assert lines(result) == [said], result.stderr
