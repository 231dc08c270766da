"""What the device client's tests share (test_device_install, _network,
_recovery, _shared): running an install as a user types it, checking its output,
and the image before and after; the host's side of a shared image."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import upip.image as host_image
from tests.conftest import Upip, snapshot
from tests.support.device import Device, lines
from tests.support.server import IndexServer

MakeIndex = Callable[..., IndexServer]

SHIMS = Path(__file__).parent / "mpshims"  # MicroPython modules a test runs first


def install(dev: Device, lib: Path, index: IndexServer, *args: str,
            **kwargs: object) -> subprocess.CompletedProcess[str]:
    return dev.upip("install", "-p", str(lib), "-i", index.json_url, "--no-mip-index", *args,
                    **kwargs)  # type: ignore[arg-type]


def done(result: subprocess.CompletedProcess[str]) -> list[str]:
    """Assert a successful run; return its lines (\"Installing NAME VERSION\" without the
    \" from SOURCE\" every such line ends with: test_device_sources.py looks at those)."""
    out = lines(result)
    assert result.returncode == 0, out
    assert out[-1] == "Done", out
    assert not any(line.startswith("error") for line in out), out
    return [line.split(" from ")[0] if line.startswith("Installing ") else line for line in out]


def listed(dev: Device, lib: Path) -> list[str]:
    result = dev.upip("list", "-p", str(lib))
    assert result.returncode == 0, lines(result)
    return lines(result)


def untouched(lib: Path, before: dict[str, str]) -> None:
    assert snapshot(lib) == before
    assert not (lib / ".upip-tx").exists()


def populated(dev: Device, lib: Path, index: IndexServer) -> dict[str, str]:
    """Install fx-base 1.1 and fxalias into lib; return its snapshot."""
    done(install(dev, lib, index, "micropython-fx-base==1.1", "micropython-fxalias"))
    before = snapshot(lib)
    assert {"fxbase.py", "fxalias.py", ".upip-records"} <= set(before)
    return before


def host_writer(lib: Path) -> None:
    """What the next host writer (install, uninstall...) does first: take the
    image's lock, finishing or undoing a transaction left behind."""
    with host_image.Image.locked(lib):
        pass


def host_list(upip: Upip, lib: Path) -> list[tuple[str, str, bool]]:
    code, out, err = upip("list", "-p", str(lib), "--json")
    assert code == 0, err
    return [(d["name"], d["version"], d["requested"]) for d in json.loads(out)]


