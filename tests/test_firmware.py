"""Firmware-aware installs: dependencies the firmware provides are skipped,
and a package extending a built-in's folder leaves the built-in whole."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Upip
from tests.support.catalog import upip_dist
from tests.support.index import Dist
from tests.support.mpy import run_micropython
from tests.support.server import IndexServer
from upip.firmware import SHIM, shims_needed, top_modules
from upip.image import Image

# As the ffi-era micropython-os on PyPI: it replaces the firmware's os and fails there.
FFI_OS = b"import ffi\nlibc = ffi.open('libc.so.6')\ngetcwd = libc.func('s', 'getcwd', 'si')\n"


def old_pypi() -> list[Dist]:
    """Shaped like micropython-lib's 2017 releases on PyPI."""
    return [
        upip_dist("micropython-fxglob", "0.5", {"fxglob.py": b"import os, json, re\n"
              b"def cwd():\n    return os.getcwd()\n"
              b"def parse(s):\n    return json.loads(s)\n"},
              requires=("micropython-os", "micropython-json", "micropython-fxfn")),
        upip_dist("micropython-fxfn", "0.1", {"fxfn.py": b"import re\nMATCH = re.compile('a+')\n"},
              requires=("micropython-re-pcre",)),
        upip_dist("micropython-os", "0.6", {"os/__init__.py": FFI_OS},
              requires=("micropython-ffilib", "micropython-errno")),
        upip_dist("micropython-ffilib", "0.1", {"ffilib.py": b"import ffi\n"}),
        upip_dist("micropython-errno", "0.1", {"errno.py": b"EPERM = 1\n"}),
        upip_dist("micropython-json", "0.1", {"json/__init__.py": b"import ffi\n"}),
        upip_dist("micropython-re-pcre", "0.2", {"re.py": b"import ffi\n"},
              requires=("micropython-ffilib",)),
        upip_dist("micropython-os.path", "0.1", {"os/path.py": b"def join(*a):\n"
              b"    return '/'.join(a)\n"}, requires=("micropython-os",)),
    ]


@pytest.fixture
def pypi(make_index: Callable[..., IndexServer]) -> IndexServer:
    return make_index(old_pypi())


def test_dependencies_the_firmware_has_are_skipped(upip: Upip, pypi: IndexServer,
                                                   tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    code, _out, err = upip("install", "-p", str(lib), "-i", pypi.json_url, "micropython-fxglob")
    assert code == 0, err
    assert set(Image.open(lib).records) == {"micropython-fxglob", "micropython-fxfn"}
    notes = [line for line in err.splitlines() if "skipped" in line]
    assert ("note: micropython-os 0.6 skipped: the firmware (generic) has os (needed by "
            "micropython-fxglob 0.5 <- requested)") in notes
    assert ("note: micropython-re-pcre 0.2 skipped: the firmware (generic) has re (needed by "
            "micropython-fxfn 0.1 <- micropython-fxglob 0.5 <- requested)") in notes
    assert any(n.startswith("note: micropython-ffilib 0.1 skipped: only micropython-")
               for n in notes)
    assert len(notes) == 5  # os, json, re-pcre; errno and ffilib came only with those
    # and on the real firmware: the image's code runs on the firmware's own os, json, re
    run = run_micropython("import fxglob, fxfn; print(fxglob.parse('[1]'), "
                          "fxglob.cwd() == __import__('os').getcwd(), fxfn.MATCH.match('aa'))",
                          [lib])
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("[1] True <match")


def test_a_target_without_the_module_keeps_the_dependency(upip: Upip, pypi: IndexServer,
                                                          tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    code, out, err = upip("install", "-p", str(lib), "-i", pypi.json_url, "--target", "nrf-1.29",
                          "--json", "micropython-fxglob")
    assert code == 0, err
    report = json.loads(out)
    # nrf's default board has no json and no re: those stand-ins are kept there
    assert {i["name"] for i in report["installed"]} >= {"micropython-json", "micropython-re-pcre"}
    assert {i["name"] for i in report["skipped"]} == {"micropython-os", "micropython-errno"}


def test_an_unknown_target(upip: Upip, pypi: IndexServer, tmp_path: Path) -> None:
    code, _, err = upip("install", "-p", str(tmp_path / "lib"), "-i", pypi.json_url,
                        "--target", "esp33", "micropython-fxglob")
    assert code == 1
    assert err.startswith("error: target 'esp33' is unknown; known: generic, esp32-1.29")


def test_a_requested_package_is_never_skipped(upip: Upip, pypi: IndexServer,
                                              tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "-i", pypi.json_url, "micropython-errno")
    assert code == 0, err
    assert "installs errno.py, which hides MicroPython's built-in errno module" in err
    assert (lib / "errno.py").exists()


def test_an_extended_builtin_stays_whole(upip: Upip, pypi: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "-i", pypi.json_url, "micropython-os.path")
    assert code == 0, err
    assert "hides" not in err
    rec = Image.open(lib).records["micropython-os-path"]
    assert sorted(f.path for f in rec.files) == ["os/__init__.py", "os/path.py"]
    assert (lib / "os" / "__init__.py").read_text() == SHIM.format("os")
    run = run_micropython("import os, uos, os.path\n"
                          "print([n for n in dir(uos) if n not in dir(os)], os.path.join('a', 'b'),"
                          " os.getcwd() == uos.getcwd())", [lib])
    assert run.stdout.strip() == "[] a/b True", run.stderr


def test_uninstalling_the_init_of_an_extended_builtin(upip: Upip, make_index, tmp_path: Path
                                                      ) -> None:
    """A real package owns os/__init__.py; os.path extends it. Removing the
    first must not leave os/ hiding the firmware's os."""
    server = make_index([
        upip_dist("fxos", "1.0", {"os/__init__.py": b"from uos import *\nEXTRA = 1\n"}),
        upip_dist("fxospath", "1.0", {"os/path.py": b"def join(*a):\n    return '/'.join(a)\n"}),
    ])
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "-i", server.json_url, "pypi:fxos",
                "pypi:fxospath")[0] == 0
    assert (lib / "os/__init__.py").read_bytes().endswith(b"EXTRA = 1\n")
    code, _, err = upip("uninstall", "-p", str(lib), "fxos")
    assert code == 0, err
    assert (lib / "os/__init__.py").read_text() == SHIM.format("os")
    rec = Image.open(lib).records["fxospath"]
    assert sorted(f.path for f in rec.files) == ["os/__init__.py", "os/path.py"]
    run = run_micropython("import os, os.path; print(os.getcwd() != '', os.path.join('x', 'y'))",
                          [lib])
    assert run.stdout.strip() == "True x/y", run.stderr


@pytest.mark.parametrize(("paths", "modules"), [
    (["os/__init__.py", "os/path.py"], {"os"}),
    (["re.py", "json/__init__.mpy", "README.md", "data/x.bin", "x-y/z.py"], {"re", "json",
                                                                              "data"}),
])
def test_top_modules(paths: list[str], modules: set[str]) -> None:
    assert top_modules(paths) == modules


def test_shims_needed() -> None:
    assert shims_needed(["os/path.py", "time/x.py", "time/__init__.mpy", "foo/bar.py"],
                        {"os", "time", "json"}) == ["os"]
