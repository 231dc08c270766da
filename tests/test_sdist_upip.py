"""``sdist_upip``: the setup.py hook, run the way the docs say (``python setup.py sdist``)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.projects import IMAGE, PAGE, setup_py_project, write
from tests.test_build import inflate_4k, r_dict, read_members

TOP = "micropython_webapp-1.0"


def setup_py(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "setup.py", *args], cwd=project, capture_output=True,
                          text=True, timeout=120)


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


def test_setup_py_sdist_writes_the_upip_format(tmp_path: Path) -> None:
    proj = setup_py_project(tmp_path / "proj")
    result = setup_py(proj, "sdist")
    assert result.returncode == 0, result.stderr
    # only the upip archive in dist/: no NAME.orig, no second format
    assert sorted(p.name for p in (proj / "dist").iterdir()) == [f"{TOP}.tar.gz"]
    archive = proj / "dist" / f"{TOP}.tar.gz"
    members = read_members(archive)
    assert sorted(members) == [f"{TOP}/{p}" for p in (
        "PKG-INFO", "micropython_webapp.egg-info/PKG-INFO",
        "micropython_webapp.egg-info/requires.txt", "webapp/R.py", "webapp/__init__.py",
        "webapp/data/image.png", "webapp/data/page.html")]
    assert r_dict(members[f"{TOP}/webapp/R.py"]) == {"data/image.png": IMAGE,
                                                      "data/page.html": PAGE}
    assert members[f"{TOP}/micropython_webapp.egg-info/requires.txt"].strip() == (
        b"micropython-pkg_resources")
    info = members[f"{TOP}/PKG-INFO"].decode()
    assert "Name: micropython-webapp" in info and "Version: 1.0" in info
    assert "License-File" not in info  # not shipped, so not claimed
    inflate_4k(archive.read_bytes())
    # the R.py was written into the tree, as the old hook did
    assert r_dict((proj / "webapp" / "R.py").read_bytes())["data/page.html"] == PAGE
    assert "not a resource (outside any package), left out: README.md" in result.stdout


def test_setup_py_sdist_is_reproducible(tmp_path: Path) -> None:
    one = setup_py_project(tmp_path / "one")
    two = setup_py_project(tmp_path / "two")
    for proj in (one, two):
        assert setup_py(proj, "sdist").returncode == 0
    digests = {hashlib.sha256((p / "dist" / f"{TOP}.tar.gz").read_bytes()).hexdigest()
               for p in (one, two)}
    assert len(digests) == 1
    assert setup_py(one, "sdist").returncode == 0  # again, with R.py already there
    assert hashlib.sha256((one / "dist" / f"{TOP}.tar.gz").read_bytes()).hexdigest() in digests


def test_manifest_only_writes_r_py_and_no_archive(tmp_path: Path) -> None:
    proj = setup_py_project(tmp_path / "proj")
    result = setup_py(proj, "sdist", "--manifest-only")
    assert result.returncode == 0, result.stderr
    assert r_dict((proj / "webapp" / "R.py").read_bytes())["data/image.png"] == IMAGE
    assert "would include: webapp/R.py" in result.stdout
    assert not (proj / "dist").exists()


def test_no_resource_files_option(tmp_path: Path) -> None:
    proj = setup_py_project(tmp_path / "proj")
    assert setup_py(proj, "sdist", "--no-resource-files").returncode == 0
    members = read_members(proj / "dist" / f"{TOP}.tar.gz")
    assert f"{TOP}/webapp/R.py" in members and not [m for m in members if "/data/" in m]


def test_src_layout_files_move_to_the_top(tmp_path: Path) -> None:
    proj = write(tmp_path / "proj", {
        "setup.py": "import sdist_upip\nfrom setuptools import setup\n"
                    "setup(name='srcpkg', version='2', packages=['srcpkg'], "
                    "package_dir={'': 'src'}, package_data={'srcpkg': ['*.txt']}, "
                    "cmdclass={'sdist': sdist_upip.sdist})\n",
        "src/srcpkg/__init__.py": "",
        "src/srcpkg/hello.txt": "hello\n",
    })
    result = setup_py(proj, "sdist")
    assert result.returncode == 0, result.stderr
    members = read_members(proj / "dist" / "srcpkg-2.tar.gz")
    assert sorted(members) == ["srcpkg-2/PKG-INFO", "srcpkg-2/srcpkg.egg-info/PKG-INFO",
                               "srcpkg-2/srcpkg.egg-info/requires.txt", "srcpkg-2/srcpkg/R.py",
                               "srcpkg-2/srcpkg/__init__.py", "srcpkg-2/srcpkg/hello.txt"]


def test_a_data_file_missing_from_manifest_in_is_an_error(tmp_path: Path) -> None:
    proj = setup_py_project(tmp_path / "proj", manifest="include webapp/data/page.html\n")
    result = setup_py(proj, "sdist")
    assert result.returncode != 0
    (line,) = error_lines(result)
    assert "webapp/data/image.png: is a data file of a package but not in the sdist" in line
    assert "recursive-include webapp/data *" in line and "MANIFEST.in" in line
    assert not (proj / "dist").exists() and not (proj / "webapp" / "R.py").exists()


def test_a_resource_outside_any_package_is_an_error(tmp_path: Path) -> None:
    proj = setup_py_project(tmp_path / "proj", manifest="recursive-include webapp/data *\n"
                                                        "include assets/logo.svg\n")
    write(proj, {"assets/logo.svg": "<svg/>"})
    result = setup_py(proj, "sdist")
    assert result.returncode != 0
    (line,) = error_lines(result)
    assert "assets/logo.svg: is not inside any package" in line
    assert not (proj / "dist").exists()


def test_a_foreign_r_py_is_not_overwritten(tmp_path: Path) -> None:
    proj = setup_py_project(tmp_path / "proj")
    (proj / "webapp" / "R.py").write_text("R = {'hand': b'made'}\n")
    result = setup_py(proj, "sdist")
    assert result.returncode != 0
    (line,) = error_lines(result)
    assert "R.py: exists and was not written by upip" in line
    assert (proj / "webapp" / "R.py").read_text() == "R = {'hand': b'made'}\n"


@pytest.mark.parametrize("formats", ["zip", "gztar,zip"])
def test_other_formats_are_refused(tmp_path: Path, formats: str) -> None:
    proj = setup_py_project(tmp_path / "proj")
    result = setup_py(proj, "sdist", f"--formats={formats}")
    assert result.returncode != 0
    assert any("writes .tar.gz archives only" in line for line in error_lines(result))


def test_setup_without_a_version_is_an_error(tmp_path: Path) -> None:
    proj = write(tmp_path / "proj", {
        "setup.py": "import sdist_upip\nfrom setuptools import setup\n"
                    "setup(name='nover', packages=['nover'], "
                    "cmdclass={'sdist': sdist_upip.sdist})\n",
        "nover/__init__.py": "",
    })
    result = setup_py(proj, "sdist")
    assert result.returncode != 0
    (line,) = error_lines(result)
    assert "setup.py: setup() has no version; pass version=..." in line
    assert not (proj / "dist").exists()
