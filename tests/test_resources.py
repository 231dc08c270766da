"""Resources end to end: built here, installed (host and device), read on micropython.

The app from the packaging docs reads ``data/page.html`` and the binary
``data/image.png`` with ``pkg_resources`` in three images: (a) as installed
on a filesystem with the data files (and, separately, with R.py removed so
the files are what is read), (b) with only ``R.py`` (data files removed),
(c) compiled to ``.mpy`` (no .py, no data files). The bytes must equal the
originals, checked by sha256 on micropython.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.device import SOURCES, Device
from tests.support.index import Dist
from tests.support.projects import (
    CHECK,
    IMAGE,
    PAGE,
    expected_check_output,
    pyproject_project,
    setup_py_project,
)
from tests.support.server import IndexServer
from upip.authoring import project as project_mod
from upip.authoring import sdist
from upip.mpy import compile_source, mpy_name


def _dist(path: Path) -> Dist:
    with tarfile.open(fileobj=io.BytesIO(path.read_bytes())) as tar:
        top = tar.getnames()[0].split("/")[0]
    name, version = top.rsplit("-", 1)
    return Dist(name.replace("_", "-"), version, path.name, path.read_bytes())


def build_with(builder: str, work: Path) -> Path:
    if builder == "upip sdist":
        return sdist.build(project_mod.load(pyproject_project(work / "proj")), work / "dist").path
    proj = setup_py_project(work / "proj")
    result = subprocess.run([sys.executable, "setup.py", "-q", "sdist"], cwd=proj,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    (archive,) = (proj / "dist").iterdir()
    return archive


@pytest.fixture
def resource_index(request: pytest.FixtureRequest, tmp_path: Path,
                   make_index: Callable[..., IndexServer]) -> IndexServer:
    """An index with the webapp (built by ``request.param``) and micropython-pkg_resources."""
    app = build_with(request.param, tmp_path / "build")
    pkg_resources = sdist.build(project_mod.load(SOURCES), tmp_path / "build" / "pr").path
    return make_index([_dist(app), _dist(pkg_resources)])


def variants(lib: Path, work: Path) -> dict[str, Path]:
    """The installed image in the three shapes of the issue (plus files-only)."""
    out = {}
    for name in ("as installed", "files only", "R.py only", ".mpy"):
        dest = work / name.replace(" ", "-")
        shutil.copytree(lib, dest)
        out[name] = dest
    (out["files only"] / "webapp" / "R.py").unlink()
    for name in ("R.py only", ".mpy"):
        shutil.rmtree(out[name] / "webapp" / "data")
    for py in sorted(out[".mpy"].rglob("*.py")):
        rel = py.relative_to(out[".mpy"]).as_posix()
        (out[".mpy"] / mpy_name(rel)).write_bytes(compile_source(py.read_bytes(), rel))
        py.unlink()
    return out


def check_image(lib: Path, micropython: Callable[..., subprocess.CompletedProcess[str]],
                tmp_path: Path) -> None:
    assert (lib / "webapp" / "R.py").is_file() and (lib / "pkg_resources.py").is_file()
    assert (lib / "webapp" / "data" / "page.html").read_bytes() == PAGE
    assert (lib / "webapp" / "data" / "image.png").read_bytes() == IMAGE
    for name, image in variants(lib, tmp_path / "variants").items():
        result = micropython(CHECK, path=[image])
        assert result.stdout == expected_check_output(), (name, result.stderr)
    assert not list((tmp_path / "variants" / ".mpy").rglob("*.py"))


BUILDERS = ["upip sdist", "setup.py + sdist_upip"]


@pytest.mark.parametrize("resource_index", BUILDERS, indirect=True)
def test_host_install_then_read_resources_on_micropython(
        upip: Callable[..., tuple[int, str, str]], resource_index: IndexServer, tmp_path: Path,
        micropython: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-q", "-p", str(lib), "--index-url", resource_index.json_url,
                        "micropython-webapp")
    assert code == 0, err
    check_image(lib, micropython, tmp_path)


@pytest.mark.parametrize("resource_index", BUILDERS, indirect=True)
def test_device_install_then_read_resources_on_micropython(
        resource_index: IndexServer, tmp_path: Path,
        micropython: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    lib = tmp_path / "lib"
    result = Device("py", SOURCES).upip("install", "-p", str(lib), "-i",
                                        resource_index.json_url, "micropython-webapp")
    assert result.returncode == 0, result.stdout + result.stderr
    check_image(lib, micropython, tmp_path)


def test_missing_resource_error_names_package_and_resource(
        tmp_path: Path, micropython: Callable[..., subprocess.CompletedProcess[str]]) -> None:
    lib = tmp_path / "lib"
    shutil.copy(SOURCES / "pkg_resources.py", lib.mkdir() or lib / "pkg_resources.py")
    (lib / "webapp").mkdir()
    (lib / "webapp" / "__init__.py").write_text("")
    result = micropython("import pkg_resources\n"
                         "pkg_resources.resource_stream('webapp', 'data/none.bin')", path=[lib])
    assert result.returncode == 1
    assert ("OSError: no resource 'data/none.bin' in package 'webapp': not in its R.py, "
            "no file ") in result.stdout + result.stderr


def test_pkg_resources_on_cpython_from_r_py_files_and_modules(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same module is correct on CPython: R.py first, then files, for packages,
    subpackages and modules inside a package."""
    import importlib

    root = tmp_path / "lib"
    shutil.copytree(SOURCES, root, ignore=shutil.ignore_patterns("upip", "pyproject.toml"))
    (root / "capp" / "sub").mkdir(parents=True)
    (root / "capp" / "__init__.py").write_text("")
    (root / "capp" / "mod.py").write_text("")
    (root / "capp" / "sub" / "__init__.py").write_text("")
    (root / "capp" / "sub" / "f.txt").write_bytes(b"file")
    (root / "capp" / "R.py").write_text("R = {'top.txt': b'top', 'sub/r.txt': b'sub'}\n")
    monkeypatch.syspath_prepend(str(root))
    for name in ("pkg_resources", "capp", "capp.R", "capp.sub", "capp.mod"):
        sys.modules.pop(name, None)
    pr = importlib.import_module("pkg_resources")
    try:
        assert pr.__file__ == str(root / "pkg_resources.py")
        assert pr.resource_string("capp", "top.txt") == b"top"
        assert pr.resource_stream("capp.mod", "top.txt").read() == b"top"
        assert pr.resource_string("capp.sub", "r.txt") == b"sub"
        assert pr.resource_stream("capp.sub", "f.txt").read() == b"file"
        with pytest.raises(OSError, match=r"no resource 'x' in package 'capp\.sub'"):
            pr.resource_string("capp.sub", "x")
    finally:
        for name in ("pkg_resources", "capp", "capp.R", "capp.sub", "capp.mod"):
            sys.modules.pop(name, None)
