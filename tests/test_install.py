"""`upip install` end to end: real HTTP on 127.0.0.1, real archives, real image."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Upip, snapshot
from tests.support.builders import upip_sdist
from tests.support.catalog import catalog
from tests.support.index import Dist
from tests.support.server import IndexServer
from upip.shadow import shadowing


@pytest.fixture(params=["json", "simple"])
def index_url(request: pytest.FixtureRequest, index: IndexServer) -> str:
    return index.json_url if request.param == "json" else index.simple_url


def test_installs_with_dependencies_and_runs_on_micropython(
    upip: Upip, index_url: str, tmp_path: Path, micropython: object
) -> None:
    lib = tmp_path / "build" / "lib"
    code, out, err = upip("install", "-p", str(lib), "--index-url", index_url,
                          "micropython-fx-app")
    assert code == 0, err
    assert "micropython-fx-app 1.0" in out and "micropython-fx-base 1.1" in out
    assert (lib / "fxapp" / "__init__.py").is_file()
    assert (lib / "fxapp" / "data" / "banner.txt").read_text() == "hello\n"
    assert (lib / "fxbase.py").read_text().startswith('VERSION = "1.1"')
    assert not (lib / ".upip-tx").exists()
    run = micropython("import fxapp; print(fxapp.run())", [lib])  # type: ignore[operator]
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "app 1.0 on base 1.1: 42"


def test_wheel_preferred_and_standard_sdist_in_src_layout(
    upip: Upip, index_url: str, tmp_path: Path, micropython: object
) -> None:
    lib = tmp_path / "lib"
    code, _out, err = upip("install", "-p", str(lib), "-i", index_url, "fx-std")
    assert code == 0, err
    files = snapshot(lib)
    assert "fxstd/__init__.py" in files and "fxstd/templates/page.html" in files
    assert "fxwheel.py" in files
    assert not any(p.startswith(("tests", "docs", "setup.py", "src", "README")) for p in files)
    assert 'SOURCE = "wheel"' in (lib / "fxwheel.py").read_text()
    assert not any(".dist-info" in p for p in files)
    run = micropython("import fxstd; print(fxstd.hello('mp'))", [lib])  # type: ignore[operator]
    assert run.stdout.strip() == "hi mp!", run.stderr


def test_list_show_uninstall(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app")[0] == 0
    code, out, _ = upip("list", "-p", str(lib), "--json")
    listed = {d["name"]: d for d in json.loads(out)}
    assert listed["micropython-fx-app"]["requested"] is True
    assert listed["micropython-fx-base"]["requested"] is False
    assert listed["micropython-fx-base"]["version"] == "1.1"
    code, out, _ = upip("list", "-p", str(lib), "--format", "requirements")
    assert out.splitlines() == ["micropython-fx-app==1.0", "micropython-fx-base==1.1"]
    code, out, _ = upip("show", "-p", str(lib), "micropython-fx-base", "--files")
    assert "Required-by: micropython-fx-app" in out and "  fxbase.py" in out
    code, out, err = upip("uninstall", "-p", str(lib), "micropython-fx-app")
    assert code == 0, err
    assert "requires micropython-fx-base" not in err
    assert not (lib / "fxapp").exists()
    assert (lib / "fxbase.py").exists()
    code, out, _ = upip("list", "-p", str(lib), "--format", "requirements")
    assert out.splitlines() == ["micropython-fx-base==1.1"]


def test_files_that_hide_a_builtin_module_are_warned_about(
    upip: Upip, make_index: Callable[..., IndexServer], tmp_path: Path, micropython: object
) -> None:
    # as micropython-os and micropython-errno from the old micropython-lib on PyPI
    old = Dist("micropython-fx-oldos", "0.8", "micropython-fx-oldos-0.8.tar.gz",
               upip_sdist("micropython-fx-oldos", "0.8", {
                   "os/__init__.py": "NAME = 'from the image'\n", "errno.py": "EIO = 5\n",
                   "oldos_util.py": "X = 1\n"}))
    server = make_index([*catalog(), old])
    lib = tmp_path / "lib"
    code, _out, err = upip("install", "-p", str(lib), "-i", server.json_url,
                           "micropython-fx-oldos", "micropython-fx-app")
    assert code == 0, err
    assert [line for line in err.splitlines() if "hides" in line] == [
        "warning: micropython-fx-oldos 0.8 installs errno.py, which hides MicroPython's "
        "built-in errno module",
        "warning: micropython-fx-oldos 0.8 installs os/, which hides MicroPython's "
        "built-in os module"]
    # what the warning says, on the real firmware: the image's os is the one imported
    run = micropython("import os; print(getattr(os, 'NAME', 'built-in'))",  # type: ignore[operator]
                      [lib])
    assert run.stdout.strip() == "from the image", run.stderr


@pytest.mark.parametrize(("paths", "found"), [
    (["os/__init__.py", "os/path.py"], [("os/", "os")]),
    (["os/path.py"], []),  # extends os: upip keeps the built-in whole (upip.firmware)
    # micropython-lib's stand-ins import the built-in they extend
    ({"time.py": b"from utime import *\n", "os/__init__.py": b"from uos import *\n",
      "ssl.py": b"import tls\nfrom tls import *\n", "json.py": b"import ujson2\n"},
     [("json.py", "json")]),
    (["time.py", "json.mpy", "random/__init__.mpy"],
     [("json.mpy", "json"), ("random/", "random"), ("time.py", "time")]),
    # not built in, or not extensible (sys, gc: the firmware's own always wins)
    (["logging/__init__.py", "ffilib.py", "sys.py", "gc.py", "os.txt", "pkg/os.py"], []),
])
def test_shadowing_names_top_level_entries(paths: list[str] | dict[str, bytes],
                                           found: list[tuple[str, str]]) -> None:
    assert shadowing(paths) == found
