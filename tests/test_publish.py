"""``upip publish``: build, upload to a real pypiserver, install back from it."""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.projects import pyproject_project
from tests.support.pypiserver import free_port, pypiserver
from tests.support.server import IndexServer
from upip.authoring import project as project_mod
from upip.authoring import sdist

Upip = Callable[..., tuple[int, str, str]]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    packages = tmp_path / "packages"
    packages.mkdir()
    with pypiserver(packages, upload=True) as url:
        yield url, packages


def build(tmp_path: Path, version: str = "1.0") -> Path:
    proj = pyproject_project(tmp_path / f"proj-{version}", version=version, deps=())
    return sdist.build(project_mod.load(proj), tmp_path / "dist").path


def test_publish_uploads_and_the_package_installs_back(upip: Upip, server: tuple[str, Path],
                                                       tmp_path: Path) -> None:
    url, packages = server
    archive = build(tmp_path)
    code, out, err = upip("publish", str(archive), "--repository-url", url)
    assert code == 0, err
    assert f"Uploaded micropython-webapp 1.0 to {url}" in out
    assert (packages / archive.name).read_bytes() == archive.read_bytes()
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-q", "-p", str(lib), "--index-url", f"{url}simple",
                        "micropython-webapp==1.0")
    assert code == 0, err
    assert (lib / "webapp" / "R.py").is_file()


def test_publishing_the_same_version_twice_is_one_clear_line(upip: Upip,
                                                             server: tuple[str, Path],
                                                             tmp_path: Path) -> None:
    url, _ = server
    archive = build(tmp_path)
    assert upip("publish", "-q", str(archive), "--repository-url", url)[0] == 0
    code, out, err = upip("publish", "-q", str(archive), "--repository-url", url)
    assert code == 1 and out == ""
    assert err.startswith(f"error: {url}: upload answered HTTP 400")
    assert "already exists" in err and err.count("\n") == 1


def _tar_gz(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    # (mtime 0: the same bytes, and so the same test ids, in every process)
    return gzip.compress(buf.getvalue(), mtime=0)


@pytest.mark.parametrize(("name", "data", "expected"), [
    ("pkg-1.0.zip", b"PK", "upip publishes sdists (.tar.gz)"),
    ("pkg-1.0.tar.gz", b"not gzip", "not a readable .tar.gz"),
    ("pkg-1.0.tar.gz", _tar_gz({"pkg-1.0/pkg.py": b""}), "no PKG-INFO in the top folder"),
    ("pkg-1.0.tar.gz", _tar_gz({"a/PKG-INFO": b"", "b/x": b""}), "one top folder"),
    ("pkg-1.0.tar.gz", _tar_gz({"pkg-1.0/PKG-INFO": b"Metadata-Version: 2.1\n"}),
     "PKG-INFO has no Name or Version"),
    ("pkg-2.0.tar.gz",
     _tar_gz({"pkg-2.0/PKG-INFO": b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n"}),
     "the file name does not match PKG-INFO (pkg 1.0)"),
])
def test_bad_files_are_refused_before_any_upload(upip: Upip, server: tuple[str, Path],
                                                 tmp_path: Path, name: str, data: bytes,
                                                 expected: str) -> None:
    url, packages = server
    good = build(tmp_path)
    bad = tmp_path / name
    bad.write_bytes(data)
    code, _, err = upip("publish", str(good), str(bad), "--repository-url", url)
    assert code == 1 and err.startswith(f"error: {bad}: ") and expected in err, err
    assert err.count("\n") == 1
    assert list(packages.iterdir()) == []  # not even the good one went up


def test_missing_file_and_unreachable_index(upip: Upip, tmp_path: Path) -> None:
    code, _, err = upip("publish", str(tmp_path / "nope-1.0.tar.gz"))
    assert code == 1 and "nope-1.0.tar.gz: no such file" in err
    url = f"http://127.0.0.1:{free_port()}/"
    code, _, err = upip("publish", str(build(tmp_path)), "--repository-url", url)
    assert code == 1 and err.count("\n") == 1
    assert f"error: {url}: cannot upload ([Errno 111] Connection refused)" in err


def test_a_server_error_is_one_line(upip: Upip, tmp_path: Path,
                                    make_index: Callable[..., IndexServer]) -> None:
    """Our test server answers POST with 501: an index that does not take uploads."""
    index = make_index([])
    code, _, err = upip("publish", str(build(tmp_path)), "--repository-url", index.url + "/")
    assert code == 1 and err.count("\n") == 1 and "upload answered HTTP 501" in err, err
