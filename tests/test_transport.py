"""TLS verification, the download cache, and a real pypiserver."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
import trustme

from tests.conftest import Upip, run_cli
from tests.support.catalog import catalog
from tests.support.pypiserver import pypiserver as run_pypiserver
from tests.support.server import IndexServer


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def https_index(make_index, ca: trustme.CA) -> IndexServer:  # type: ignore[no-untyped-def]
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return make_index(ssl_context=context)  # type: ignore[no-any-return]


def test_tls_certificates_are_verified(upip: Upip, make_index, ca: trustme.CA,
                                       tmp_path: Path) -> None:
    server = https_index(make_index, ca)
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "-i", server.json_url, "--retries", "0",
                        "micropython-fx-base")
    assert code == 1
    assert "certificate verify failed" in err and server.json_url in err
    assert not lib.exists()
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    code, out, err = upip("install", "-p", str(lib), "-i", server.json_url, "--cert", str(pem),
                          "micropython-fx-base")
    assert code == 0, err
    assert "micropython-fx-base 2.0" in out


def test_warm_cache_downloads_no_archives(upip: Upip, index: IndexServer,
                                          isolated_home: Path, tmp_path: Path) -> None:
    assert upip("install", "-p", str(tmp_path / "one"), "-i", index.json_url,
                "micropython-fx-app")[0] == 0
    cached = sorted((isolated_home / ".cache" / "upip" / "sha256").rglob("*"))
    assert len([p for p in cached if p.is_file()]) == 2
    before = len(index.requests("/files/"))
    assert upip("install", "-p", str(tmp_path / "two"), "-i", index.json_url,
                "micropython-fx-app")[0] == 0
    assert len(index.requests("/files/")) == before
    assert (tmp_path / "two" / "fxbase.py").read_bytes() == (tmp_path / "one" /
                                                              "fxbase.py").read_bytes()


def test_damaged_cache_entry_is_downloaded_again(upip: Upip, index: IndexServer,
                                                 isolated_home: Path, tmp_path: Path) -> None:
    assert upip("install", "-p", str(tmp_path / "one"), "-i", index.json_url,
                "micropython-fx-base==1.0")[0] == 0
    (entry,) = [p for p in (isolated_home / ".cache" / "upip" / "sha256").rglob("*")
                if p.is_file()]
    entry.write_bytes(b"not the archive")
    before = len(index.requests("/files/"))
    code, _, err = upip("install", "-p", str(tmp_path / "two"), "-i", index.json_url,
                        "micropython-fx-base==1.0")
    assert code == 0, err
    assert len(index.requests("/files/")) == before + 1
    assert entry.read_bytes() != b"not the archive"


def test_no_cache_and_cache_dir(upip: Upip, index: IndexServer, isolated_home: Path,
                                tmp_path: Path) -> None:
    assert upip("install", "-p", str(tmp_path / "a"), "-i", index.json_url, "--no-cache",
                "micropython-fx-base")[0] == 0
    assert not (isolated_home / ".cache" / "upip").exists()
    custom = tmp_path / "mycache"
    assert upip("install", "-p", str(tmp_path / "b"), "-i", index.json_url, "--cache-dir",
                str(custom), "micropython-fx-base")[0] == 0
    # the archive, mpy-cross's verdict on its one module, and the index page
    assert sorted(p.relative_to(custom).parts[0] for p in custom.rglob("*") if p.is_file()) == [
        "mpy-check-" + version("mpy-cross"), "pages", "sha256"]


def test_unwritable_cache_is_a_warning_not_an_error(upip: Upip, index: IndexServer,
                                                    tmp_path: Path) -> None:
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("")
    code, _, err = upip("install", "-p", str(tmp_path / "lib"), "-i", index.json_url,
                        "--cache-dir", str(blocker), "micropython-fx-base")
    assert code == 0
    assert err.startswith("warning: cannot write the cache")


@pytest.fixture
def pypiserver(tmp_path: Path) -> Iterator[str]:
    packages = tmp_path / "packages"
    packages.mkdir()
    for dist in catalog():
        if not dist.yanked:  # a pypiserver directory has no way to say "yanked"
            (packages / dist.filename).write_bytes(dist.data)
    with run_pypiserver(packages) as url:
        yield f"{url}simple/"


def test_install_from_a_real_pypiserver(pypiserver: str, tmp_path: Path, micropython) -> None:
    lib = tmp_path / "lib"
    result = run_cli("install", "-p", str(lib), "--index-url", pypiserver,
                     "micropython-fx-app", "fx-std")
    assert result.returncode == 0, result.stderr
    assert "micropython-fx-base 1.1" in result.stdout
    assert "fx-wheel 1.0" in result.stdout
    run = micropython("import fxapp, fxstd; print(fxapp.run()); print(fxstd.hello('x'))", [lib])
    assert run.stdout.split("\n")[:2] == ["app 1.0 on base 1.1: 42", "hi x!"], run.stderr
