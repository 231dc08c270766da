"""The device client installs: dependencies, pins and ranges, requirements files,
usage, boot files and stubs, standard sdists and the inflate window, malicious
archives, uninstall and list, conflicts.

Every test runs the client the way a user does, as a ``micropython`` process
against a real HTTP(S) index on 127.0.0.1, then looks at the image directory and
imports what was installed on the same MicroPython. The client is run from its
sources (``py``) and, where the form matters, as the ``.mpy`` image ``upip
bootstrap`` makes (``mpy``). Helpers: tests/support/device_cases.py.
"""

from __future__ import annotations

import functools
import gzip
import io
import os
import shutil
import subprocess
import tarfile
import zlib
from pathlib import Path

import pytest

import upip.image as host_image
from tests.conftest import run_cli, snapshot
from tests.support.builders import (
    evil_sdist,
    standard_sdist,
    upip_sdist,
    wheel,
    wheel_filename,
)
from tests.support.catalog import base_module, catalog
from tests.support.device import (
    SOURCES,
    Device,
    error_line,
    fsize_limit,
    lines,
)
from tests.support.device_cases import (
    MakeIndex,
    done,
    install,
    listed,
    populated,
    untouched,
)
from tests.support.index import Dist
from tests.support.mpy import micropython_command
from tests.support.server import IndexServer
from upip import __version__ as upip_version


def needs_big_window(archive: bytes) -> bool:
    """Whether a .tar.gz refers back further than 4 KiB (inflated in small steps,
    so zlib has to keep to its window instead of the whole output)."""
    d, data = zlib.decompressobj(16 + 12), archive
    try:
        while data:
            d.decompress(data, 64)
            data = d.unconsumed_tail
    except zlib.error as exc:
        assert "too far back" in str(exc)
        return True
    return False


# -- install -------------------------------------------------------------------------


def test_install_with_dependencies_then_run_it(any_device: Device, index: IndexServer,
                                               tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    out = done(install(any_device, lib, index, "micropython-fx-app"))
    # the newest release in fx-app's range (2.0 is above it, 1.2 yanked)
    assert out == ["Installing micropython-fx-app 1.0", "Installing micropython-fx-base 1.1",
                   "Done"]
    assert sorted(p for p in snapshot(lib)) == [
        ".upip-records", "fxapp", "fxapp/__init__.py", "fxapp/data", "fxapp/data/banner.txt",
        "fxbase.py"]
    assert (lib / "fxapp" / "data" / "banner.txt").read_text() == "hello\n"
    assert (lib / "fxbase.py").read_text() == base_module("1.1")
    run = any_device.run("import fxapp; print(fxapp.run())", path=[lib])
    assert run.stdout == "app 1.0 on base 1.1: 42\n", run.stderr
    assert listed(any_device, lib) == ["micropython-fx-app 1.0", "micropython-fx-base 1.1"]
    # the JSON API, then each archive, once, over HTTP/1.1
    assert index.requests("/pypi/") == ["/pypi/micropython-fx-app/json",
                                        "/pypi/micropython-fx-base/json"]
    assert index.requests("/files/") == ["/files/micropython-fx-app-1.0.tar.gz",
                                         "/files/micropython-fx-base-1.1.tar.gz"]
    assert {version for version, _ in index.log} == {"GET HTTP/1.1"}
    # a second run finds it installed and downloads nothing
    again = done(install(any_device, lib, index, "micropython-fx-app"))
    assert again == ["micropython-fx-app 1.0 is already installed", "Done"]
    assert len(index.requests("/files/")) == 2


def test_install_speaks_http11_to_an_index_that_refuses_http10(
        device: Device, make_index: MakeIndex, tmp_path: Path) -> None:
    server = make_index(require_http11=True)
    done(install(device, tmp_path / "lib", server, "micropython-fx-base"))
    assert (tmp_path / "lib" / "fxbase.py").read_text() == base_module("2.0")


@pytest.mark.parametrize("spec", ["micropython-fx-base==1.1", "micropython-fx-base@1.1",
                                  "micropython-fx-base == 1.1"])
def test_install_a_pinned_version(device: Device, index: IndexServer, tmp_path: Path,
                                  spec: str) -> None:
    lib = tmp_path / "lib"
    assert done(install(device, lib, index, spec)) == [
        "Installing micropython-fx-base 1.1", "Done"]
    assert (lib / "fxbase.py").read_text() == base_module("1.1")
    # the per-version endpoint answers, so the project JSON is not needed
    assert index.requests("/pypi/") == ["/pypi/micropython-fx-base/1.1/json"]


def test_pinning_another_version_replaces_the_installed_one(device: Device,
                                                            index: IndexServer,
                                                            tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    done(install(device, lib, index, "micropython-fx-base==1.0"))
    assert done(install(device, lib, index, "micropython-fx-base==1.0")) == [
        "micropython-fx-base 1.0 is already installed", "Done"]
    done(install(device, lib, index, "micropython-fx-base==1.1"))
    assert (lib / "fxbase.py").read_text() == base_module("1.1")
    assert listed(device, lib) == ["micropython-fx-base 1.1"]
    records = host_image.parse_records((lib / ".upip-records").read_text(), "records")
    assert list(records) == ["micropython-fx-base"]


def test_pinned_version_endpoint_404_falls_back_to_the_project_json(
        device: Device, index: IndexServer, tmp_path: Path) -> None:
    index.fault("/pypi/micropython-fx-base/1.1/json", "status", 404)
    lib = tmp_path / "lib"
    assert done(install(device, lib, index, "micropython-fx-base==1.1")) == [
        "Installing micropython-fx-base 1.1", "Done"]
    assert (lib / "fxbase.py").read_text() == base_module("1.1")
    assert index.requests("/pypi/") == ["/pypi/micropython-fx-base/1.1/json",
                                        "/pypi/micropython-fx-base/json"]
    assert index.requests("/files/") == ["/files/micropython-fx-base-1.1.tar.gz"]


def test_pinning_a_version_that_does_not_exist_is_an_error(device: Device,
                                                           index: IndexServer,
                                                           tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    result = install(device, lib, index, "micropython-fx-base==9.9")
    assert result.returncode == 1
    assert error_line(result) == ("error: micropython-fx-base: micropython-fx-base has no "
                                  "release 9.9")
    assert not lib.exists()


def test_pinning_a_yanked_release_installs_it(device: Device, index: IndexServer,
                                              tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    done(install(device, lib, index, "micropython-fx-base==1.2"))
    assert (lib / "fxbase.py").read_text() == base_module("1.2")


def test_unpinned_install_skips_yanked_and_prerelease(device: Device, make_index: MakeIndex,
                                                      tmp_path: Path) -> None:
    # 1.2 is yanked and 2.1b1 a pre-release: with only those above 1.1, 1.1 is newest
    server = make_index([d for d in catalog() if d.name == "micropython-fx-base"
                         and d.version != "2.0"])
    done(install(device, tmp_path / "lib", server, "micropython-fx-base"))
    assert (tmp_path / "lib" / "fxbase.py").read_text() == base_module("1.1")


def test_unknown_name_falls_back_to_the_micropython_prefixed_name(
        device: Device, index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    out = done(install(device, lib, index, "fxalias"))
    assert out == ["Installing micropython-fxalias 0.1", "Done"]
    assert index.requests("/pypi/") == ["/pypi/micropython-fxalias/json"]  # (tried first)
    assert device.run("import fxalias; print(fxalias.OK)", path=[lib]).stdout == "True\n"


def test_install_from_a_requirements_file_with_comments(device: Device, index: IndexServer,
                                                        tmp_path: Path) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("# what the board needs\n"
                    "micropython-fx-base==1.0   # pinned for the old board\n"
                    "\n"
                    "   fxalias\n")
    lib = tmp_path / "lib"
    out = done(device.upip("install", "-p", str(lib), "-i", index.json_url, "--no-mip-index",
                           "-r", str(reqs)))
    assert "Installing micropython-fx-base 1.0" in out
    assert "Installing micropython-fxalias 0.1" in out
    assert listed(device, lib) == ["micropython-fx-base 1.0", "micropython-fxalias 0.1"]


def test_missing_requirements_file_is_an_error(device: Device, index: IndexServer,
                                               tmp_path: Path) -> None:
    result = device.upip("install", "-p", str(tmp_path / "lib"), "-i", index.json_url,
                         "-r", str(tmp_path / "nope.txt"))
    assert result.returncode == 1
    assert str(tmp_path / "nope.txt") in error_line(result)
    assert not (tmp_path / "lib").exists()


@pytest.mark.parametrize("argv", [["--help"], ["-h"], [], ["install", "--help"]])
def test_help(device: Device, argv: list[str]) -> None:
    result = device.upip(*argv)
    assert result.returncode == 0
    assert result.stdout.startswith("upip - install MicroPython packages from PyPI")
    for usage in ("micropython -m upip install [-p DIR] [-r FILE] [-i INDEX]",
                  "micropython -m upip uninstall [-p DIR] NAME...",
                  "micropython -m upip list [-p DIR]", "--insecure", "--ca"):
        assert usage in result.stdout


@pytest.mark.parametrize(("argv", "message"), [
    (["install", "--bogus", "x"],
     "error: unknown option --bogus (see micropython -m upip --help)"),
    (["frobnicate", "x"], "error: unknown command frobnicate (install, uninstall or list)"),
    (["install"], "error: nothing to install: give a package name"),
    (["install", "-p"], "error: -p needs a value"),
    (["install", "--timeout", "-1", "x"], "error: --timeout takes seconds above 0, not -1"),
    (["install", "--timeout", "inf", "x"], "error: --timeout takes seconds above 0, not inf"),
    (["install", "--timeout", "soon", "x"], "error: --timeout takes seconds above 0, not soon"),
])
def test_usage_errors_exit_2(device: Device, tmp_path: Path, argv: list[str],
                             message: str) -> None:
    result = device.upip(*argv, cwd=tmp_path)
    assert result.returncode == 2
    assert lines(result) == [message]
    assert list(tmp_path.iterdir()) == [tmp_path / "home"]  # nothing written


def test_upip_install_from_a_script(device: Device, index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    before = populated(device, lib, index)
    failing = f"""
import upip
try:
    upip.install("no-such-package", path={str(lib)!r}, index={index.json_url!r},
                 mip_index=False)
except upip.UpipError as e:
    print("UpipError:", e)
else:
    print("no error")
print(upip.installed({str(lib)!r}))
"""
    run = device.run(failing)
    assert run.stdout.splitlines() == [
        "UpipError: no-such-package: no such package: tried "
        f"{index.json_url}/micropython-no-such-package, {index.json_url}/no-such-package",
        "[('micropython-fx-base', '1.1'), ('micropython-fxalias', '0.1')]"], run.stderr
    untouched(lib, before)
    working = f"""
import sys, upip
upip.install(["micropython-fx-app"], path={str(lib)!r}, index={index.json_url!r})
sys.path.append({str(lib)!r})
import fxapp
print(fxapp.run())
upip.help()
"""
    run = device.run(working)
    out = run.stdout.splitlines()
    assert out[:3] == [f"Installing micropython-fx-app 1.0 from {index.json_url}",
                       "app 1.0 on base 1.1: 42",  # fx-base 1.1 was there already
                       "upip - install MicroPython packages from PyPI, micropython-lib and "
                       "package.json on the device"], run.stderr
    assert set(snapshot(lib)) - set(before) == {"fxapp", "fxapp/__init__.py", "fxapp/data",
                                                "fxapp/data/banner.txt"}


def test_upip_install_failure_leaves_the_target_untouched(device: Device, index: IndexServer,
                                                          tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    before = populated(device, lib, index)
    index.fault("/files/micropython-fx-base-2.0.tar.gz", "status", 500)
    script = f"""
import upip
try:
    upip.install(["micropython-fx-app", "micropython-fx-base==2.0"], path={str(lib)!r},
                 index={index.json_url!r})
except upip.UpipError as e:
    print("UpipError:", e)
"""
    run = device.run(script)
    assert run.stdout.splitlines()[-1].startswith(
        "UpipError: micropython-fx-base: http://"), run.stdout + run.stderr
    assert "answered HTTP 500" in run.stdout
    untouched(lib, before)  # fx-app was downloaded, then everything undone


def test_default_path_is_the_unix_ports_home_lib(device: Device, index: IndexServer,
                                                 isolated_home: Path, tmp_path: Path) -> None:
    home_lib = isolated_home / ".micropython" / "lib"
    dev = Device("py", SOURCES, path_before=["~/.micropython/lib"])
    probe = dev.run("import sys; print(sys.path)")
    assert repr(str(home_lib)) in probe.stdout  # ~ expanded from $HOME
    done(dev.upip("install", "-i", index.json_url, "--no-mip-index", "micropython-fx-app",
                  cwd=tmp_path))
    assert (home_lib / "fxapp" / "__init__.py").is_file()
    assert (home_lib / "fxbase.py").is_file()
    assert dev.upip("list").stdout.splitlines() == ["micropython-fx-app 1.0",
                                                    "micropython-fx-base 1.1"]
    # and plain micropython, without MICROPYPATH, imports it from there
    env = {k: v for k, v in os.environ.items() if k != "MICROPYPATH"}
    command = micropython_command()
    assert command
    run = subprocess.run([command, "-c", "import fxapp; print(fxapp.run())"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert run.stdout == "app 1.0 on base 1.1: 42\n", run.stderr


def test_bootstrap_into_home_then_plain_micropython_m_upip(micropython: object,
                                                           index: IndexServer,
                                                           isolated_home: Path,
                                                           tmp_path: Path) -> None:
    # upip bootstrap without -p puts the client into ~/.micropython/lib, where
    # micropython finds it, and the client installs next to itself.
    assert run_cli("bootstrap").returncode == 0
    home_lib = isolated_home / ".micropython" / "lib"
    assert (home_lib / "upip" / "__main__.mpy").is_file()
    env = {k: v for k, v in os.environ.items() if k != "MICROPYPATH"}
    command = micropython_command()
    assert command
    result = subprocess.run([command, "-m", "upip", "install", "-i", index.json_url,
                             "micropython-fxalias"], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=60)
    done(result)
    assert (home_lib / "fxalias.py").is_file()
    host = run_cli("list", "--format", "requirements")
    assert host.stdout.splitlines() == ["micropython-fxalias==0.1", f"upip=={upip_version}"]
    run = subprocess.run([command, "-c", "import fxalias; print(fxalias.OK)"],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert run.stdout == "True\n"


# -- files that stay out: boot files, type stubs ---------------------------------------


def boot_dists() -> list[Dist]:
    """An app that ships main.py, boot.py and usetup.py at its top, and type
    stubs beside its code, as a sdist and as a wheel (the host's rules:
    portable.BOOT_FILES, dists.never_installed)."""
    files = {"main.py": "import fxboot\n", "boot.py": "print('boot')\n",
             "usetup.py": "print('setup')\n", "fxboot/__init__.py": "OK = 1\n",
             "fxboot/__init__.pyi": "OK: int\n", "fxboot/py.typed": "",
             "fxboot/data/py.typed.txt": "kept\n"}
    return [Dist("micropython-fxboot", "1.0", "micropython-fxboot-1.0.tar.gz",
                 upip_sdist("micropython-fxboot", "1.0", files)),
            Dist("fxbootwhl", "2.0", wheel_filename("fxbootwhl", "2.0"),
                 wheel("fxbootwhl", "2.0", {"main.mpy": b"M", "fxbootwhl.py": b"OK = 2\n",
                                            "fxbootwhl.pyi": b"OK: int\n"}))]


def test_boot_files_and_type_stubs_stay_out(any_device: Device, make_index: MakeIndex,
                                             tmp_path: Path) -> None:
    server = make_index(boot_dists())
    lib = tmp_path / "lib"
    out = done(install(any_device, lib, server, "micropython-fxboot", "fxbootwhl"))
    assert out == [
        "Installing micropython-fxboot 1.0",
        "note: micropython-fxboot 1.0: left out boot.py, main.py, usetup.py, which a board "
        "would run by itself at start (--boot-files installs it)",
        "Installing fxbootwhl 2.0",
        "note: fxbootwhl 2.0: left out main.mpy, which a board would run by itself at start "
        "(--boot-files installs it)", "Done"]
    assert sorted(snapshot(lib)) == [".upip-records", "fxboot", "fxboot/__init__.py",
                                     "fxboot/data", "fxboot/data/py.typed.txt", "fxbootwhl.py"]
    recs = host_image.parse_records((lib / ".upip-records").read_text(), "records")
    assert sorted(f.path for r in recs.values() for f in r.files) == [
        "fxboot/__init__.py", "fxboot/data/py.typed.txt", "fxbootwhl.py"]
    assert not (lib / ".upip-tx").exists()


def test_boot_files_land_with_boot_files_but_type_stubs_never(
        any_device: Device, make_index: MakeIndex, tmp_path: Path) -> None:
    server = make_index(boot_dists())
    lib = tmp_path / "lib"
    out = done(install(any_device, lib, server, "--boot-files", "micropython-fxboot"))
    assert not any(line.startswith("note:") for line in out), out
    assert sorted(snapshot(lib)) == [".upip-records", "boot.py", "fxboot", "fxboot/__init__.py",
                                     "fxboot/data", "fxboot/data/py.typed.txt", "main.py",
                                     "usetup.py"]
    run = any_device.run(f"import upip; upip.install('fxbootwhl', path={str(lib)!r}, "
                         f"index={server.json_url!r}, mip_index=False, boot_files=True)")
    assert run.returncode == 0, run.stdout + run.stderr
    assert (lib / "main.mpy").read_bytes() == b"M"
    assert not (lib / "fxbootwhl.pyi").exists()
    # the host reads the records, and takes the boot files away with their package
    assert listed(any_device, lib) == ["micropython-fxboot 1.0", "fxbootwhl 2.0"]
    assert any_device.upip("uninstall", "-p", str(lib), "fxboot").returncode == 0
    assert sorted(snapshot(lib)) == [".upip-records", "fxbootwhl.py", "main.mpy"]


# -- standard sdists and the inflate window --------------------------------------------


def std_index(make_index: MakeIndex) -> IndexServer:
    return make_index(std_dists())


def std_dists() -> list[Dist]:
    """The catalog, with fx-wheel's sdist replaced by one that refers back 12 KB:
    like fx-std's, it needs a 32 KiB inflate window."""
    blob = "".join(f"{(i * 2654435761) % 65521:05d}" for i in range(2400))  # 12 KB, no repeats
    code = (f'SOURCE = "sdist"\nA = "{blob}"\nB = "{blob}"\n\n'
            'def greet(n):\n    return "yo " + n\n')
    big = Dist("fx-wheel", "1.0", "fx-wheel-1.0.tar.gz", standard_sdist("fx-wheel", "1.0",
                                                                         {"fxwheel.py": code}))
    dists = [d for d in catalog() if d.filename != "fx-wheel-1.0.tar.gz"] + [big]
    std = next(d for d in dists if d.name == "fx-std")
    assert needs_big_window(std.data) and needs_big_window(big.data)
    return dists


@pytest.mark.parametrize("form", ["py", "mpy"])
def test_install_a_standard_sdist_in_src_layout_needing_a_32k_window(
        form: str, micropython: object, client_image: Path, make_index: MakeIndex,
        tmp_path: Path) -> None:
    dev = Device("py", SOURCES) if form == "py" else Device("mpy", client_image)
    server = std_index(make_index)
    lib = tmp_path / "lib"
    out = done(install(dev, lib, server, "fx-std"))
    assert out == ["Installing fx-std 0.3", "Installing fx-wheel 1.0", "Done"]
    # the package from src/, none of tests/, docs/, setup.py, README, PKG-INFO
    assert sorted(snapshot(lib)) == [".upip-records", "fxstd", "fxstd/__init__.py",
                                     "fxstd/templates", "fxstd/templates/page.html",
                                     "fxwheel.py"]
    # the sdist, not the wheel of the same release, and the marker-only dependency skipped
    assert server.requests("/files/") == ["/files/fx-std-0.3.tar.gz", "/files/fx-wheel-1.0.tar.gz"]
    run = dev.run("import fxstd, fxwheel; print(fxstd.hello('x'), fxwheel.SOURCE, "
                  "len(fxwheel.A))", path=[lib])
    assert run.stdout == "yo x! sdist 12000\n", run.stderr


def heap_sweep(dev: Device, server: IndexServer, tmp_path: Path, spec: str, kibs: range
               ) -> list[tuple[int, subprocess.CompletedProcess[str], bool]]:
    """Install spec into a target holding fxalias, with each heap size in kibs up to the
    first success: [(KiB, result, target unchanged)]."""
    template = tmp_path / "template"
    done(install(dev, template, server, "micropython-fxalias"))
    before = snapshot(template)
    runs = []
    for kib in kibs:
        lib = tmp_path / f"lib{kib}"
        shutil.copytree(template, lib)
        result = install(dev, lib, server, spec, heapsize=f"{kib}k")
        runs.append((kib, result, result.returncode == 0 or snapshot(lib) == before))
        if result.returncode == 0:
            break
    return runs


def test_small_heap_inflates_a_32k_window_archive_in_python(
        mpy_device: Device, make_index: MakeIndex, tmp_path: Path) -> None:
    # A heap with no room for a 32 KiB window: deflate's MemoryError hands the
    # archives to inflate, which reads its history back from the output file.
    server = std_index(make_index)
    runs = heap_sweep(mpy_device, server, tmp_path, "fx-std", range(12, 64, 2))
    kib, result, _ = runs[-1]
    assert result.returncode == 0, [(k, lines(r)[-1:]) for k, r, _ in runs]
    assert kib < 32, f"fx-std needed {kib} KiB: less than a 32 KiB window cannot be"
    lib = tmp_path / f"lib{kib}"
    assert sorted(snapshot(lib)) == [".upip-records", "fxalias.py", "fxstd", "fxstd/__init__.py",
                                     "fxstd/templates", "fxstd/templates/page.html",
                                     "fxwheel.py"]
    run = mpy_device.run("import fxstd, fxwheel; print(fxstd.hello('x'), len(fxwheel.A))",
                         path=[lib])
    assert run.stdout == "yo x! 12000\n", run.stderr
    for kib, result, same in runs[:-1]:  # the smaller heaps: one line each, nothing changed
        assert result.returncode == 1 and same, kib
        assert "out of memory" in error_line(result), kib


def test_disk_full_while_inflating_in_python_changes_nothing(
        mpy_device: Device, make_index: MakeIndex, tmp_path: Path) -> None:
    # 24 KiB: no room for fx-wheel's 32 KiB window, so inflate writes the tar;
    # the disk fills between the archive's size and the tar's
    dists = std_dists()
    server = make_index(dists)
    big = next(d for d in dists if d.filename == "fx-wheel-1.0.tar.gz")
    limit = (len(big.data) + len(gzip.decompress(big.data))) // 2
    lib = tmp_path / "lib"
    before = populated(mpy_device, lib, server)
    result = install(mpy_device, lib, server, "fx-wheel", heapsize="24k",
                     preexec_fn=fsize_limit(limit))
    assert result.returncode == 1
    assert error_line(result).startswith("error: fx-wheel: "), lines(result)
    assert "disk full" in error_line(result) or "no space" in error_line(result)
    untouched(lib, before)
    done(install(mpy_device, lib, server, "fx-wheel", heapsize="24k"))  # room: it goes in


def test_out_of_memory_at_any_heap_is_one_line_and_changes_nothing(
        mpy_device: Device, index: IndexServer, tmp_path: Path) -> None:
    runs = heap_sweep(mpy_device, index, tmp_path, "micropython-fx-app", range(14, 80, 2))
    assert runs[-1][1].returncode == 0
    bad = {}
    for kib, result, same in runs[:-1]:
        out = lines(result)
        if not same or "Traceback" in result.stderr or not out or \
                not out[-1].startswith("error: ") or result.returncode != 1:
            bad[kib] = (same, out[-3:], result.stderr[-200:])
    assert bad == {}


def test_many_releases_stream_through_a_small_heap(mpy_device: Device, make_index: MakeIndex,
                                                   tmp_path: Path) -> None:
    # 400 releases make a project JSON several times the heap: only a streaming
    # reader that keeps none of it gets through.
    name = "micropython-fx-many"
    dists = [Dist(name, f"{i}.0", f"{name}-{i}.0.tar.gz",
                  upip_sdist(name, f"{i}.0", {"fxmany.py": f"V = {i}\n"})) for i in range(400)]
    for d in dists:
        d.extra["comment_text"] = "x" * 300  # per-file fields nobody needs
    server = make_index(dists)
    size = len((server.root / "pypi" / name / "json").read_bytes())
    assert size > 4 * 64 * 1024
    lib = tmp_path / "lib"
    assert done(install(mpy_device, lib, server, name, heapsize="64k")) == [
        f"Installing {name} 399.0", "Done"]
    assert (lib / "fxmany.py").read_text() == "V = 399\n"
    # and a pin deep inside "releases", read from the project JSON
    server.fault(f"/pypi/{name}/7.0/json", "status", 404)
    done(install(mpy_device, lib, server, f"{name}==7.0", heapsize="64k"))
    assert (lib / "fxmany.py").read_text() == "V = 7\n"


def test_many_files_install_in_a_small_heap(mpy_device: Device, make_index: MakeIndex,
                                            tmp_path: Path) -> None:
    # Nothing the client holds grows with the files of a package or of the image
    # (it reads its lists again from the stage, with Bloom filters to skip most
    # reads): 400 files install in the heap a few need, and so does a small
    # package into the image they make. (Holding a path per file needed over
    # 40 KB for each.)
    many = {f"fxfiles/m{i:03d}.py": f"X = {i}\n" for i in range(400)}
    dists = [Dist("micropython-fx-files", "1.0", "micropython-fx-files-1.0.tar.gz",
                  upip_sdist("micropython-fx-files", "1.0", {"fxfiles/__init__.py": "", **many})),
             Dist("micropython-fx-one", "1.0", "micropython-fx-one-1.0.tar.gz",
                  upip_sdist("micropython-fx-one", "1.0", {"fxone.py": "ONE = 1\n"}))]
    server = make_index([*catalog(), *dists])
    lib = tmp_path / "lib"
    done(install(mpy_device, lib, server, "micropython-fx-files", heapsize="20k"))
    assert len(list((lib / "fxfiles").iterdir())) == 401
    done(install(mpy_device, lib, server, "micropython-fx-one", heapsize="20k"))
    run = mpy_device.run("import fxone, fxfiles.m399 as m; print(fxone.ONE, m.X)", path=[lib])
    assert run.stdout == "1 399\n"
    # and one of them listed twice in the archive is still refused
    twice = upip_sdist("micropython-fx-twice", "1.0", many)
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(twice))) as tar:
        members = [(m, tar.extractfile(m).read()) for m in tar.getmembers()]  # type: ignore[union-attr]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for m, data in [*members, members[250]]:
            tar.addfile(m, io.BytesIO(data))
    server = make_index([Dist("micropython-fx-twice", "1.0", "micropython-fx-twice-1.0.tar.gz",
                              gzip.compress(out.getvalue()))])
    result = install(mpy_device, tmp_path / "lib2", server, "micropython-fx-twice",
                     heapsize="20k")
    assert error_line(result).endswith(f"{members[250][0].name.split('/', 1)[1]}: listed twice")
    assert not (tmp_path / "lib2").exists()


# -- malicious archives ------------------------------------------------------------------

EVIL = {
    "absolute": "/tmp/upip-evil-absolute.py",
    "dotdot": "upip-evil-dotdot.py",
    "link-outside": "evil/passwd.py",
    "link-escape": "evil/up.py",
    "hardlink": "evil/hard.py",
    "device": "evil/dev",
    "fifo": "evil/fifo",
    "bomb": "evil/bomb.bin",
    "backslash": "evil\\bad.py",
    "twice": "evil/__init__.py",
    "sparse": "evil/sparse.py",
}


EVIL_REASON = {
    "absolute": ": absolute path",
    "dotdot": ": path with '..' escapes the target",
    "link-outside": ": link to absolute path /etc/passwd",
    "link-escape": ": link to ../../../../etc/x points outside the archive",
    "hardlink": ": hard link (refused)",
    "device": ": device node or FIFO",
    "fifo": ": device node or FIFO",
    "bomb": ": too large to unpack",
    "backslash": ": backslash or control character in the path",
    "twice": ": listed twice",
    "sparse": ": unsupported member type",
}


@pytest.mark.parametrize(("kind", "cause"), [
    ("not-gzip", "the archive is corrupt"),
    ("truncated", "the archive is truncated"),
])
def test_corrupt_archive_is_one_error_line(device: Device, make_index: MakeIndex,
                                           tmp_path: Path, kind: str, cause: str) -> None:
    # The index's sha256 matches these bytes: what fails is the archive itself.
    good = upip_sdist("micropython-fx-broken", "1.0", {"broken.py": "X = 1\n" * 200})
    data = {"not-gzip": b"this is not a gzip stream " * 40,
            "truncated": good[:len(good) // 2]}[kind]
    server = make_index([*catalog(), Dist("micropython-fx-broken", "1.0",
                                          "micropython-fx-broken-1.0.tar.gz", data)])
    lib = tmp_path / "lib"
    before = populated(device, lib, server)
    result = install(device, lib, server, "micropython-fx-broken")
    assert result.returncode == 1
    assert error_line(result) == f"error: micropython-fx-broken: {cause}"
    assert snapshot(lib) == before


@functools.cache
def evil_dists() -> tuple[Dist, ...]:
    return tuple(Dist(f"micropython-evil-{kind}", "1.0", f"micropython-evil-{kind}-1.0.tar.gz",
                      evil_sdist(f"micropython-evil-{kind}", "1.0", kind)) for kind in EVIL)


@pytest.mark.parametrize("kind", list(EVIL))
def test_malicious_archive_is_refused(device: Device, make_index: MakeIndex, tmp_path: Path,
                                      kind: str) -> None:
    server = make_index([*catalog(), *evil_dists()])
    lib = tmp_path / "work" / "lib"
    populated(device, lib, server)
    absolute = Path(EVIL["absolute"])
    existed = absolute.exists()
    before = snapshot(tmp_path)
    result = install(device, lib, server, f"micropython-evil-{kind}")
    assert result.returncode == 1
    message = error_line(result)
    assert message.startswith(f"error: micropython-evil-{kind}: refusing archive member ")
    assert EVIL[kind] in message
    assert message.endswith(EVIL_REASON[kind]), message  # (the device words them by number)
    assert snapshot(tmp_path) == before  # neither in the target nor beside it
    assert not (tmp_path.parent / "upip-evil-dotdot.py").exists()
    assert absolute.exists() == existed


def test_in_package_symlink_is_skipped_with_a_warning(device: Device, index: IndexServer,
                                                      tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    out = done(install(device, lib, index, "micropython-fx-links"))
    assert "warning: skipped fxlinks/simple.py (symbolic link to "\
           "../../fx-simple/fxlinks/simple.py)" in out
    assert sorted(snapshot(lib)) == [".upip-records", "fxlinks", "fxlinks/robust.py"]
    assert "fxlinks/simple.py" not in (lib / ".upip-records").read_text()


LONG = "fxlong/" + "d" * 60 + "/" + "e" * 60 + "/mod.py"  # 135 characters


@pytest.mark.parametrize("fmt", ["gnu", "pax", "ustar"])
def test_long_member_names_land_whole(device: Device, make_index: MakeIndex, tmp_path: Path,
                                      fmt: str) -> None:
    # A path past the header's 100 bytes is a GNU long-name member before
    # it, a pax record (here after a pax global header), or ustar's prefix
    # field: each must land at its whole path.
    name = "micropython-fx-long"
    archive = upip_sdist(name, "1.0", {LONG: "WHOLE = True\n", "fxlong/short.py": "SHORT = True\n"},
                         fmt={"gnu": tarfile.GNU_FORMAT, "pax": tarfile.PAX_FORMAT,
                              "ustar": tarfile.USTAR_FORMAT}[fmt],
                         pax_headers={"comment": "global"} if fmt == "pax" else None)
    raw = gzip.decompress(archive)
    kinds = {bytes([raw[i + 156]]) for i in range(0, len(raw) - 512, 512)}
    assert {"gnu": b"L", "pax": b"x", "ustar": b"0"}[fmt] in kinds  # (the form under test)
    server = make_index([Dist(name, "1.0", f"{name}-1.0.tar.gz", archive)])
    lib = tmp_path / "lib"
    done(install(device, lib, server, name))
    assert (lib / LONG).read_bytes() == b"WHOLE = True\n"
    assert (lib / "fxlong/short.py").read_bytes() == b"SHORT = True\n"
    assert LONG in (lib / ".upip-records").read_text()


# -- uninstall and list ------------------------------------------------------------------


def test_uninstall_and_list(any_device: Device, index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    assert listed(any_device, lib) == []  # no image yet
    done(install(any_device, lib, index, "micropython-fx-app", "micropython-fxalias"))
    # in install order: what was asked for, then the dependencies (breadth-first)
    assert listed(any_device, lib) == ["micropython-fx-app 1.0", "micropython-fxalias 0.1",
                                       "micropython-fx-base 1.1"]
    result = any_device.upip("uninstall", "-p", str(lib), "micropython-fx-app")
    assert result.returncode == 0
    assert lines(result) == ["Removing micropython-fx-app 1.0"]
    assert not (lib / "fxapp").exists()  # files and their now empty folders
    assert (lib / "fxbase.py").is_file()  # the dependency stays
    # by its short name
    result = any_device.upip("uninstall", "-p", str(lib), "fxalias")
    assert lines(result) == ["Removing micropython-fxalias 0.1"]
    assert not (lib / "fxalias.py").exists()
    assert listed(any_device, lib) == ["micropython-fx-base 1.1"]
    assert sorted(snapshot(lib)) == [".upip-records", "fxbase.py"]


def test_uninstall_of_a_missing_name_is_an_error(device: Device, index: IndexServer,
                                                 tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    before = populated(device, lib, index)
    result = device.upip("uninstall", "-p", str(lib), "micropython-fxalias", "fx-nothing")
    assert result.returncode == 1
    assert error_line(result) == f"error: fx-nothing is not installed in {lib}"
    untouched(lib, before)


def test_list_refuses_a_file_that_is_not_a_records_file(device: Device, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / ".upip-records").write_text("something else\n")
    result = device.upip("list", "-p", str(lib))
    assert result.returncode == 1
    assert "is not an upip records file" in error_line(result)


# -- conflicts -------------------------------------------------------------------------


def test_file_owned_by_another_package_is_a_conflict(device: Device, index: IndexServer,
                                                     tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    before = populated(device, lib, index)
    result = install(device, lib, index, "micropython-fx-clash")
    assert result.returncode == 1
    message = error_line(result)
    assert "micropython-fx-clash" in message and "micropython-fx-base 1.1" in message
    assert "fxbase.py" in message
    untouched(lib, before)


def test_untracked_file_needs_force(device: Device, index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "fxalias.py").write_text("MINE = 1\n")
    before = snapshot(lib)
    result = install(device, lib, index, "micropython-fxalias")
    assert result.returncode == 1
    message = error_line(result)
    assert str(lib / "fxalias.py") in message and "--force" in message
    untouched(lib, before)
    done(install(device, lib, index, "--force", "micropython-fxalias"))
    assert (lib / "fxalias.py").read_text() == "OK = True\n"
    assert listed(device, lib) == ["micropython-fxalias 0.1"]


def test_untracked_file_with_the_same_content_is_adopted(any_device: Device, index: IndexServer,
                                                         tmp_path: Path) -> None:
    # store hashes the file (upip.digest, loaded only for this) and finds it equal
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "fxalias.py").write_text("OK = True\n")
    done(install(any_device, lib, index, "micropython-fxalias"))
    assert listed(any_device, lib) == ["micropython-fxalias 0.1"]


def test_a_file_that_would_hide_a_firmware_module_needs_force(
        any_device: Device, make_index: MakeIndex, tmp_path: Path) -> None:
    # as micropython-os from the old micropython-lib on PyPI: os/ would take the
    # firmware's os, which upip itself imports
    old = Dist("micropython-fx-oldos", "0.8", "micropython-fx-oldos-0.8.tar.gz",
               upip_sdist("micropython-fx-oldos", "0.8", {
                   "oldos_util.py": "X = 1\n", "os/__init__.py": "NAME = 'old'\n"}))
    # ssl is no built-in of this unix port (its ssl is frozen Python, found first)
    tls = Dist("micropython-fx-ssl", "1.0", "micropython-fx-ssl-1.0.tar.gz",
               upip_sdist("micropython-fx-ssl", "1.0", {"ssl.py": "X = 1\n"}))
    server = make_index([*catalog(), old, tls])
    lib = tmp_path / "lib"
    before = populated(any_device, lib, server)
    result = install(any_device, lib, server, "micropython-fx-oldos")
    assert result.returncode == 1
    assert error_line(result) == ("error: micropython-fx-oldos: os/__init__.py would hide the "
                                  "firmware's os module; --force installs it anyway")
    untouched(lib, before)
    done(install(any_device, lib, server, "micropython-fx-ssl"))
    done(install(any_device, lib, server, "--force", "micropython-fx-oldos"))
    assert (lib / "os" / "__init__.py").read_text() == "NAME = 'old'\n"


@pytest.mark.parametrize("compiled", [False, True], ids=["py", "mpy-files"])
def test_a_stand_in_that_imports_the_builtin_is_no_hiding_file(
        any_device: Device, make_index: MakeIndex, tmp_path: Path, compiled: bool) -> None:
    # as micropython-lib's binascii, os and time: named like the built-in, they
    # import it and add to it, so they hide nothing (the host's rule,
    # upip.shadow); one mentioning the name only inside a longer word still
    # hides. Compiled, as micropython-lib's index serves them: the name is in
    # the .mpy's qstr table, a word there too.
    from upip.mpy import compile_source

    def files(sources: dict[str, str]) -> dict[str, str | bytes]:
        if not compiled:
            return dict(sources)
        return {path[:-3] + ".mpy": compile_source(text.encode(), path)
                for path, text in sources.items()}

    ext = Dist("micropython-fx-ext", "1.0", "micropython-fx-ext-1.0.tar.gz",
               upip_sdist("micropython-fx-ext", "1.0", files({
                   "binascii.py": "from ubinascii import *\n\ndef fx():\n    return 'ext'\n",
                   "os/__init__.py": "# " + "x" * 300 + "\nfrom uos import *\nNAME = 'ext'\n"})))
    near = Dist("micropython-fx-near", "1.0", "micropython-fx-near-1.0.tar.gz",
                upip_sdist("micropython-fx-near", "1.0", files({"time.py": "import utimex\n"})))
    server = make_index([*catalog(), ext, near])
    lib = tmp_path / "lib"
    done(install(any_device, lib, server, "micropython-fx-ext"))
    run = any_device.run("import binascii, os; print(binascii.fx(), binascii.hexlify(b'A'), "
                         "os.NAME, callable(os.listdir))", path=[lib])
    assert run.stdout.split() == ["ext", "b'41'", "ext", "True"], run.stdout + run.stderr
    result = install(any_device, lib, server, "micropython-fx-near")
    time_file = "time.mpy" if compiled else "time.py"
    assert error_line(result) == (f"error: micropython-fx-near: {time_file} would hide the "
                                  "firmware's time module; --force installs it anyway")


def test_hiding_a_builtin_upip_does_not_need_is_warned_about(
        any_device: Device, make_index: MakeIndex, tmp_path: Path) -> None:
    # as micropython-lib's heapq: hiding it leaves upip able to
    # run, so it installs with the host's warning (as mip installs it)
    own = Dist("micropython-fx-heapq", "1.0", "micropython-fx-heapq-1.0.tar.gz",
               upip_sdist("micropython-fx-heapq", "1.0", {
                   "platform.py": "NAME = 'image'\n", "heapq/__init__.py": "NAME = 'image'\n",
                   "heapq/more.py": "X = 1\n"}))
    server = make_index([*catalog(), own])
    lib = tmp_path / "lib"
    out = done(install(any_device, lib, server, "micropython-fx-heapq"))
    assert sorted(line for line in out if line.startswith("warning")) == [
        "warning: micropython-fx-heapq 1.0 installs heapq/, which hides MicroPython's "
        "built-in heapq module",
        "warning: micropython-fx-heapq 1.0 installs platform.py, which hides MicroPython's "
        "built-in platform module"]
    run = any_device.run("import platform, heapq; print(platform.NAME, heapq.NAME)",
                         path=[lib])
    assert run.stdout.split() == ["image", "image"], run.stdout + run.stderr
