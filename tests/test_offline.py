"""Index pages kept with their validators, --offline, and upip download for a
machine without network."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Upip, snapshot
from tests.support.catalog import catalog
from tests.support.index import write_index
from tests.support.mipindex import MipPackage, write_manifest, write_mip_index
from tests.support.server import IndexServer


@pytest.fixture
def world(tmp_path: Path) -> Iterator[IndexServer]:
    root = tmp_path / "world"
    root.mkdir()
    server = IndexServer(root)
    write_index(root, catalog(), server.url)
    write_mip_index(root / "mip", [MipPackage("fxlog", "0.5", {"fxlog.py": b"L = 1\n"})])
    write_manifest(root / "widget", {"widget.py": b"import fxlog\n"}, deps=[["fxlog", ""]],
                   version="1.4")
    server.start()
    yield server
    server.stop()


def install(upip: Upip, world: IndexServer, lib: Path, *extra: str) -> tuple[int, str, str]:
    return upip("install", "-p", str(lib), "-i", world.json_url, "--mip-index",
                f"{world.url}/mip", *extra, "micropython-fx-app", "fxlog", f"{world.url}/widget")


def test_pages_are_revalidated_or_not_asked_for_while_fresh(upip: Upip, world: IndexServer,
                                                           tmp_path: Path) -> None:
    assert install(upip, world, tmp_path / "a")[0] == 0
    pages = len([p for p in world.requests() if not p.startswith(("/files/", "/mip/file/"))])
    world.log.clear()
    assert install(upip, world, tmp_path / "b")[0] == 0
    assert world.not_modified >= 3  # the JSON API pages and index.json: 304, no body
    world.max_age = 600  # as PyPI's simple pages: fresh for ten minutes
    assert install(upip, world, tmp_path / "c")[0] == 0  # (kept with the new freshness)
    world.log.clear()
    assert install(upip, world, tmp_path / "d")[0] == 0
    asked = [p for p in world.requests() if not p.startswith(("/files/", "/mip/file/"))]
    assert len(asked) < pages
    assert not [p for p in asked if p.startswith(("/pypi/", "/mip/index.json"))]
    assert snapshot(tmp_path / "d") == snapshot(tmp_path / "a")


def test_offline_with_every_index_gone(upip: Upip, world: IndexServer, tmp_path: Path) -> None:
    assert install(upip, world, tmp_path / "online")[0] == 0
    world.stop()
    code, _, err = install(upip, world, tmp_path / "offline", "--offline")
    assert code == 0, err
    assert snapshot(tmp_path / "offline") == snapshot(tmp_path / "online")
    code, _, err = upip("install", "-p", str(tmp_path / "x"), "-i", world.json_url,
                        "--no-mip-index", "--offline", "micropython-fx-old")
    assert code == 1
    assert err.strip() == (f"error: cannot reach {world.json_url}/micropython-fx-old/json: not "
                           "in the cache, and --offline asks for no network; check the URL and "
                           "your network")


def test_download_then_install_without_network(upip: Upip, world: IndexServer,
                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                               ) -> None:
    folder = tmp_path / "carry"
    code, out, err = upip("download", "-d", str(folder), "-i", world.json_url, "--mip-index",
                          f"{world.url}/mip", "micropython-fx-app", "fxlog",
                          f"{world.url}/widget")
    assert code == 0, err
    assert "Downloaded 4 packages" in out
    assert (folder / "micropython-fx-app-1.0.tar.gz").is_file()
    assert install(upip, world, tmp_path / "online")[0] == 0
    world.stop()
    # another machine: an empty cache of its own, the folder, no network
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "elsewhere"))
    code, _, err = install(upip, world, tmp_path / "there", "--find-links", str(folder),
                           "--offline")
    assert code == 0, err
    assert snapshot(tmp_path / "there") == snapshot(tmp_path / "online")
    code, _, err = upip("install", "-p", str(tmp_path / "locked"), "--lock",
                        str(folder / "pylock.toml"), "--find-links", str(folder), "--offline")
    assert code == 0, err
    assert snapshot(tmp_path / "locked") == snapshot(tmp_path / "online")
