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
    assert ("note: pystone_lowmem: micropython-pystone_lowmem from PyPI https://pypi.org/pypi"
            in result.stderr)
    assert (lib / "pystone_lowmem.py").is_file()


OLD_RELEASES = {  # 2017's micropython-lib on PyPI, pulling in ffi-era os, re-pcre, time...
    "micropython-logging": "import logging; logging.getLogger('x').warning('hi %s', 1)",
    "micropython-base64": "import base64; print(base64.b64encode(b'upip'))",
    "micropython-fnmatch": "import fnmatch; print(fnmatch.fnmatch('a.py', '*.py'))",
    "micropython-glob": "import glob; print(glob.glob('*'))",
    "micropython-timeit": "import timeit",
    "micropython-urllib.parse": "import urllib.parse; print(urllib.parse.quote('a b'))",
}


@pytest.mark.parametrize("name", sorted(OLD_RELEASES))
def test_old_pypi_releases_import_on_todays_firmware(name: str, tmp_path: Path,
                                                     micropython) -> None:
    """The firmware rule: their ffi-era dependencies are skipped (the firmware has os,
    re, time...), so what is left imports on MicroPython 1.29."""
    lib = tmp_path / "lib"
    result = run_cli("install", "-p", str(lib), "--no-mip-index", "--target", "unix-1.29",
                     name, timeout=180)
    assert result.returncode == 0, result.stderr
    run = micropython(OLD_RELEASES[name], [lib], timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_bare_names_from_micropython_lib(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         micropython) -> None:
    """What mip means by a name: micropython-lib's index, every file hash-checked."""
    monkeypatch.delenv("UPIP_MIP_INDEX")
    lib = tmp_path / "lib"
    result = run_cli("install", "-p", str(lib), "requests", "aioble", timeout=180)
    assert result.returncode == 0, result.stderr
    assert "note: requests: requests from the mip index https://micropython.org/pi/v2" in (
        result.stderr)
    run = micropython("import requests; print(requests.get)", [lib], timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_original_upip_installs_an_sdist_built_here(tmp_path: Path, micropython) -> None:
    """The format is the contract: upip 1.2.6 (from PyPI, code untouched, shims for
    uzlib/ussl) installs what ``upip sdist`` builds, dependencies included, and the
    app reads its resources."""
    from tests.support.device import SOURCES
    from tests.support.index import Dist, write_index
    from tests.support.mpy import micropython_command
    from tests.support.oldupip import fetch_old_upip, old_upip_env
    from tests.support.projects import CHECK, expected_check_output, pyproject_project
    from tests.support.server import IndexServer
    from upip.authoring import project, sdist

    code = fetch_old_upip(tmp_path / "upip126")
    assert code, "could not download micropython-upip 1.2.6 from PyPI"
    app = sdist.build(project.load(pyproject_project(tmp_path / "proj")), tmp_path / "dist")
    pkg_res = sdist.build(project.load(SOURCES), tmp_path / "dist")
    dists = [Dist("micropython-webapp", "1.0", app.path.name, app.path.read_bytes()),
             Dist("micropython-pkg_resources", "1.0.0", pkg_res.path.name,
                  pkg_res.path.read_bytes())]
    root = tmp_path / "index"
    root.mkdir()
    server = IndexServer(root)
    write_index(root, dists, "https://pypi.org")
    server.start()
    try:
        lib = tmp_path / "lib"
        import subprocess

        result = subprocess.run(
            [micropython_command() or "micropython", "-m", "upip", "install", "-p", str(lib),
             "micropython-webapp"], capture_output=True, text=True, timeout=120,
            env=old_upip_env(code, tmp_path / "shims", ("127.0.0.1", server.port)))
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Error" not in result.stdout + result.stderr
    assert sorted(p.relative_to(lib).as_posix() for p in lib.rglob("*") if p.is_file()) == [
        "pkg_resources.py", "webapp/R.py", "webapp/__init__.py", "webapp/data/image.png",
        "webapp/data/page.html"]
    run = micropython(CHECK, [lib])
    assert run.stdout == expected_check_output(), run.stderr
