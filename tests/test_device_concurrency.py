"""One writer per image, device and host alike: the device client's lock names
its owner as the host's does ("PID START"), a second writer (device or host)
waits for it or stops naming it, readers (host and device list) leave a
running install alone, and a lock whose owner is gone is recovered. Also: a
Ctrl-C and a full disk at the start end in one line, with no stage left."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli, snapshot
from tests.support.device import Device, error_line, fsize_limit, lines
from tests.support.mpy import micropython_command
from tests.support.server import IndexServer
from upip.image import Image
from upip.image_lock import STAGE_NAME, alive

JSON = "/pypi/micropython-fx-app/json"


def start_device(dev: Device, lib: Path, index: IndexServer, *specs: str,
                 env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    command = micropython_command()
    assert command
    return subprocess.Popen([command, "-m", "upip", "install", "-p", str(lib), "-i",
                             index.json_url, "--no-mip-index", *specs],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**dev.env(), **(env or {})})


def start_host(lib: Path, index: IndexServer, *specs: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "upip", "install", "-p", str(lib), "-i",
                             index.json_url, *specs], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def wait_for_lock(lib: Path, timeout: float = 10) -> str:
    """The owner line of the lock, once a writer has taken it."""
    deadline = time.monotonic() + timeout
    while not (lib / STAGE_NAME / "pid").exists():
        assert time.monotonic() < deadline, "the first install never took the lock"
        time.sleep(0.01)
    return (lib / STAGE_NAME / "pid").read_text()


def finished(proc: subprocess.Popen[str]) -> list[str]:
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    return out.splitlines()


def records(lib: Path) -> set[str]:
    return set(Image.open(lib).records)


@pytest.fixture
def lib(device: Device, index: IndexServer, tmp_path: Path) -> Path:
    lib = tmp_path / "lib"
    result = device.upip("install", "-p", str(lib), "-i", index.json_url, "--no-mip-index",
                         "micropython-fx-base==1.0")
    assert result.returncode == 0, lines(result)
    return lib


def test_readers_leave_a_device_install_alone(device: Device, index: IndexServer,
                                              lib: Path) -> None:
    """Was: a host or device list during a device install deleted its stage, and the
    install ended in "error 2 (errno)"."""
    index.fault(JSON, "stall", 1.5, times=1)
    first = start_device(device, lib, index, "micropython-fx-app")
    owner = wait_for_lock(lib)
    assert owner.split()[0] == str(first.pid)  # as the host writes it: PID START
    assert alive(owner)
    host = run_cli("list", "-p", str(lib))
    assert host.returncode == 0 and "micropython-fx-base" in host.stdout, host.stderr
    mine = device.upip("list", "-p", str(lib))
    assert lines(mine) == ["micropython-fx-base 1.0"]
    assert (lib / STAGE_NAME / "pid").read_text() == owner  # untouched
    finished(first)
    assert records(lib) == {"micropython-fx-app", "micropython-fx-base"}
    assert not (lib / STAGE_NAME).exists()


def test_two_device_installs_keep_both(device: Device, index: IndexServer, lib: Path) -> None:
    """Was: "Done" with the packages missing (4 of 20), or one installed earlier
    dropped from the records."""
    index.fault(JSON, "stall", 1.5, times=1)
    first = start_device(device, lib, index, "micropython-fx-app")
    wait_for_lock(lib)
    second = device.upip("install", "-p", str(lib), "-i", index.json_url, "--no-mip-index",
                         "micropython-fxalias")
    assert second.returncode == 0, lines(second)
    finished(first)
    assert records(lib) == {"micropython-fx-app", "micropython-fx-base", "micropython-fxalias"}
    assert not (lib / STAGE_NAME).exists()


def test_two_device_installs_into_a_new_folder(device: Device, index: IndexServer,
                                               tmp_path: Path) -> None:
    """Was (with the lock): "error 17 (errno)" when both made DIR at once."""
    for n in range(5):
        lib = tmp_path / f"new{n}" / "lib"
        runs = [start_device(device, lib, index, spec)
                for spec in ("micropython-fx-app", "micropython-fxalias")]
        for run in runs:
            finished(run)
        assert records(lib) == {"micropython-fx-app", "micropython-fx-base",
                                "micropython-fxalias"}, n


def test_a_device_install_that_cannot_wait_names_the_other(device: Device, index: IndexServer,
                                                          lib: Path) -> None:
    index.fault(JSON, "stall", 2, times=1)
    first = start_device(device, lib, index, "micropython-fx-app")
    wait_for_lock(lib)
    before = {k: v for k, v in snapshot(lib).items() if not k.startswith(STAGE_NAME)}
    env = {**device.env(), "UPIP_LOCK_WAIT": "0.2"}
    command = micropython_command()
    assert command
    second = subprocess.run([command, "-m", "upip", "uninstall", "-p", str(lib),
                             "micropython-fx-base"], capture_output=True, text=True, env=env)
    assert second.returncode == 1
    assert error_line(second) == (f"error: {lib}: another upip (pid {first.pid}) is changing "
                                  "this image; try again when it is done")
    assert {k: v for k, v in snapshot(lib).items() if not k.startswith(STAGE_NAME)} == before
    finished(first)
    assert records(lib) == {"micropython-fx-app", "micropython-fx-base"}


@pytest.mark.parametrize("first_side", ["device", "host"])
def test_host_and_device_installs_into_one_image(device: Device, index: IndexServer,
                                                 lib: Path, first_side: str) -> None:
    index.fault(JSON, "stall", 1.5, times=1)
    if first_side == "device":
        first = start_device(device, lib, index, "micropython-fx-app")
        wait_for_lock(lib)
        second = run_cli("install", "-p", str(lib), "-i", index.json_url, "micropython-fxalias")
        assert second.returncode == 0, second.stderr
    else:
        first = start_host(lib, index, "micropython-fx-app")
        wait_for_lock(lib)
        result = device.upip("install", "-p", str(lib), "-i", index.json_url,
                             "--no-mip-index", "micropython-fxalias")
        assert result.returncode == 0, lines(result)
    finished(first)
    assert records(lib) == {"micropython-fx-app", "micropython-fx-base", "micropython-fxalias"}
    assert not (lib / STAGE_NAME).exists()


def test_a_device_lock_whose_owner_is_gone_is_recovered(device: Device, index: IndexServer,
                                                        lib: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    (lib / STAGE_NAME).mkdir()
    (lib / STAGE_NAME / "pid").write_text(f"{dead} 12345")
    (lib / STAGE_NAME / "n0").write_text("left by a run that was killed")
    result = device.upip("install", "-p", str(lib), "-i", index.json_url, "--no-mip-index",
                         "micropython-fxalias")
    assert result.returncode == 0, lines(result)
    assert records(lib) == {"micropython-fx-base", "micropython-fxalias"}
    assert not (lib / STAGE_NAME).exists()


def test_a_reused_pid_is_not_the_owner(device: Device, index: IndexServer, lib: Path) -> None:
    """A lock naming a live process with another start time is stale (the pid was
    reused): the device compares /proc's start time, as the host does."""
    (lib / STAGE_NAME).mkdir()
    (lib / STAGE_NAME / "pid").write_text(f"{os.getpid()} 1")
    result = device.upip("install", "-p", str(lib), "-i", index.json_url, "--no-mip-index",
                         "micropython-fxalias")
    assert result.returncode == 0, lines(result)
    assert not (lib / STAGE_NAME).exists()


def test_ctrl_c_is_one_line_and_leaves_the_image(device: Device, index: IndexServer,
                                                 lib: Path) -> None:
    """Was: a KeyboardInterrupt traceback."""
    before = snapshot(lib)
    index.fault(JSON, "stall", 5, times=1)
    first = start_device(device, lib, index, "micropython-fx-app")
    wait_for_lock(lib)
    time.sleep(0.2)
    first.send_signal(signal.SIGINT)
    out, _ = first.communicate(timeout=30)
    assert first.returncode == 130, out
    assert out.splitlines() == ["error: interrupted; the image was left as it was"]
    assert snapshot(lib) == before


def test_a_full_disk_at_the_start_leaves_no_stage(device: Device, index: IndexServer,
                                                  tmp_path: Path) -> None:
    """Was: "error: 28", and the stage left behind."""
    lib = tmp_path / "lib"
    result = device.upip("install", "-p", str(lib), "-i", index.json_url, "--no-mip-index",
                         "micropython-fxalias", preexec_fn=fsize_limit(4))
    assert error_line(result) == f"error: {lib}: cannot prepare it: file too large (disk full?)"
    assert not lib.exists()
