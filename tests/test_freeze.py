"""``upip romfs``, ``upip size``, ``upip manifest`` and ``upip freeze``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import snapshot
from tests.support.builders import upip_sdist, write
from tests.support.device import SOURCES
from tests.support.projects import CHECK, expected_check_output, pyproject_project
from upip import romfs
from upip.authoring import project, sdist

Upip = Callable[..., tuple[int, str, str]]


@pytest.fixture
def archives(tmp_path: Path) -> list[Path]:
    """The docs' web app (with resources) and micropython-pkg_resources, built here."""
    app = sdist.build(project.load(pyproject_project(tmp_path / "proj")), tmp_path / "dist")
    res = sdist.build(project.load(SOURCES), tmp_path / "dist")
    big = write(tmp_path / "dist" / "big-1.0.tar.gz",
                upip_sdist("big", "1.0", {"big.py": "".join(f"def f{i}(x):\n    return x + {i}\n"
                                                            for i in range(200))}))
    return [app.path, res.path, big]


@pytest.fixture
def lib(upip: Upip, archives: list[Path], tmp_path: Path) -> Path:
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-q", "-p", str(lib), *map(str, archives))
    assert code == 0, err
    return lib


MOUNT = """\
import vfs, sys
vfs.mount(vfs.VfsRom(open({image!r}, 'rb').read()), '/rom')
sys.path.insert(0, '/rom/lib')
import webapp
assert webapp.__file__.startswith('/rom/lib/'), webapp.__file__
"""


@pytest.mark.parametrize("drop", ["nothing", "R.py", "data files"])
def test_romfs_image_imports_and_serves_resources(upip: Upip, lib: Path, tmp_path: Path,
                                                  micropython, drop: str) -> None:
    if drop == "R.py":
        (lib / "webapp" / "R.py").unlink()
    elif drop == "data files":
        for f in (lib / "webapp" / "data").iterdir():
            f.unlink()
    image = tmp_path / "app.romfs"
    code, out, err = upip("romfs", "build", "-p", str(lib), "-o", str(image))
    assert code == 0, err
    assert f"Wrote {image}: {image.stat().st_size} bytes" in out
    paths = {e.path for e in romfs.read(image.read_bytes())}
    assert "lib/webapp/__init__.mpy" in paths and "lib/big.mpy" in paths
    assert not [p for p in paths if p.endswith(".py")]
    # run from a folder where nothing else is importable
    result = micropython(MOUNT.format(image=str(image)) + CHECK, path=[], cwd=tmp_path)
    assert result.stdout == expected_check_output(), result.stdout + result.stderr


def test_romfs_ls_and_no_mpy(upip: Upip, lib: Path, tmp_path: Path) -> None:
    image = tmp_path / "src.romfs"
    assert upip("romfs", "build", "-q", "--no-mpy", "-p", str(lib), "-o", str(image))[0] == 0
    code, out, _ = upip("romfs", "ls", str(image))
    assert code == 0
    lines = out.splitlines()
    assert f"{(lib / 'big.py').stat().st_size:>8}  lib/big.py" in lines
    assert "       0  lib/webapp/" in lines
    assert lines[-1] == f"{image.stat().st_size:>8}  (image, 6 files)"
    code, out, _ = upip("romfs", "ls", "--json", str(image))
    assert {e["path"] for e in json.loads(out)} >= {"lib/big.py", "lib/webapp/R.py"}


def test_romfs_budget_and_bad_input(upip: Upip, lib: Path, tmp_path: Path) -> None:
    image = tmp_path / "app.romfs"
    code, _, err = upip("romfs", "build", "-p", str(lib), "-o", str(image), "--budget", "1K")
    assert code == 1 and err.count("\n") == 1
    assert "over the budget of 1024; largest: big (" in err and "Nothing was written" in err
    assert not image.exists()
    code, _, err = upip("romfs", "build", "-p", str(lib), "-o", str(image), "--mpy", "1.22")
    assert code == 1 and "ROMFS needs MicroPython 1.25 or later" in err
    code, _, err = upip("romfs", "build", "-p", str(lib), "-o", str(image), "--budget", "lots")
    assert code == 2 and "'lots' is not a size" in err
    bad = write(tmp_path / "bad.romfs", b"not a romfs image")
    code, _, err = upip("romfs", "ls", str(bad))
    assert code == 1 and err.startswith("error: ") and err.count("\n") == 1


def test_size_per_package_and_budget(upip: Upip, lib: Path) -> None:
    code, out, err = upip("size", "-p", str(lib), "--json")
    assert code == 0, err
    got = json.loads(out)
    rows = {r["name"]: r for r in got["packages"]}
    assert set(rows) == {"big", "micropython-webapp", "micropython-pkg_resources"}
    assert rows["big"]["source"] == (lib / "big.py").stat().st_size
    assert rows["big"]["mpy"] < rows["big"]["source"]
    assert got["total"]["source"] == sum(r["source"] for r in got["packages"])
    assert got["total"]["romfs"] >= got["total"]["mpy"]
    before = snapshot(lib)
    code, _, err = upip("size", "-p", str(lib), "--budget", "100")
    assert code == 1 and "largest: big (" in err and snapshot(lib) == before
    code, out, _ = upip("size", "-p", str(lib))
    assert code == 0 and "micropython-webapp" in out and "(image)" in out


def run_manifest(text: str, manifest_dir: Path) -> list[tuple[str, ...]]:
    """Execute a manifest.py the way MicroPython's tools do (same functions), recording
    what it asks to freeze as resolved paths."""
    calls: list[tuple[str, ...]] = []

    def resolve(path: str) -> str:
        return str((manifest_dir / path).resolve())

    env = {
        "include": lambda path, **kw: calls.append(("include", path)),
        "package": lambda name, files=None, base_path=".", opt=None: calls.append(
            ("package", name, resolve(base_path))),
        "module": lambda name, base_path=".", opt=None: calls.append(
            ("module", name, resolve(base_path))),
        "freeze": lambda path, script=None, opt=None: calls.append(
            ("freeze", resolve(path), script or "")),
    }
    exec(compile(text, "manifest.py", "exec"), env)
    return calls


def test_manifest_for_sources_and_for_mpy(upip: Upip, lib: Path, tmp_path: Path) -> None:
    out = tmp_path / "build" / "manifest.py"
    out.parent.mkdir()
    code, text, err = upip("manifest", "-p", str(lib), "-o", str(out))
    assert code == 0 and f"Wrote {out}" in text
    assert "webapp/data/image.png, webapp/data/page.html can only be read from R.py" in err
    calls = run_manifest(out.read_text(), out.parent)
    base = str(lib.resolve())
    assert calls == [("module", "big.py", base), ("module", "pkg_resources.py", base),
                     ("package", "webapp", base)]
    assert "# micropython-webapp 1.0" in out.read_text()
    assert upip("compile", "-q", "-p", str(lib))[0] == 0
    code, text, _ = upip("manifest", "-p", str(lib), "-o", "-", "--include", "$(PORT_DIR)/x.py")
    assert run_manifest(text, Path.cwd()) == [
        ("include", "$(PORT_DIR)/x.py"), ("freeze", base, "big.mpy"),
        ("freeze", base, "pkg_resources.mpy"), ("freeze", base, "webapp")]


@pytest.fixture
def port(tmp_path: Path) -> Path:
    """A port folder as in MicroPython's tree, with files in modules/ put there by hand."""
    port = tmp_path / "ports" / "esp8266"
    write(port / "Makefile", b"all:\n")
    write(port / "boards" / "manifest.py", b"freeze('$(PORT_DIR)/modules/_boot.py')\n")
    write(port / "modules" / "_boot.py", b"import gc\n")
    write(port / "modules" / "drivers" / "ssd1306.py", b"# hand-made\n")
    return port


def test_freeze_backs_up_untracked_files_installs_and_writes_a_manifest(
        upip: Upip, port: Path, archives: list[Path]) -> None:
    code, out, err = upip("freeze", "--port-dir", str(port), str(archives[2]))
    assert code == 0, err
    (backup,) = (port / "modules-backup").iterdir()
    assert (backup / "_boot.py").read_bytes() == b"import gc\n"
    assert (backup / "drivers" / "ssd1306.py").read_bytes() == b"# hand-made\n"
    assert f"Backed up 2 files no install put in {port / 'modules'} to {backup}" in out
    assert (port / "modules" / "_boot.py").is_file()  # kept without --clean
    assert (port / "modules" / "big.py").is_file()
    manifest = port / "manifest_upip.py"
    assert f"make FROZEN_MANIFEST={manifest.resolve()}" in out
    calls = run_manifest(manifest.read_text(), port)
    assert calls[0] == ("include", "$(PORT_DIR)/boards/manifest.py")
    assert ("module", "big.py", str((port / "modules").resolve())) in calls


def test_freeze_clean_empties_modules_after_backing_up(upip: Upip, port: Path,
                                                       archives: list[Path]) -> None:
    assert upip("freeze", "-q", "--port-dir", str(port), str(archives[2]))[0] == 0
    code, out, err = upip("freeze", "--clean", "--port-dir", str(port), str(archives[1]))
    assert code == 0, err
    assert "and removed them" in out
    files = sorted(p.relative_to(port / "modules").as_posix()
                   for p in (port / "modules").rglob("*") if p.is_file())
    assert files == [".upip-records", "pkg_resources.py"]
    backups = sorted((port / "modules-backup").iterdir())
    assert len(backups) == 2 and (backups[-1] / "drivers" / "ssd1306.py").is_file()


def test_freeze_bad_port_and_budget_change_nothing(upip: Upip, port: Path,
                                                   archives: list[Path], tmp_path: Path) -> None:
    code, _, err = upip("freeze", "--port-dir", str(tmp_path / "nope"), str(archives[2]))
    assert code == 1 and "no such folder" in err
    not_a_port = tmp_path / "empty"
    not_a_port.mkdir()
    code, _, err = upip("freeze", "--port-dir", str(not_a_port), str(archives[2]))
    assert code == 1 and "is not a MicroPython port folder" in err
    before = snapshot(port)
    code, _, err = upip("freeze", "--clean", "--budget", "1K", "--port-dir", str(port),
                        str(archives[2]))
    assert code == 1 and err.count("\n") == 1, err
    assert "the frozen code (.mpy) needs" in err and "largest: big (" in err
    assert snapshot(port) == before
