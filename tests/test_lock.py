"""upip lock (PEP 751 pylock.toml) and install --lock: the image it tested,
byte for byte, from every kind of source, every hash checked."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging.pylock import Pylock

from tests.conftest import Upip, snapshot
from tests.support.builders import wheel, wheel_filename
from tests.support.catalog import catalog, upip_dist
from tests.support.index import Dist, write_index
from tests.support.mipindex import MipPackage, write_manifest, write_mip_index
from tests.support.server import IndexServer

LOG = b"def log(x):\n    return 'fxlog ' + x\n"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[IndexServer]:
    """One server: a PyPI JSON API (sdists and a wheel), a mip index under
    /mip and a package.json under /widget."""
    root = tmp_path / "world"
    root.mkdir()
    server = IndexServer(root)
    dists = [*catalog(),
             upip_dist("micropython-pystone_lowmem", "3.4.2-4", {"pystone_lowmem.py": b"P = 1\n"}),
             Dist("fxwhl", "1.0", wheel_filename("fxwhl", "1.0"),
                  wheel("fxwhl", "1.0", {"fxwhl.py": b"W = 1\n"}))]
    write_index(root, dists, server.url)
    write_mip_index(root / "mip", [MipPackage("fxlog", "0.5", {"fxlog.py": LOG}, mpy=True)])
    write_manifest(root / "widget", {"widget.py": b"import fxlog\n"}, deps=[["fxlog", ""]],
                   version="1.4")
    server.start()
    yield server
    server.stop()


SPECS = ("micropython-fx-app", "micropython-pystone_lowmem", "pypi:fxwhl")


def lock_args(world: IndexServer, out: Path, *extra: str) -> list[str]:
    return ["lock", "-o", str(out), "-i", world.json_url, "--mip-index", f"{world.url}/mip",
            *extra, *SPECS, f"{world.url}/widget"]


def test_lock_round_trip(upip: Upip, world: IndexServer, tmp_path: Path) -> None:
    out = tmp_path / "pylock.toml"
    code, stdout, err = upip(*lock_args(world, out))
    assert code == 0, err
    assert stdout.strip() == f"Wrote {out}: 6 packages for generic"
    data = tomllib.loads(out.read_text())
    Pylock.from_dict(data)  # a valid PEP 751 lock
    by_name = {p["name"]: p for p in data["packages"]}
    assert set(by_name) == {"micropython-fx-app", "micropython-fx-base", "fxwhl", "fxlog",
                            "widget", "micropython-pystone-lowmem"}
    assert by_name["fxwhl"]["wheels"][0]["name"] == "fxwhl-1.0-py3-none-any.whl"
    assert by_name["micropython-fx-base"]["sdist"]["hashes"]["sha256"]
    assert "archive" in by_name["micropython-pystone-lowmem"]  # 3.4.2-4: no PEP 625 name
    fxlog = by_name["fxlog"]["tool"]["upip"]
    assert fxlog["kind"] == "mip" and fxlog["files"][0]["path"] == "fxlog.py"
    assert len(fxlog["files"][0]["sha256"]) == 64  # the full sha256, not the index's 8 digits
    # the image from the lock is the image from the specs
    direct, locked = tmp_path / "direct", tmp_path / "locked"
    assert upip("install", "-p", str(direct), "-i", world.json_url, "--mip-index",
                f"{world.url}/mip", *SPECS, f"{world.url}/widget")[0] == 0
    world.log.clear()
    code, _, err = upip("install", "-p", str(locked), "--lock", str(out))
    assert code == 0, err
    assert snapshot(locked) == snapshot(direct)
    assert not [p for p in world.requests() if p.endswith(("/json", "index.json"))]  # no resolving


def test_the_same_inputs_give_the_same_bytes(upip: Upip, world: IndexServer,
                                             tmp_path: Path) -> None:
    first, second = tmp_path / "a.toml", tmp_path / "b.toml"
    assert upip(*lock_args(world, first))[0] == 0
    assert upip(*lock_args(world, second, "--no-cache"))[0] == 0
    assert first.read_bytes() == second.read_bytes()


def test_a_tampered_file_is_refused(upip: Upip, world: IndexServer, tmp_path: Path) -> None:
    out = tmp_path / "pylock.toml"
    assert upip(*lock_args(world, out))[0] == 0
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "-i", world.json_url, "micropython-fx-base==1.0")[0] == 0
    before = snapshot(lib)
    world.fault("/widget/widget.py", "body", b"import os\nos.remove('/main.py')\n")
    code, _, err = upip("install", "-p", str(lib), "--no-cache", "--lock", str(out))
    assert code == 1
    assert err.strip().startswith("error: sha256 of widget.py of widget 1.4 is ")
    assert snapshot(lib) == before


def test_mpy_and_target_are_locked(upip: Upip, world: IndexServer, tmp_path: Path) -> None:
    out = tmp_path / "pylock.toml"
    assert upip(*lock_args(world, out, "--mpy=1.22", "--target", "rp2-1.24"))[0] == 0
    tool = tomllib.loads(out.read_text())["tool"]["upip"]
    assert (tool["target"], tool["mpy"]) == ("rp2-1.24", "6.2")
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "--lock", str(out))
    assert code == 0, err
    assert (lib / "fxbase.mpy").exists() and not (lib / "fxbase.py").exists()
    code, _, err = upip("install", "-p", str(tmp_path / "other"), "--lock", str(out),
                        "--target", "esp32-1.24")
    assert code == 1
    assert err.strip() == (f"error: {out}: locked for the target rp2-1.24, not esp32-1.24; "
                           "install it with --target rp2-1.24 or lock again")
    assert not (tmp_path / "other").exists()


def test_a_lock_that_is_not_pep_751(upip: Upip, tmp_path: Path) -> None:
    bad = tmp_path / "pylock.toml"
    bad.write_text('lock-version = "1.0"\n[[packages]]\nname = "Not_Normalized"\n')
    code, _, err = upip("install", "-p", str(tmp_path / "lib"), "--lock", str(bad))
    assert code == 1
    assert err.startswith(f"error: {bad}: not a PEP 751 lock (")
    assert not (tmp_path / "lib").exists()


def test_a_package_the_index_no_longer_has(upip: Upip, world: IndexServer,
                                           tmp_path: Path) -> None:
    out = tmp_path / "pylock.toml"
    assert upip(*lock_args(world, out))[0] == 0
    (world.root / "files" / "fxwhl-1.0-py3-none-any.whl").unlink()
    code, _, err = upip("install", "-p", str(tmp_path / "lib"), "--no-cache", "--lock", str(out))
    assert code == 1
    assert err.strip() == (f"error: {world.url}/files/fxwhl-1.0-py3-none-any.whl answered "
                           "HTTP 404 Not Found; try again later or check the index")
    assert not (tmp_path / "lib").exists()
