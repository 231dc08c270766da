"""``upip sdist`` and ``upip bin2res``: archives checked member by member."""

from __future__ import annotations

import ast
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import zlib
from pathlib import Path

import pytest

from tests.support.projects import IMAGE, PAGE, pyproject_project, write
from upip.authoring import project as project_mod
from upip.authoring import sdist
from upip.errors import ProjectError

TOP = "micropython_webapp-1.0"


def read_members(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar  # type: ignore[union-attr]
                if m.isfile()}


def r_dict(text: bytes) -> dict[str, bytes]:
    """The R dict of an R.py, read the way Python would (literal only)."""
    tree = ast.parse(text)
    (assign,) = [n for n in tree.body if isinstance(n, ast.Assign)]
    assert [t.id for t in assign.targets] == ["R"]  # type: ignore[attr-defined]
    value = ast.literal_eval(assign.value)
    assert isinstance(value, dict)
    return value


def inflate_4k(data: bytes) -> bytes:
    """Inflate with a 4 KiB window, fed in small steps as a device does: given
    everything at once, zlib would resolve longer distances from its output."""
    d = zlib.decompressobj(16 + 12)
    out = b"".join(d.decompress(data[i:i + 256]) for i in range(0, len(data), 256))
    out += d.flush()
    assert d.eof
    return out


def test_the_4k_check_rejects_a_32k_window() -> None:
    text = os.urandom(5000)
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + 15)
    wide = comp.compress(text + os.urandom(2000) + text) + comp.flush()
    with pytest.raises(zlib.error):
        inflate_4k(wide)


def test_sdist_writes_an_upip_format_archive(upip, tmp_path: Path) -> None:
    proj = pyproject_project(tmp_path / "proj")
    code, out, err = upip("sdist", str(proj), "-o", str(tmp_path / "dist"))
    assert code == 0, err
    archive = tmp_path / "dist" / f"{TOP}.tar.gz"
    assert f"Built {archive}" in out
    assert "left out (not in a package" in out and "LICENSE, README.md, tests/" in out
    members = read_members(archive)
    assert sorted(members) == [f"{TOP}/{p}" for p in (
        "PKG-INFO", "micropython_webapp.egg-info/PKG-INFO",
        "micropython_webapp.egg-info/requires.txt", "webapp/R.py", "webapp/__init__.py",
        "webapp/data/image.png", "webapp/data/page.html")]
    assert members[f"{TOP}/webapp/data/page.html"] == PAGE
    assert members[f"{TOP}/webapp/data/image.png"] == IMAGE
    assert r_dict(members[f"{TOP}/webapp/R.py"]) == {"data/image.png": IMAGE,
                                                      "data/page.html": PAGE}
    assert members[f"{TOP}/micropython_webapp.egg-info/requires.txt"] == (
        b"micropython-pkg_resources\n")
    info = members[f"{TOP}/PKG-INFO"].decode()
    assert info == members[f"{TOP}/micropython_webapp.egg-info/PKG-INFO"].decode()
    assert info.splitlines() == ["Metadata-Version: 2.1", "Name: micropython-webapp",
                                 "Version: 1.0", "Summary: Serves a page", "License: MIT",
                                 "Requires-Dist: micropython-pkg_resources"]


def test_archive_inflates_with_a_4k_window_and_has_plain_fixed_headers(tmp_path: Path) -> None:
    proj = pyproject_project(tmp_path / "proj")
    built = sdist.build(project_mod.load(proj), tmp_path / "dist")
    data = built.path.read_bytes()
    raw = inflate_4k(data)
    assert len(raw) == built.raw_size
    # the gzip header carries no timestamp and says "maximum compression"
    assert data[:4] == b"\x1f\x8b\x08\x00" and data[4:8] == b"\0\0\0\0"
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        infos = tar.getmembers()
    assert [i.name for i in infos] == sorted(i.name for i in infos)
    for info in infos:
        assert info.isfile() and not info.pax_headers
        assert (info.uid, info.gid, info.uname, info.gname) == (0, 0, "", "")
        assert info.mode == 0o644 and info.mtime == sdist.FIXED_MTIME
    # no ustar field needed a PAX extension record (an old reader would unpack it)
    assert b"PaxHeader" not in raw and b"././@LongLink" not in raw


def test_a_window_larger_than_4k_is_not_used(tmp_path: Path) -> None:
    """Data with repeats 8 KiB apart: a 32 KiB window would find them, 4 KiB must not."""
    blob = os.urandom(6000)
    proj = write(tmp_path / "proj", {
        "pyproject.toml": '[project]\nname = "rep"\nversion = "1"\n',
        "rep/__init__.py": "",
        "rep/a.bin": blob + os.urandom(3000) + blob,
    })
    built = sdist.build(project_mod.load(proj), tmp_path / "dist")
    wide = zlib.compressobj(9, zlib.DEFLATED, 16 + 15)
    assert built.size > len(wide.compress(inflate_4k(built.path.read_bytes())) + wide.flush())
    assert built.size > 2 * 6000 + 3000  # the repeat cost full price


def test_building_twice_gives_the_same_bytes(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    proj = pyproject_project(tmp_path / "proj")
    first = sdist.build(project_mod.load(proj), tmp_path / "one")
    copy = tmp_path / "copy"
    shutil.copytree(proj, copy)
    for path in copy.rglob("*"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
        if path.is_file():
            path.chmod(0o600)
    second = sdist.build(project_mod.load(copy), tmp_path / "two")
    assert first.sha256 == second.sha256 == hashlib.sha256(second.path.read_bytes()).hexdigest()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    third = sdist.build(project_mod.load(proj), tmp_path / "three")
    assert third.sha256 != first.sha256
    with tarfile.open(third.path) as tar:
        assert {m.mtime for m in tar} == {1700000000}
    again = sdist.build(project_mod.load(proj), tmp_path / "four")
    assert again.sha256 == third.sha256


def test_bad_source_date_epoch_is_one_line(upip, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    proj = pyproject_project(tmp_path / "proj")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    code, _, err = upip("sdist", str(proj))
    assert code == 1 and err.count("\n") == 1 and "SOURCE_DATE_EPOCH" in err
    assert not (proj / "dist").exists()


def test_no_resource_files_keeps_only_r_py(upip, tmp_path: Path) -> None:
    proj = pyproject_project(tmp_path / "proj")
    code, _, err = upip("sdist", str(proj), "--no-resource-files", "-q")
    assert code == 0, err
    members = read_members(proj / "dist" / f"{TOP}.tar.gz")
    assert not [m for m in members if "/data/" in m]
    assert r_dict(members[f"{TOP}/webapp/R.py"])["data/image.png"] == IMAGE


def test_keep_resource_files_false_in_pyproject(tmp_path: Path) -> None:
    proj = pyproject_project(tmp_path / "proj",
                             tool="[tool.upip]\nkeep-resource-files = false\n")
    built = sdist.build(project_mod.load(proj), tmp_path / "dist")
    assert "webapp/data/page.html" not in built.files and "webapp/R.py" in built.files


def test_src_layout_namespace_packages_modules_and_config(tmp_path: Path) -> None:
    proj = write(tmp_path / "proj", {
        "pyproject.toml": '[project]\nname = "micropython-umqtt.simple"\nversion = "1.4"\n',
        "src/umqtt/simple.py": "X = 1\n",  # a namespace package, as in micropython-lib
        "src/helper.py": "",
        "src/setup.py": "raise SystemExit('never run')\n",
        "src/test_helper.py": "",
        "src/umqtt/__pycache__/simple.cpython-311.pyc": b"\0",
        "src/umqtt/.hidden": "",
        "examples/demo.py": "",
    })
    project = project_mod.load(proj)
    assert project.source == proj / "src"
    assert (project.packages, project.modules) == (["umqtt"], ["helper"])
    built = sdist.build(project, tmp_path / "dist")
    assert built.path.name == "micropython_umqtt_simple-1.4.tar.gz"
    assert built.files == ["PKG-INFO", "helper.py", "micropython_umqtt_simple.egg-info/PKG-INFO",
                           "micropython_umqtt_simple.egg-info/requires.txt", "umqtt/simple.py"]
    assert built.resources == {}
    assert built.left_out == ["examples/", "src/test_helper.py"]
    (proj / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\n[tool.upip]\nsource-dir = "examples"\n'
        'modules = ["demo"]\npackages = []\n')
    project = project_mod.load(proj)
    assert (project.files, project.packages) == (["demo.py"], [])


def test_exclude_patterns_and_subpackage_resources(tmp_path: Path) -> None:
    proj = write(tmp_path / "proj", {
        "pyproject.toml": '[project]\nname = "app"\nversion = "2"\n'
                          '[tool.upip]\nexclude = ["app/big/*", "*.md"]\n',
        "app/__init__.py": "",
        "app/sub/__init__.py": "",
        "app/sub/table.csv": "a,b\n",
        "app/LICENSE": "no suffix, still a resource\n",
        "app/notes.md": "excluded\n",
        "app/big/blob.bin": b"\0" * 100,
    })
    built = sdist.build(project_mod.load(proj), tmp_path / "dist")
    assert built.resources == {"app": ["LICENSE", "sub/table.csv"]}
    members = read_members(built.path)
    assert r_dict(members["app-2/app/R.py"]) == {"LICENSE": b"no suffix, still a resource\n",
                                                 "sub/table.csv": b"a,b\n"}


def test_dependencies_with_markers_go_to_sections(tmp_path: Path) -> None:
    proj = write(tmp_path / "proj", {
        "pyproject.toml": '[project]\nname = "m"\nversion = "1"\n'
                          'dependencies = ["a>=1", "b; implementation_name == \'micropython\'"]\n',
        "m.py": "",
    })
    members = read_members(sdist.build(project_mod.load(proj), tmp_path / "dist").path)
    assert members["m-1/m.egg-info/requires.txt"] == (
        b'a>=1\n\n[:implementation_name == "micropython"]\nb\n')
    from upip.dists import parse_requires_txt

    assert parse_requires_txt(members["m-1/m.egg-info/requires.txt"].decode())[0] == "a>=1"


def test_a_previous_r_py_is_replaced_and_a_foreign_one_refused(upip, tmp_path: Path) -> None:
    proj = pyproject_project(tmp_path / "proj")
    (proj / "webapp" / "R.py").write_text("# Resource module generated by upip; old\nR = {}\n")
    built = sdist.build(project_mod.load(proj), tmp_path / "dist")
    assert r_dict(read_members(built.path)[f"{TOP}/webapp/R.py"])["data/page.html"] == PAGE
    (proj / "webapp" / "R.py").write_text("R = {'mine': b''}\n")
    code, _, err = upip("sdist", str(proj), "-o", str(tmp_path / "d2"))
    assert code == 1 and err.count("\n") == 1
    assert "webapp/R.py: exists and was not written by upip" in err and "rename it" in err
    assert not (tmp_path / "d2").exists()


@pytest.mark.parametrize(("pyproject", "expected"), [
    (None, "no pyproject.toml here"),
    ("[project\n", "not valid TOML"),
    ('[tool.x]\na = 1\n', "no [project] table"),
    ('[project]\nversion = "1"\n', '[project] has no name; add name = "..."'),
    ('[project]\nname = "a"\n', '[project] has no version; add version = "..."'),
    ('[project]\nname = "a"\ndynamic = ["version"]\n', "dynamic is not supported"),
    ('[project]\nname = "a"\nversion = "one"\n', "is not a PEP 440 version"),
    ('[project]\nname = "a"\nversion = "1"\ndependencies = ["b>>1"]\n', "'b>>1' is not a valid"),
    ('[project]\nname = "a"\nversion = "1"\n[tool.upip]\npackage = ["a"]\n',
     "unknown key 'package'"),
    ('[project]\nname = "a"\nversion = "1"\n[tool.upip]\npackages = ["nope"]\n',
     "no folder"),
    ('[project]\nname = "a"\nversion = "1"\n[tool.upip]\nmodules = ["m"]\npackages = []\n',
     "no file"),
    ('[project]\nname = "a"\nversion = "1"\n[tool.upip]\nsource-dir = "../x"\n',
     "not a folder inside the project"),
])
def test_bad_projects_are_one_line_naming_the_file(upip, tmp_path: Path, pyproject: str | None,
                                                   expected: str) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    if pyproject is not None:
        (proj / "pyproject.toml").write_text(pyproject)
    code, out, err = upip("sdist", str(proj))
    assert code == 1 and out == ""
    assert err.startswith(f"error: {proj}") and err.count("\n") == 1, err
    assert expected in err
    assert not (proj / "dist").exists()


def test_nothing_to_ship_says_how_to_configure(upip, tmp_path: Path) -> None:
    proj = write(tmp_path / "proj", {"pyproject.toml": '[project]\nname = "a"\nversion = "1"\n',
                                     "README.md": ""})
    code, _, err = upip("sdist", str(proj))
    assert code == 1 and "no package or module found" in err and "[tool.upip]" in err


def test_unreadable_file_is_named(upip, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    proj = pyproject_project(tmp_path / "proj")
    secret = proj / "webapp" / "data" / "page.html"
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:  # chmod 0 does not stop root, so fail like EACCES
        if self == secret:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    code, _, err = upip("sdist", str(proj))
    assert code == 1 and err.count("\n") == 1
    assert f"{secret}: cannot read it (Permission denied)" in err and "exclude" in err
    assert not (proj / "dist").exists()


def test_unwritable_output_leaves_no_partial_file(upip, tmp_path: Path) -> None:
    proj = pyproject_project(tmp_path / "proj")
    (tmp_path / "file").write_text("")
    code, _, err = upip("sdist", str(proj), "-o", str(tmp_path / "file" / "dist"))
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1


def test_sdist_json(upip, tmp_path: Path) -> None:
    import json

    proj = pyproject_project(tmp_path / "proj")
    code, out, _ = upip("sdist", str(proj), "--json")
    assert code == 0
    got = json.loads(out)
    assert got["resources"] == {"webapp": ["data/image.png", "data/page.html"]}
    assert got["sha256"] == hashlib.sha256(Path(got["path"]).read_bytes()).hexdigest()


def test_optional_dependencies_warn(upip, tmp_path: Path) -> None:
    proj = write(tmp_path / "proj", {
        "pyproject.toml": '[project]\nname = "a"\nversion = "1"\n'
                          '[project.optional-dependencies]\nx = ["b"]\n',
        "a.py": ""})
    code, _, err = upip("sdist", str(proj))
    assert code == 0 and "optional-dependencies] is not packaged" in err


def test_the_device_pkg_resources_is_packaged_by_upip_sdist(tmp_path: Path) -> None:
    import upip

    device = Path(upip.__file__).parent / "device"
    built = sdist.build(project_mod.load(device), tmp_path)
    assert built.path.name == "micropython_pkg_resources-1.0.0.tar.gz"
    members = read_members(built.path)
    top = "micropython_pkg_resources-1.0.0"
    assert members[f"{top}/pkg_resources.py"] == (device / "pkg_resources.py").read_bytes()
    assert sorted(members) == [f"{top}/PKG-INFO",
                               f"{top}/micropython_pkg_resources.egg-info/PKG-INFO",
                               f"{top}/micropython_pkg_resources.egg-info/requires.txt",
                               f"{top}/pkg_resources.py"]
    assert b'__version__ = "1.0.0"' in members[f"{top}/pkg_resources.py"]


# ---- bin2res ---------------------------------------------------------------------------------


def test_bin2res_prints_a_resource_module_keyed_as_given(upip, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"data/page.html": PAGE, "data/image.png": IMAGE, "LICENSE": "MIT\n"})
    monkeypatch.chdir(tmp_path)
    code, out, err = upip("bin2res", "data/page.html", "./data/image.png", "LICENSE")
    assert code == 0, err
    assert r_dict(out.encode()) == {"data/page.html": PAGE, "data/image.png": IMAGE,
                                    "LICENSE": b"MIT\n"}
    code, out, _ = upip("bin2res", "--strip", "data", "data/page.html", "data/image.png")
    assert r_dict(out.encode()) == {"page.html": PAGE, "image.png": IMAGE}


def test_bin2res_writes_a_file_that_micropython_imports(upip, tmp_path: Path,
                                                        micropython) -> None:
    write(tmp_path, {"a/x.bin": IMAGE})
    out = tmp_path / "pkg" / "R.py"
    out.parent.mkdir()
    code, text, _ = upip("bin2res", str(tmp_path / "a" / "x.bin"), "--strip", str(tmp_path),
                         "-o", str(out))
    assert code == 0 and f"Wrote {out}: 1 resources" in text
    result = micropython("import pkg.R, hashlib, binascii\n"
                         "print(binascii.hexlify(hashlib.sha256(pkg.R.R['a/x.bin']).digest()))",
                         path=[tmp_path])
    assert hashlib.sha256(IMAGE).hexdigest() in result.stdout


@pytest.mark.parametrize(("args", "expected"), [
    (["missing.bin"], "missing.bin: cannot read it (No such file or directory)"),
    (["--strip", "other", "x.bin"], "x.bin: is not under --strip 'other'"),
    (["x.bin", "./x.bin"], "gives the key 'x.bin' twice"),
    (["x.bin", "-o", "nodir/R.py"], "nodir/R.py: cannot write it"),
])
def test_bin2res_bad_input(upip, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           args: list[str], expected: str) -> None:
    write(tmp_path, {"x.bin": b"x"})
    monkeypatch.chdir(tmp_path)
    code, out, err = upip("bin2res", *args)
    assert code == 1 and out == "" and err.count("\n") == 1 and expected in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "x.bin"]


def test_mpy_bin2res_console_script(tmp_path: Path) -> None:
    write(tmp_path, {"x.bin": b"\x00\x01"})
    exe = shutil.which("mpy_bin2res", path=str(Path(sys.executable).parent))
    assert exe, "pip install -e . installs the mpy_bin2res script"
    result = subprocess.run([exe, "x.bin"], capture_output=True, text=True, cwd=tmp_path,
                            timeout=60)
    assert result.returncode == 0 and r_dict(result.stdout.encode()) == {"x.bin": b"\x00\x01"}


def test_project_errors_are_value_errors() -> None:
    with pytest.raises(ValueError, match="no \\[project\\] table"):
        project_mod.parse("", "here")
    assert issubclass(ProjectError, ValueError)
