"""What a user sees when `upip install` fails, and what it leaves behind.

Every failure must end in exit code 1 (130 for Ctrl-C), one ``error: ...`` line
on stderr naming the input, no traceback, and a target directory exactly as it
was: still absent when it did not exist, byte for byte the same when a previous
install had filled it.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Upip, run_cli, snapshot
from tests.support.builders import evil_sdist, upip_sdist
from tests.support.catalog import catalog
from tests.support.index import Dist
from tests.support.server import IndexServer

MakeIndex = Callable[..., IndexServer]

APP_FILE = "/files/micropython-fx-app-1.0.tar.gz"
BASE_FILE = "/files/micropython-fx-base-1.1.tar.gz"


@dataclass
class Target:
    """The image directory a test installs into, and what it held before."""

    path: Path
    before: dict[str, str]

    def __str__(self) -> str:
        return str(self.path)

    def assert_unchanged(self) -> None:
        assert snapshot(self.path) == self.before
        if not self.before:
            assert not self.path.parent.exists(), "the target's parent was created"


@pytest.fixture(params=["new", "installed"])
def lib(request: pytest.FixtureRequest, tmp_path: Path, upip: Upip,
        index: IndexServer) -> Target:
    """build/lib, either absent or holding micropython-fx-base 1.0 from an earlier install."""
    path = tmp_path / "build" / "lib"
    if request.param == "installed":
        code, _, err = upip("install", "-p", str(path), "-i", index.json_url,
                            "micropython-fx-base==1.0")
        assert code == 0, err
        assert (path / "fxbase.py").is_file()
    return Target(path, snapshot(path))


def error_line(result: tuple[int, str, str], *names: str, code: int = 1) -> str:
    """Check the result is one clean error line naming ``names``; return it."""
    exit_code, _, err = result
    assert exit_code == code, err
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    for name in names:
        assert name in lines[0]
    return lines[0]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fx_dist(name: str, version: str, files: dict[str, str], **kwargs: object) -> Dist:
    return Dist(name, version, f"{name}-{version}.tar.gz", upip_sdist(name, version, files),
                **kwargs)  # type: ignore[arg-type]


# -- what the user asked for -------------------------------------------------------


def test_install_unknown_package(upip: Upip, index: IndexServer, lib: Target) -> None:
    line = error_line(upip("install", "-p", str(lib), "-i", index.json_url, "fx-nosuch"),
                      "'fx-nosuch'", "'micropython-fx-nosuch'", index.json_url)
    assert "check the spelling" in line
    lib.assert_unchanged()


def test_install_version_that_does_not_exist(upip: Upip, index: IndexServer,
                                             lib: Target) -> None:
    line = error_line(upip("install", "-p", str(lib), "-i", index.json_url,
                           "micropython-fx-base==9.9"), "micropython-fx-base==9.9")
    versions = line.split("versions found:")[1]
    assert [v.strip() for v in versions.split(",")] == ["1.0", "1.1", "1.2", "2.0", "2.1b1"]
    lib.assert_unchanged()


def test_install_malformed_spec(upip: Upip, index: IndexServer, lib: Target) -> None:
    error_line(upip("install", "-p", str(lib), "-i", index.json_url, "foo>>1"),
               "'foo>>1'", "invalid requirement")
    lib.assert_unchanged()


def test_install_nothing(upip: Upip, lib: Target) -> None:
    line = error_line(upip("install", "-p", str(lib)), "nothing to install")
    assert "-r FILE" in line
    lib.assert_unchanged()


def test_install_from_missing_requirements_file(upip: Upip, lib: Target, tmp_path: Path) -> None:
    missing = tmp_path / "requirements.txt"
    error_line(upip("install", "-p", str(lib), "-r", str(missing)), str(missing),
               "no such requirements file")
    lib.assert_unchanged()


def test_debug_shows_the_traceback(index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    proc = run_cli("install", "--debug", "-p", str(lib), "-i", index.json_url, "fx-nosuch")
    assert proc.returncode == 1
    assert "Traceback (most recent call last)" in proc.stderr
    assert "ProjectNotFound" in proc.stderr and "'micropython-fx-nosuch'" in proc.stderr
    assert not lib.exists()


# -- the network ----------------------------------------------------------------------


def test_install_from_unreachable_index(upip: Upip, lib: Target) -> None:
    url = f"http://127.0.0.1:{closed_port()}/pypi"
    error_line(upip("install", "-p", str(lib), "-i", url, "--retries", "1", "micropython-fx-app"),
               url, "connection refused")
    lib.assert_unchanged()


def test_index_answers_500(upip: Upip, index: IndexServer, lib: Target) -> None:
    index.fault("/pypi/micropython-fx-app/json", "status", 500)
    error_line(upip("install", "-p", str(lib), "-i", index.json_url, "--retries", "1",
                    "micropython-fx-app"),
               f"{index.json_url}/micropython-fx-app/json", "HTTP 500")
    assert index.requests("/pypi/micropython-fx-app/json") == ["/pypi/micropython-fx-app/json"] * 2
    lib.assert_unchanged()


def test_index_answers_500_once_then_works(upip: Upip, index: IndexServer, lib: Target) -> None:
    index.fault("/pypi/micropython-fx-app/json", "status", 500, times=1)
    code, out, err = upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app")
    assert code == 0, err
    assert "micropython-fx-app 1.0" in out
    assert len(index.requests("/pypi/micropython-fx-app/json")) == 2
    assert (lib.path / "fxbase.py").read_text().startswith('VERSION = "1.1"')


def test_archive_404(upip: Upip, index: IndexServer, lib: Target) -> None:
    index.fault(APP_FILE, "status", 404)
    error_line(upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app"),
               index.url + APP_FILE, "HTTP 404")
    lib.assert_unchanged()


@pytest.mark.parametrize("path", ["/pypi/micropython-fx-app/json", APP_FILE])
def test_server_too_slow(upip: Upip, index: IndexServer, lib: Target, path: str) -> None:
    index.fault(path, "stall", 3)
    started = time.monotonic()
    error_line(upip("install", "-p", str(lib), "-i", index.json_url, "--timeout", "0.5",
                    "--retries", "0", "micropython-fx-app"), index.url + path, "timed out")
    assert time.monotonic() - started < 2.5
    lib.assert_unchanged()


def test_index_sends_broken_json(upip: Upip, index: IndexServer, lib: Target) -> None:
    index.fault("/pypi/micropython-fx-app/json", "body", b"{not json")
    error_line(upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app"),
               f"{index.json_url}/micropython-fx-app/json", "not JSON")
    lib.assert_unchanged()


def test_server_drops_connection_mid_download(upip: Upip, index: IndexServer,
                                              lib: Target) -> None:
    index.fault(APP_FILE, "drop", 20)
    error_line(upip("install", "-p", str(lib), "-i", index.json_url, "--retries", "1",
                    "micropython-fx-app"), index.url + APP_FILE, "broke off")
    assert index.requests(APP_FILE) == [APP_FILE] * 2
    lib.assert_unchanged()


def test_server_drops_connection_once_then_works(upip: Upip, index: IndexServer,
                                                 lib: Target) -> None:
    index.fault(APP_FILE, "drop", 20, times=1)
    code, _, err = upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app")
    assert code == 0, err
    assert index.requests(APP_FILE) == [APP_FILE] * 2
    assert (lib.path / "fxapp" / "__init__.py").read_text().startswith("import fxbase")


def test_chunked_download(upip: Upip, index: IndexServer, lib: Target) -> None:
    index.fault(APP_FILE, "chunked", 37)
    code, _, err = upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app")
    assert code == 0, err
    assert (lib.path / "fxapp" / "data" / "banner.txt").read_text() == "hello\n"


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirected_download(upip: Upip, index: IndexServer, lib: Target, status: int) -> None:
    moved = index.root / "files" / "moved" / "micropython-fx-app-1.0.tar.gz"
    moved.parent.mkdir()
    shutil.copy(index.root / APP_FILE.lstrip("/"), moved)
    index.fault(APP_FILE, "redirect", (status, f"{index.url}/files/moved/{moved.name}"))
    code, _, err = upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app")
    assert code == 0, err
    assert index.requests("/files/moved/") == [f"/files/moved/{moved.name}"]
    assert (lib.path / "fxapp" / "data" / "banner.txt").read_text() == "hello\n"


# -- what the index sends ----------------------------------------------------------------


def cache_entries() -> set[str]:
    """The sha256 names in the download cache, after checking each matches its content."""
    root = Path(os.environ["XDG_CACHE_HOME"]) / "upip" / "sha256"
    names = set()
    for path in root.rglob("*") if root.exists() else []:
        if path.is_file():
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name
            names.add(path.name)
    return names


def test_archive_bytes_differ_from_index_sha256(upip: Upip, index: IndexServer,
                                                lib: Target) -> None:
    real = (index.root / BASE_FILE.lstrip("/")).read_bytes()
    other = real[:-1] + bytes([real[-1] ^ 1])  # the size the index declares, other bytes
    listed = hashlib.sha256(real).hexdigest()
    index.fault(BASE_FILE, "body", other)
    error_line(upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app"),
               "sha256 of micropython-fx-base-1.1.tar.gz", "nothing was installed")
    lib.assert_unchanged()
    assert hashlib.sha256(other).hexdigest() not in cache_entries()
    assert listed not in cache_entries()


def test_garbage_instead_of_archive(upip: Upip, index: IndexServer, lib: Target) -> None:
    """(Garbage larger than the index declares is refused by size: test_bounds.)"""
    garbage = b"\x1f\x8b garbage " * 20  # within the size the index declares
    index.fault(APP_FILE, "body", garbage)
    error_line(upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app"),
               "sha256 of micropython-fx-app-1.0.tar.gz")
    lib.assert_unchanged()
    assert hashlib.sha256(garbage).hexdigest() not in cache_entries()


def test_index_lists_wrong_sha256(upip: Upip, make_index: MakeIndex, lib: Target) -> None:
    good = fx_dist("micropython-fx-lie", "1.0", {"fxlie.py": "X = 1\n"})
    lie = Dist(good.name, good.version, good.filename, good.data,
               extra={"digests": {"sha256": "ab" * 32}})
    server = make_index([lie])
    line = error_line(upip("install", "-p", str(lib), "-i", server.json_url, "micropython-fx-lie"),
                      "sha256 of micropython-fx-lie-1.0.tar.gz", "abababababababab")
    assert good.sha256[:16] in line
    lib.assert_unchanged()
    assert good.sha256 not in cache_entries()
    assert "ab" * 32 not in cache_entries()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "gzipped-junk"])
def test_unreadable_archive_with_matching_sha256(upip: Upip, make_index: MakeIndex, lib: Target,
                                                 damage: str) -> None:
    good = fx_dist("micropython-fx-broken", "1.0", {"fxbroken.py": "X = 1\n" * 200})
    data = {"garbage": b"this is not a tar.gz\n" * 20,
            "truncated": good.data[:200],
            "gzipped-junk": gzip.compress(b"no tar headers here\n" * 40)}[damage]
    server = make_index([Dist(good.name, good.version, good.filename, data)])
    error_line(upip("install", "-p", str(lib), "-i", server.json_url, "micropython-fx-broken"),
               "micropython-fx-broken-1.0.tar.gz is not a readable distribution")
    lib.assert_unchanged()


@functools.cache
def evil(kind: str) -> Dist:
    name = "micropython-fx-evil"
    return Dist(name, "1.0", f"{name}-1.0.tar.gz", evil_sdist(name, "1.0", kind))


EVIL_MEMBERS = {
    "absolute": "/tmp/upip-evil-absolute.py",
    "dotdot": "micropython-fx-evil-1.0/../../upip-evil-dotdot.py",
    "link-outside": "micropython-fx-evil-1.0/evil/passwd.py",
    "link-escape": "micropython-fx-evil-1.0/evil/up.py",
    "hardlink": "micropython-fx-evil-1.0/evil/hard.py",
    "device": "micropython-fx-evil-1.0/evil/dev",
    "fifo": "micropython-fx-evil-1.0/evil/fifo",
    "bomb": "micropython-fx-evil-1.0/evil/bomb.bin",
}


def outside_state(tmp_path: Path) -> dict[str, str]:
    """Everything under tmp_path but the target, the indexes and the home (cache)."""
    return {p: h for p, h in snapshot(tmp_path).items()
            if not p.startswith(("build", "index", "home"))}


@pytest.mark.parametrize("kind", EVIL_MEMBERS)
def test_malicious_archive_is_refused(upip: Upip, make_index: MakeIndex, lib: Target,
                                      tmp_path: Path, kind: str) -> None:
    server = make_index([evil(kind)])
    outside = outside_state(tmp_path)
    line = error_line(upip("install", "-p", str(lib), "-i", server.json_url,
                           "micropython-fx-evil"),
                      "micropython-fx-evil-1.0.tar.gz", f"refusing member {EVIL_MEMBERS[kind]!r}")
    assert "evil" in line
    lib.assert_unchanged()
    assert outside_state(tmp_path) == outside
    assert not Path("/tmp/upip-evil-absolute.py").exists()
    for up in (tmp_path, tmp_path / "build", lib.path):
        assert not (up / "upip-evil-dotdot.py").exists()


def test_link_inside_package_is_skipped_with_warning(upip: Upip, index: IndexServer,
                                                     lib: Target) -> None:
    code, out, err = upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-links")
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1, err
    assert "fxlinks/simple.py" in warnings[0] and "symbolic link" in warnings[0]
    assert "micropython-fx-links 1.0" in out
    assert (lib.path / "fxlinks" / "robust.py").read_text() == "from fxlinks import simple\n"
    assert not os.path.lexists(lib.path / "fxlinks" / "simple.py")


# -- the local machine ----------------------------------------------------------------------


def small_file_limit(limit: int) -> None:
    """preexec_fn: files may not grow past ``limit`` bytes; writes then fail with EFBIG."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def installed_target(upip: Upip, index: IndexServer, path: Path) -> Target:
    code, _, err = upip("install", "-p", str(path), "-i", index.json_url,
                        "micropython-fx-base==1.0")
    assert code == 0, err
    return Target(path, snapshot(path))


def test_disk_full_while_staging_a_big_module(upip: Upip, make_index: MakeIndex,
                                              tmp_path: Path) -> None:
    big = fx_dist("micropython-fx-big", "1.0", {"fxbig.py": "X = 1\n" * 4000})
    server = make_index([*catalog(), big])
    lib = installed_target(upip, server, tmp_path / "lib")
    proc = run_cli("install", "--no-cache", "-p", str(lib), "-i", server.json_url,
                   "micropython-fx-big", preexec_fn=functools.partial(small_file_limit, 3000))
    error_line((proc.returncode, proc.stdout, proc.stderr), str(lib.path), "fxbig.py",
               "File too large")
    lib.assert_unchanged()


def test_disk_full_while_writing_the_journal(upip: Upip, make_index: MakeIndex,
                                             tmp_path: Path) -> None:
    # 1.0 has many files, 2.0 one: the upgrade's new records are small, its journal
    # (one line per file to delete) is not.
    name = "micropython-fx-many"
    many = {f"fxmany/a_rather_long_module_name_{i:02}.py": f"N = {i}\n" for i in range(100)}
    server = make_index([fx_dist(name, "1.0", many),
                         fx_dist(name, "2.0", {"fxmany/__init__.py": "N = 0\n"})])
    path = tmp_path / "lib"
    assert upip("install", "-p", str(path), "-i", server.json_url, f"{name}==1.0")[0] == 0
    lib = Target(path, snapshot(path))
    proc = run_cli("install", "--no-cache", "-U", "-p", str(lib), "-i", server.json_url, name,
                   preexec_fn=functools.partial(small_file_limit, 3000))
    lib.assert_unchanged()
    error_line((proc.returncode, proc.stdout, proc.stderr), str(lib.path), "File too large")


def start_install_and_press_ctrl_c(index: IndexServer, lib: Target
                                   ) -> tuple[subprocess.Popen[str], float]:
    """Run `upip install micropython-fx-app` and SIGINT it once its archive is requested."""
    # The default SIGINT disposition, as in a terminal: a suite started in the
    # background (`.ci/run &`) runs with SIGINT ignored, which children inherit,
    # and Python then installs no KeyboardInterrupt handler at all.
    child = subprocess.Popen(
        [sys.executable, "-m", "upip", "install", "-p", str(lib), "-i", index.json_url,
         "micropython-fx-app"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 20
    while not index.requests(APP_FILE) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert index.requests(APP_FILE) == [APP_FILE], "the download never started"
    child.send_signal(signal.SIGINT)
    return child, time.monotonic()


def test_ctrl_c_during_download(index: IndexServer, tmp_path: Path, upip: Upip) -> None:
    lib = installed_target(upip, index, tmp_path / "lib")
    index.fault(APP_FILE, "stall", 2)
    child, _ = start_install_and_press_ctrl_c(index, lib)
    out, err = child.communicate(timeout=30)
    line = error_line((child.returncode, out, err), "interrupted", code=130)
    assert "left as it was" in line
    lib.assert_unchanged()


def test_ctrl_c_during_stalled_download_exits_promptly(index: IndexServer, tmp_path: Path,
                                                       upip: Upip) -> None:
    lib = installed_target(upip, index, tmp_path / "lib")
    index.fault(APP_FILE, "stall", 3)
    child, pressed = start_install_and_press_ctrl_c(index, lib)
    child.communicate(timeout=30)
    assert child.returncode == 130
    assert time.monotonic() - pressed < 1.5


# -- the image -------------------------------------------------------------------------------


def test_two_packages_want_the_same_file(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app")[0] == 0
    before = Target(lib, snapshot(lib))
    error_line(upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-clash"),
               "micropython-fx-clash 1.0", "micropython-fx-base 1.1", "'fxbase.py'")
    before.assert_unchanged()


def test_hand_made_file_in_the_way(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "fxbase.py").write_text("# mine\n")
    before = Target(lib, snapshot(lib))
    line = error_line(upip("install", "-p", str(lib), "-i", index.json_url,
                           "micropython-fx-base"), str(lib / "fxbase.py"), "--force")
    assert "no installed package owns it" in line
    before.assert_unchanged()
    code, _, err = upip("install", "--force", "-p", str(lib), "-i", index.json_url,
                        "micropython-fx-base")
    assert code == 0, err
    assert (lib / "fxbase.py").read_text().startswith('VERSION = "2.0"')


def test_another_upip_is_installing(upip: Upip, index: IndexServer, lib: Target,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPIP_LOCK_WAIT", "0.3")
    stage = lib.path / ".upip-tx"
    stage.mkdir(parents=True)
    (stage / "pid").write_text(str(os.getppid()))  # a live process that is not this one
    lib.before = snapshot(lib.path)
    line = error_line(upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app"),
                      str(lib.path), "another upip")
    assert f"pid {os.getppid()}" in line
    assert snapshot(lib.path) == lib.before
