"""Proxies and private indexes as pip users expect them: HTTP(S)_PROXY and
NO_PROXY, --proxy (with credentials), a tunnel for https checked against
--cert; credentials in an index URL or in ~/.netrc, never printed."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.conftest import Upip, run_cli
from tests.support.catalog import catalog
from tests.support.proxy import ForwardProxy
from tests.support.pypiserver import pypiserver
from tests.support.server import IndexServer


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    server = ForwardProxy().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def no_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy",
                 "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_http_proxy_from_the_environment(upip: Upip, index: IndexServer, proxy: ForwardProxy,
                                         tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    code, _, err = upip("install", "-p", str(tmp_path / "a"), "-i", index.json_url,
                        "micropython-fx-app")
    assert code == 0, err
    assert f"GET {index.json_url}/micropython-fx-app/json" in proxy.log
    assert f"GET {index.url}/files/micropython-fx-base-1.1.tar.gz" in proxy.log
    proxy.log.clear()
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    code, _, err = upip("install", "-p", str(tmp_path / "b"), "-i", index.json_url,
                        "--no-cache", "micropython-fx-app")
    assert code == 0, err
    assert proxy.log == []


def test_https_through_a_tunnel_checked_against_cert(upip: Upip, make_index,
                                                     proxy: ForwardProxy, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = make_index(ssl_context=context)
    pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(pem))
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    code, _, err = upip("install", "-p", str(tmp_path / "lib"), "-i", server.json_url,
                        "--retries", "0", "micropython-fx-base")
    assert code == 1 and "certificate verify failed" in err  # the tunnel hides nothing
    code, _, err = upip("install", "-p", str(tmp_path / "lib"), "-i", server.json_url,
                        "--cert", str(pem), "micropython-fx-base")
    assert code == 0, err
    assert f"CONNECT 127.0.0.1:{server.port}" in proxy.log


def test_a_proxy_that_wants_credentials(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    proxy = ForwardProxy(credentials=("alice", "s3cret!")).start()
    try:
        code, _, err = upip("install", "-p", str(tmp_path / "lib"), "-i", index.json_url,
                            "--proxy", proxy.url, "micropython-fx-base")
        assert code == 1
        assert "answered HTTP 407" in err and "--proxy http://USER:PASSWORD@host:port" in err
        with_user = proxy.url.replace("http://", "http://alice:s3cret%21@")
        code, _, err = upip("install", "-p", str(tmp_path / "lib"), "-i", index.json_url,
                            "--proxy", with_user, "micropython-fx-base")
        assert code == 0, err
    finally:
        proxy.stop()


@pytest.fixture
def private_index(tmp_path: Path) -> Iterator[str]:
    """A pypiserver whose every download and listing wants alice's password."""
    from passlib.apache import HtpasswdFile

    packages = tmp_path / "packages"
    packages.mkdir()
    for dist in catalog():
        if not dist.yanked:
            (packages / dist.filename).write_bytes(dist.data)
    users = HtpasswdFile(str(tmp_path / "htpasswd"), new=True)
    users.set_password("alice", "s3cret")
    users.save()
    with pypiserver(packages, htpasswd=tmp_path / "htpasswd") as url:
        yield url.replace("http://", "") + "simple/"


def test_credentials_in_the_index_url_never_printed(private_index: str, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    result = run_cli("install", "-p", str(lib), "-i", f"http://alice:s3cret@{private_index}",
                     "micropython-fx-app")
    assert result.returncode == 0, result.stderr
    records = (lib / ".upip-records").read_text()
    assert "s3cret" not in records and "alice" not in records
    wrong = run_cli("install", "-p", str(tmp_path / "other"), "-i",
                    f"http://alice:wrong@{private_index}", "micropython-fx-app")
    assert wrong.returncode == 1
    assert "wrong" not in wrong.stderr and "alice" not in wrong.stderr
    assert "answered HTTP 403; the credentials given are not allowed there" in wrong.stderr
    none = run_cli("install", "-p", str(tmp_path / "other"), "-i", f"http://{private_index}",
                   "micropython-fx-app")
    assert none.returncode == 1
    assert "answered HTTP 401; it wants credentials" in none.stderr and "~/.netrc" in none.stderr


def test_credentials_from_netrc(private_index: str, tmp_path: Path, isolated_home: Path) -> None:
    host = private_index.split("/")[0].split(":")[0]
    netrc = isolated_home / ".netrc"
    netrc.write_text(f"machine {host} login alice password s3cret\n")
    netrc.chmod(0o600)
    result = run_cli("install", "-p", str(tmp_path / "lib"), "-i", f"http://{private_index}",
                     "micropython-fx-app")
    assert result.returncode == 0, result.stderr
