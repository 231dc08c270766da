"""Live PyPI (opt-in: ``pytest -m network``): real packages, run on MicroPython."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli

pytestmark = pytest.mark.network


def test_install_real_packages_from_pypi_and_run_them(tmp_path: Path, micropython) -> None:
    lib = tmp_path / "lib"
    result = run_cli("install", "-p", str(lib), "micropython-pystone_lowmem",
                     "micropython-umqtt.simple", "micropython-umqtt.robust", timeout=180)
    assert result.returncode == 0, result.stderr
    assert "micropython-pystone_lowmem 3.4.2-4" in result.stdout
    # umqtt.robust 1.0 ships umqtt/simple.py as a symlink into the monorepo:
    # skipped with a warning, and the real file from umqtt.simple is kept.
    assert "skipped umqtt/simple.py (symbolic link to ../../umqtt.simple/umqtt/simple.py)" in (
        result.stderr)
    assert (lib / "umqtt" / "simple.py").stat().st_size > 1000
    run = micropython(
        "import pystone_lowmem\n"
        "pystone_lowmem.main(200)\n"
        "from umqtt.robust import MQTTClient\n"
        "c = MQTTClient('upip-test', '127.0.0.1')\n"
        "print('robust', c.DELAY, type(c).__name__)\n", [lib], timeout=120)
    assert run.returncode == 0, run.stderr
    assert "Pystone(1.2) time for 200 passes" in run.stdout
    assert "robust 2 MQTTClient" in run.stdout


def test_name_without_prefix_resolves_on_pypi(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    result = run_cli("install", "-p", str(lib), "pystone_lowmem", timeout=120)
    assert result.returncode == 0, result.stderr
    assert "no project 'pystone_lowmem'; using 'micropython-pystone_lowmem'" in result.stderr
    assert (lib / "pystone_lowmem.py").is_file()
