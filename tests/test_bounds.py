"""Every request ends within its bound, in one line, the image untouched: a
server that never answers, trickles, promises a huge body or more than it
sends, answers something that is not HTTP, or redirects in a loop."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.conftest import Upip
from tests.support.server import IndexServer
from tests.test_failures import APP_FILE, error_line

JSON = "/pypi/micropython-fx-app/json"


def install(upip: Upip, index: IndexServer, lib: Path, *extra: str) -> tuple[int, str, str]:
    return upip("install", "-p", str(lib), "-i", index.json_url, "--timeout", "0.5", *extra,
                "micropython-fx-app")


@pytest.mark.parametrize("path", [JSON, APP_FILE])
def test_a_trickling_server_is_cut_off(upip: Upip, index: IndexServer, tmp_path: Path,
                                       path: str) -> None:
    """One byte every 0.1 s never trips a 0.5 s read timeout; the minimum rate does."""
    index.fault(path, "trickle", 0.1)
    started = time.monotonic()
    line = error_line(install(upip, index, tmp_path / "lib", "--retries", "0"),
                      index.url + path, "too slow")
    assert "upip needs 2048 bytes a second" in line
    assert time.monotonic() - started < 5
    assert not (tmp_path / "lib").exists()


def test_a_huge_content_length_is_refused_at_once(upip: Upip, index: IndexServer,
                                                  tmp_path: Path) -> None:
    """PyPI's JSON says how big the archive is: a larger answer is not read."""
    index.fault(APP_FILE, "length", 10 * 1024**3)
    started = time.monotonic()
    line = error_line(install(upip, index, tmp_path / "lib"), index.url + APP_FILE)
    assert "is larger than" in line and "refusing to download it" in line
    assert time.monotonic() - started < 3
    assert not (tmp_path / "lib").exists()


def test_a_500_that_promises_more_than_it_sends(upip: Upip, index: IndexServer,
                                                tmp_path: Path) -> None:
    """Was 248 s: urllib3's retries inside upip's, each waiting out a read timeout."""
    index.fault(JSON, "status", 500)
    started = time.monotonic()
    error_line(install(upip, index, tmp_path / "lib", "--retries", "3"), JSON, "HTTP 500")
    assert index.requests(JSON) == [JSON] * 4  # one retry layer: 1 + 3 requests
    assert time.monotonic() - started < 5


def test_a_body_shorter_than_its_length(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    """The server promises 100 kB more than it sends and goes quiet."""
    size = len((index.root / "files" / APP_FILE.rsplit("/", 1)[1]).read_bytes())
    index.fault(APP_FILE, "length", size + 100_000)
    started = time.monotonic()
    error_line(install(upip, index, tmp_path / "lib", "--retries", "1"), index.url + APP_FILE)
    assert time.monotonic() - started < 10
    assert not (tmp_path / "lib").exists()


def test_an_answer_that_is_not_http(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    index.fault(JSON, "raw", b"SSH-2.0-OpenSSH_9.2\r\n")
    error_line(install(upip, index, tmp_path / "lib", "--retries", "0"), JSON,
               "the server did not answer in HTTP")


def test_a_redirect_loop(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    index.fault(JSON, "redirect", (302, JSON))
    error_line(install(upip, index, tmp_path / "lib"), JSON, "it redirects in a loop")
    assert len(index.requests(JSON)) == 11  # the first request and 10 redirects, no retry


def test_a_server_that_never_answers(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    index.fault(JSON, "stall", 30)
    started = time.monotonic()
    error_line(install(upip, index, tmp_path / "lib", "--retries", "2"), JSON, "timed out")
    assert time.monotonic() - started < 4  # 3 tries of 0.5 s, under the 2 s deadline
