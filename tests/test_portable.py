"""What cannot run on MicroPython stays out of the image: dependencies whose
code mpy-cross rejects, projects with only CPython builds, and files a board
would run by itself at start."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import Upip
from tests.support.builders import standard_sdist, wheel, wheel_filename
from tests.support.catalog import upip_dist
from tests.support.index import Dist
from tests.support.mpy import run_micropython
from tests.support.server import IndexServer
from upip.image import Image

# CPython-only syntax that MicroPython's compiler refuses
CPYTHON_ONLY = b"def render(x):\n    match x:\n        case 1:\n            return 'one'\n"


def dists() -> list[Dist]:
    """Shaped like aiomqttc: a MicroPython client that pulls in a CPython library."""
    return [
        upip_dist("fxmqttc", "1.0", {"fxmqttc/__init__.py": b"try:\n    import fxrich\n"
                                 b"except ImportError:\n    fxrich = None\nOK = 1\n",
                                 "main.py": b"import fxmqttc\nfxmqttc.run_forever()\n",
                                 "usetup.py": b"print('setup')\n"},
              requires=("fxrich",)),
        upip_dist("fxrich", "13.0", {"fxrich/__init__.py": b"from .console import render\n",
                                 "fxrich/console.py": CPYTHON_ONLY,
                                 "fxrich/style.py": b"X = 1\n"}, requires=("fxpygments",)),
        upip_dist("fxpygments", "2.0", {"fxpygments.py": b"Y = 2\n"}),
        upip_dist("fxpre", "1.0a1", {"fxpre.py": b"PRE = True\n"}),
        upip_dist("fxpreuser", "1.0", {"fxpreuser.py": b"import fxpre\n"}, requires=("fxpre",)),
        Dist("fxnative", "1.0", wheel_filename("fxnative", "1.0", "cp311-cp311-linux_x86_64"),
             wheel("fxnative", "1.0", {"fxnative.py": b"Z = 3\n"})),
        upip_dist("fxusesnative", "1.0", {"fxusesnative.py": b"import fxnative\n"},
              requires=("fxnative",)),
        Dist("fxcext", "1.0", "fxcext-1.0.tar.gz", standard_sdist(
            "fxcext", "1.0", {"fxcext.c": b"/* the whole library */\n"})),
        upip_dist("fxusescext", "1.0", {"fxusescext.py": b"import fxcext\n"},
              requires=("fxcext",)),
    ]


def test_a_dependency_that_does_not_compile_is_left_out(
        upip: Upip, make_index: Callable[..., IndexServer], tmp_path: Path) -> None:
    server = make_index(dists())
    lib = tmp_path / "lib"
    code, _out, err = upip("install", "-p", str(lib), "-i", server.json_url, "pypi:fxmqttc")
    assert code == 0, err
    assert set(Image.open(lib).records) == {"fxmqttc"}
    assert ("warning: fxrich 13.0 left out: MicroPython's compiler rejects fxrich/console.py: "
            "SyntaxError: invalid syntax (line 2), so it cannot run on MicroPython (needed by "
            "fxmqttc 1.0 <- requested)") in err
    assert "note: fxpygments 2.0 skipped: only fxrich, which was left out, needs it" in err
    # main.py and usetup.py would run at the board's start, or are nobody's module
    assert sorted(p.name for p in lib.iterdir() if not p.name.startswith(".")) == ["fxmqttc"]
    assert ("note: fxmqttc 1.0: left out main.py, usetup.py, which a board would run by itself "
            "at start (--boot-files installs it)") in err
    run = run_micropython("import fxmqttc; print(fxmqttc.OK, fxmqttc.fxrich)", [lib])
    assert run.stdout.strip() == "1 None", run.stderr


def test_boot_files_when_asked(upip: Upip, make_index: Callable[..., IndexServer],
                               tmp_path: Path) -> None:
    server = make_index(dists())
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "-i", server.json_url, "--no-deps",
                        "--boot-files", "pypi:fxmqttc")
    assert code == 0, err
    assert (lib / "main.py").exists() and (lib / "usetup.py").exists()


def test_a_requested_package_that_does_not_compile_is_installed_with_a_warning(
        upip: Upip, make_index: Callable[..., IndexServer], tmp_path: Path) -> None:
    server = make_index(dists())
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "-i", server.json_url, "pypi:fxrich")
    assert code == 0, err
    assert ("warning: fxrich 13.0: MicroPython's compiler rejects fxrich/console.py: "
            "SyntaxError: invalid syntax (line 2); it will not import there") in err
    assert "fxrich" in Image.open(lib).records


def test_the_compiler_is_asked_once_per_file(upip: Upip, make_index: Callable[..., IndexServer],
                                             tmp_path: Path, isolated_home: Path) -> None:
    server = make_index(dists())
    assert upip("install", "-p", str(tmp_path / "a"), "-i", server.json_url,
                "pypi:fxmqttc")[0] == 0
    verdicts = sorted((isolated_home / ".cache" / "upip").glob("mpy-check-*/*/*"))
    # fxmqttc/__init__.py, fxrich's three modules and fxpygments.py (not main.py, usetup.py)
    assert len(verdicts) == 5
    assert [v.read_text() for v in verdicts].count("") == 4
    stamp = [v.stat().st_mtime_ns for v in verdicts]
    code, _, err = upip("install", "-p", str(tmp_path / "b"), "-i", server.json_url,
                        "pypi:fxmqttc")
    assert code == 0 and "fxrich 13.0 left out" in err  # the same verdict, from the cache
    assert [v.stat().st_mtime_ns for v in verdicts] == stamp


def test_pre_releases_when_nothing_else_matches(upip: Upip, make_index: Callable[..., IndexServer],
                                               tmp_path: Path) -> None:
    """PEP 440: a pre-release is taken when no final release satisfies."""
    server = make_index(dists())
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "-i", server.json_url, "pypi:fxpreuser")
    assert code == 0, err
    assert {k: r.version for k, r in Image.open(lib).records.items()} == {
        "fxpreuser": "1.0", "fxpre": "1.0a1"}


def test_a_project_with_only_cpython_builds(upip: Upip, make_index: Callable[..., IndexServer],
                                            tmp_path: Path) -> None:
    server = make_index(dists())
    code, _, err = upip("install", "-p", str(tmp_path / "lib"), "-i", server.json_url,
                        "pypi:fxusesnative")
    assert code == 1
    assert err.strip() == (
        "error: no version of 'fxnative (from fxusesnative 1.0 <- requested)' is available (it "
        "has no sdist and no pure-Python wheel: only code built for CPython, which cannot run "
        "on MicroPython); versions found: none")


def test_a_c_extension_dependency_is_refused_with_the_chain(
        upip: Upip, make_index: Callable[..., IndexServer], tmp_path: Path) -> None:
    server = make_index(dists())
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "-i", server.json_url, "pypi:fxusescext")
    assert code == 1
    assert err.strip() == (
        "error: fxcext-1.0.tar.gz is not a readable distribution: it is C code (fxcext.c) with "
        "no Python package or module: it cannot run on MicroPython (needed by fxusescext 1.0 "
        "<- requested)")
    assert not lib.exists()
