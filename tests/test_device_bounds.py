"""The device client against servers that misbehave: every request ends in one
line within its bound (DESIGN.md, "Bounds on the network": each wait at most
--timeout, 2048 bytes a second once a body has had that long, a request within
4 x --timeout plus size / 2048 B/s for a file, a body at most the size PyPI
declares), the image untouched; and the Host header names the port."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import snapshot
from tests.support.device import Device, error_line
from tests.support.server import IndexServer

JSON = "/pypi/micropython-fx-app/json"
APP = "/files/micropython-fx-app-1.0.tar.gz"


def install(dev: Device, lib: Path, index: IndexServer, *args: str) -> tuple[str, float]:
    """A device install of fx-app with a 0.5 s timeout: (its one error line, seconds)."""
    started = time.monotonic()
    result = dev.upip("install", "-p", str(lib), "-i", index.json_url, "--no-mip-index",
                      "--timeout", "0.5", *args, "micropython-fx-app")
    return error_line(result), time.monotonic() - started


@pytest.fixture
def lib(device: Device, index: IndexServer, tmp_path: Path) -> Path:
    """An image holding fx-base 1.0 (which fx-app would upgrade)."""
    lib = tmp_path / "lib"
    result = device.upip("install", "-p", str(lib), "-i", index.json_url, "--no-mip-index",
                         "micropython-fx-base==1.0")
    assert result.returncode == 0, result.stdout
    return lib


@pytest.mark.parametrize("path", [JSON, APP])
def test_a_server_that_never_answers(device: Device, index: IndexServer, lib: Path,
                                     path: str) -> None:
    before = snapshot(lib)
    index.fault(path, "stall", 30)
    line, seconds = install(device, lib, index)
    assert line == f"error: micropython-fx-app: {index.url}{path}: timed out"
    assert seconds < 5  # 0.5 s without a byte
    assert snapshot(lib) == before


@pytest.mark.parametrize("path", [JSON, APP])
def test_a_trickling_server_is_cut_off(device: Device, index: IndexServer, lib: Path,
                                       path: str) -> None:
    """A byte every 0.1 s never trips the 0.5 s wait; the minimum rate (the
    deadline, for the JSON) does."""
    before = snapshot(lib)
    index.fault(path, "trickle", 0.1)
    line, seconds = install(device, lib, index)
    assert line.startswith(f"error: micropython-fx-app: {index.url}{path}: too slow: ")
    assert line.endswith(" (upip needs 2048 bytes a second)")
    assert seconds < 6
    assert snapshot(lib) == before


@pytest.mark.parametrize(("path", "limit"), [(APP, "the size PyPI declares"),
                                             (JSON, "64 MiB")])
def test_a_huge_content_length_is_refused_at_once(device: Device, index: IndexServer,
                                                  lib: Path, path: str, limit: str) -> None:
    """Was: 456 MB written into the stage in 8 s, until the server stopped."""
    before = snapshot(lib)
    index.fault(path, "length", 10 * 1024**3)
    line, seconds = install(device, lib, index)
    size = len((index.root / "files" / APP.rsplit("/", 1)[1]).read_bytes())
    most = size if path == APP else 64 * 1024 * 1024
    assert line == (f"error: micropython-fx-app: {index.url}{path} is larger than {most} "
                    "bytes; refusing to download it"), limit
    assert seconds < 3
    assert snapshot(lib) == before


def test_a_body_longer_than_declared_is_refused(device: Device, index: IndexServer,
                                                lib: Path) -> None:
    """No Content-Length (chunked): the bytes past PyPI's size are refused."""
    before = snapshot(lib)
    archive = index.root / "files" / APP.rsplit("/", 1)[1]
    body = archive.read_bytes()
    archive.write_bytes(body + b"\0" * 1000)  # (the JSON still says len(body))
    index.fault(APP, "chunked", 100)
    line, _ = install(device, lib, index)
    assert line == (f"error: micropython-fx-app: {index.url}{APP} is larger than {len(body)} "
                    "bytes; refusing to download it")
    assert snapshot(lib) == before


def test_a_body_shorter_than_its_length(device: Device, index: IndexServer, lib: Path) -> None:
    """The server promises 100 kB more than it sends and goes quiet."""
    before = snapshot(lib)
    size = len((index.root / "files" / APP.rsplit("/", 1)[1]).read_bytes())
    index.fault(APP, "length", size + 100_000)
    line, seconds = install(device, lib, index)
    assert line in (f"error: micropython-fx-app: {index.url}{APP}: timed out",
                    f"error: micropython-fx-app: {index.url}{APP} is larger than {size} "
                    "bytes; refusing to download it")
    assert seconds < 5
    assert snapshot(lib) == before


@pytest.mark.parametrize("reply", [b"SSH-2.0-OpenSSH_9.2\r\n", b"HTTP/1.1 abc\r\n\r\n",
                                   b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                                   b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                                   b"\xff\xfe\r\n\r\n"])
def test_an_answer_that_is_not_http(device: Device, index: IndexServer, lib: Path,
                                    reply: bytes) -> None:
    """Was: ValueError: invalid syntax for integer."""
    before = snapshot(lib)
    index.fault(JSON, "raw", reply)
    line, _ = install(device, lib, index)
    assert line == (f"error: micropython-fx-app: {index.url}{JSON}: the server did not "
                    "answer in HTTP")
    assert snapshot(lib) == before


def test_a_redirect_loop(device: Device, index: IndexServer, lib: Path) -> None:
    before = snapshot(lib)
    index.fault(JSON, "redirect", (302, JSON))
    line, _ = install(device, lib, index)
    assert line == (f"error: micropython-fx-app: {index.url}{JSON}: too many redirects "
                    "(it redirects in a loop)")
    assert len(index.requests(JSON)) == 6  # the first request and 5 redirects
    assert snapshot(lib) == before


def test_host_header_names_the_port(device: Device, index: IndexServer, lib: Path) -> None:
    """RFC 9110 7.2: a server on a port other than the scheme's default is asked
    for as host:port (was: 127.0.0.1 alone)."""
    assert index.hosts and set(index.hosts) == {f"127.0.0.1:{index.port}"}
