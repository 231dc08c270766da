"""Installing from a mip index v2 (micropython-lib's layout), and what bare
names mean: the mip index first, then PyPI's micropython-NAME, then NAME."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Upip, snapshot
from tests.support.catalog import upip_dist
from tests.support.index import Dist
from tests.support.mipindex import MipPackage, short_hash, write_mip_index
from tests.support.mpy import run_micropython
from tests.support.server import IndexServer
from upip.image import Image

AIOFX = {"aiofx/__init__.py": b"from .core import hello\n",
         "aiofx/core.py": b"def hello():\n    return 'aiofx'\n"}


def mip_server(tmp_path: Path, packages: list[MipPackage], **kwargs: object) -> IndexServer:
    root = tmp_path / "mipsrv"
    write_mip_index(root, packages, **kwargs)  # type: ignore[arg-type]
    return IndexServer(root).start()


@pytest.fixture
def mip(tmp_path: Path) -> IndexServer:
    server = mip_server(tmp_path, [
        MipPackage("aiofx", "0.1", {**AIOFX, "aiofx/core.py": b"def hello():\n    return 0.1\n"}),
        MipPackage("aiofx", "0.2", AIOFX, mpy=True),
        MipPackage("aiofx", "1.0", {**AIOFX, "aiofx/core.py": b"def hello():\n    return 1\n"}),
        MipPackage("fxlog", "0.5", {"fxlog.py": b"def log(x):\n    return 'fxlog ' + x\n"}),
    ])
    yield server
    server.stop()


def pypi_dists() -> list[Dist]:
    return [
        upip_dist("micropython-fxlog", "9.0", {"fxlog.py": b"VERSION = 'pypi'\n"}),
        upip_dist("fxonly", "1.0", {"fxonly.py": b"X = 1\n"}, requires=("fxdep",)),
        upip_dist("fxdep", "1.0", {"fxdep.py": b"Y = 2\n"}),
        upip_dist("micropython-fxdep", "1.0", {"fxdep.py": b"Y = 'prefixed'\n"}),
        upip_dist("micropython-fxboth", "2.0", {"fxboth.py": b"Z = 'prefixed'\n"}),
        upip_dist("fxboth", "1.0", {"fxboth.py": b"Z = 'plain'\n"}),
    ]


def records(lib: Path) -> dict[str, tuple[str, str]]:
    return {k: (r.version, r.source) for k, r in Image.open(lib).records.items()}


def test_bare_name_from_the_mip_index(upip: Upip, mip: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    code, out, err = upip("install", "-p", str(lib), "--mip-index", mip.url, "aiofx")
    assert code == 0, err
    assert f"note: aiofx: aiofx from the mip index {mip.url}" in err
    assert "Installed aiofx 1.0" in out
    rec = Image.open(lib).records["aiofx"]
    doc = (mip.root / "package/py/aiofx/1.0.json").read_bytes()
    assert rec.source == f"{mip.url}/package/py/aiofx/1.0.json"
    assert rec.sha256 == hashlib.sha256(doc).hexdigest()  # the document, as the device records
    assert {f.path: f.sha256 for f in rec.files} == {  # full sha256, not the index's 8 digits
        p: hashlib.sha256((lib / p).read_bytes()).hexdigest() for p in AIOFX}
    assert run_micropython("import aiofx; print(aiofx.hello())", [lib]).stdout.strip() == "1"
    # mip's own index layout: the version's document and file/xx/hash, nothing else per package
    asked = mip.requests()
    assert "/index.json" in asked and "/package/py/aiofx/1.0.json" in asked
    assert all(p.startswith(("/index.json", "/package/py/aiofx/1.0.json", "/file/"))
               for p in asked)


@pytest.mark.parametrize(("spec", "version"), [
    ("aiofx<1", "0.2"), ("aiofx==0.1", "0.1"), ("aiofx@0.1", "0.1"), ("mip:aiofx~=0.1", "0.2"),
])
def test_ranges_resolve_against_index_json(upip: Upip, mip: IndexServer, tmp_path: Path,
                                           spec: str, version: str) -> None:
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "--mip-index", mip.url, spec)
    assert code == 0, err
    assert records(lib)["aiofx"][0] == version
    assert f"/package/py/aiofx/{version}.json" in mip.requests()


def test_mpy_takes_the_bytecode_variant(upip: Upip, mip: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "--mip-index", mip.url, "--mpy", "aiofx<1")
    assert code == 0, err
    assert "/package/6/aiofx/0.2.json" in mip.requests()
    assert sorted(p.name for p in (lib / "aiofx").iterdir()) == ["__init__.mpy", "core.mpy"]
    out = run_micropython("import aiofx; print(aiofx.hello())", [lib])
    assert out.stdout.strip() == "aiofx", out.stderr


def test_a_tampered_file_is_refused(upip: Upip, mip: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "--mip-index", mip.url, "fxlog")[0] == 0
    before = snapshot(lib)
    h = short_hash(AIOFX["aiofx/core.py"])
    mip.fault(f"/file/{h[:2]}/{h}", "body", b"def hello():\n    return 'evil'\n")
    code, _out, err = upip("install", "-p", str(lib), "--mip-index", mip.url, "aiofx==0.2")
    assert code == 1
    assert err.strip().splitlines()[-1].startswith(
        "error: sha256 of aiofx/core.py of aiofx 0.2 is ")
    assert f"the index says {h}" in err and "nothing was installed" in err
    assert snapshot(lib) == before


def test_files_come_from_the_cache_the_second_time(upip: Upip, mip: IndexServer,
                                                   tmp_path: Path) -> None:
    assert upip("install", "-p", str(tmp_path / "a"), "--mip-index", mip.url, "aiofx")[0] == 0
    mip.log.clear()
    assert upip("install", "-p", str(tmp_path / "b"), "--mip-index", mip.url, "aiofx")[0] == 0
    assert not [p for p in mip.requests() if p.startswith("/file/")]
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")


def test_a_destination_outside_the_image_is_refused(upip: Upip, tmp_path: Path) -> None:
    server = mip_server(tmp_path, [MipPackage("fxevil", "1.0", {"../evil.py": b"x = 1\n",
                                                                "fxevil.py": b"y = 2\n"})])
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "--mip-index", server.url, "fxevil")
    server.stop()
    assert code == 1
    assert "refusing member '../evil.py': a destination outside the image" in err
    assert not (tmp_path / "evil.py").exists() and not lib.exists()


def test_short_hashes_of_four_digits_and_an_index_without_index_json(
        upip: Upip, tmp_path: Path) -> None:
    server = mip_server(tmp_path, [MipPackage("fxlog", "0.5", {"fxlog.py": b"A = 1\n"})],
                        hash_len=4, index_json=False)
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "--mip-index", server.url, "fxlog")
    server.stop()
    assert code == 0, err
    assert records(lib)["fxlog"] == ("0.5", f"{server.url}/package/py/fxlog/latest.json")


def test_a_hash_too_short_to_check_is_refused(upip: Upip, tmp_path: Path) -> None:
    root = tmp_path / "mipsrv"
    write_mip_index(root, [MipPackage("fxlog", "0.5", {"fxlog.py": b"A = 1\n"})])
    doc = root / "package/py/fxlog/0.5.json"
    doc.write_text(json.dumps({"v": 1, "version": "0.5", "hashes": [["fxlog.py", "abc"]]}))
    server = IndexServer(root).start()
    code, _, err = upip("install", "-p", str(tmp_path / "lib"), "--mip-index", server.url,
                        "fxlog")
    server.stop()
    assert code == 1
    assert "the hash of 'fxlog.py' is 'abc', not 4 or more hex digits of a sha256" in err


def test_third_party_index_with_urls_and_deps(upip: Upip, tmp_path: Path) -> None:
    extra = tmp_path / "mipsrv" / "extra"
    extra.mkdir(parents=True)
    (extra / "fxextra.py").write_bytes(b"from fxlog import log\nE = log('extra')\n")
    server = mip_server(tmp_path, [
        MipPackage("fxlog", "0.5", {"fxlog.py": b"def log(x):\n    return 'fxlog ' + x\n"}),
        MipPackage("fxapp", "1.0", {"fxapp.py": b"import fxextra\nA = fxextra.E\n"},
                   urls=[["fxextra.py", "../../../extra/fxextra.py"]],
                   deps=[["fxlog", "latest"]]),
    ])
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "--mip-index", server.url, "fxapp")
    server.stop()
    assert code == 0, err
    assert "1 file(s) from" in err and "come without a hash" in err
    assert set(records(lib)) == {"fxapp", "fxlog"}
    assert Image.open(lib).records["fxapp"].requires == ["fxlog"]
    out = run_micropython("import fxapp; print(fxapp.A)", [lib])
    assert out.stdout.strip() == "fxlog extra", out.stderr


# -- what a bare name means -------------------------------------------------------


@pytest.fixture
def both(mip: IndexServer, make_index: Callable[..., IndexServer]) -> tuple[IndexServer,
                                                                            IndexServer]:
    return mip, make_index(pypi_dists())


@pytest.mark.parametrize(("spec", "key", "version"), [
    ("fxlog", "fxlog", "0.5"),  # the mip index first
    ("mip:fxlog", "fxlog", "0.5"),
    ("pypi:fxlog", None, None),  # exactly fxlog, which PyPI does not have
    ("micropython-fxlog", "micropython-fxlog", "9.0"),  # stays on PyPI
    ("fxboth", "micropython-fxboth", "2.0"),  # not on mip: micropython-NAME first
    ("pypi:fxboth", "fxboth", "1.0"),
    ("fxonly", "fxonly", "1.0"),  # then NAME
])
def test_what_a_bare_name_means(upip: Upip, both: tuple[IndexServer, IndexServer],
                                tmp_path: Path, spec: str, key: str | None,
                                version: str | None) -> None:
    mip, pypi = both
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "--mip-index", mip.url, "-i", pypi.json_url,
                        "--no-deps", spec)
    if key is None:
        assert code == 1
        assert err.strip() == (f"error: no project named 'fxlog' on PyPI {pypi.json_url}; "
                               "check the spelling or pass --index-url")
        return
    assert code == 0, err
    assert key in records(lib) and records(lib)[key][0] == version


def test_a_pypi_packages_dependencies_stay_on_pypi(upip: Upip, both: tuple[IndexServer,
                                                                          IndexServer],
                                                   tmp_path: Path) -> None:
    mip, pypi = both
    lib = tmp_path / "lib"
    # fxonly (PyPI) needs fxdep: PyPI's fxdep, not micropython-fxdep, and never the mip index
    code, _, err = upip("install", "-p", str(lib), "--mip-index", mip.url, "-i", pypi.json_url,
                        "fxonly")
    assert code == 0, err
    assert set(records(lib)) == {"fxonly", "fxdep"}
    assert (lib / "fxdep.py").read_bytes() == b"Y = 2\n"


def test_a_name_found_nowhere_names_every_place(upip: Upip, both: tuple[IndexServer,
                                                                       IndexServer],
                                                tmp_path: Path) -> None:
    mip, pypi = both
    code, _, err = upip("install", "-p", str(tmp_path / "lib"), "--mip-index", mip.url,
                        "-i", pypi.json_url, "fxnosuch")
    assert code == 1
    assert err.strip() == (
        f"error: no project named 'fxnosuch' on the mip index {mip.url}, nor "
        f"'micropython-fxnosuch' or 'fxnosuch' on PyPI {pypi.json_url}; check the spelling "
        "or pass --index-url")


def test_no_mip_index_and_the_environment(upip: Upip, both: tuple[IndexServer, IndexServer],
                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    mip, pypi = both
    lib = tmp_path / "lib"
    monkeypatch.setenv("UPIP_MIP_INDEX", mip.url)
    assert upip("install", "-p", str(lib), "-i", pypi.json_url, "--dry-run", "--json",
                "fxlog")[0] == 0
    code, _out, err = upip("install", "-p", str(lib), "-i", pypi.json_url, "--no-mip-index",
                          "fxlog")
    assert code == 0, err
    assert set(records(lib)) == {"micropython-fxlog"}
    assert "/index.json" in mip.requests()  # only from the first, environment-driven run


def test_an_index_url_that_is_a_mip_index(upip: Upip, mip: IndexServer, tmp_path: Path) -> None:
    """``-i https://micropython.org/pi/v2`` as a user types it: a mip index is
    recognised by its index.json, not taken for a PyPI JSON API."""
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "-i", mip.url, "aiofx")
    assert code == 0, err
    assert records(lib)["aiofx"][0] == "1.0"


def test_an_index_that_answers_html(upip: Upip, tmp_path: Path) -> None:
    root = tmp_path / "html"
    root.mkdir()
    (root / "index.json").write_text("<!DOCTYPE html><html>hello</html>")
    server = IndexServer(root).start()
    code, _, err = upip("install", "-p", str(tmp_path / "lib"), "--mip-index", server.url, "x")
    server.stop()
    assert code == 1
    assert err.strip() == (f"error: unreadable index data from {server.url}/index.json: not "
                           "JSON (it starts '<!DOCTYPE html>'); is this a mip index "
                           "(micropython-lib's layout)?")


def test_list_and_show_name_the_source(upip: Upip, both: tuple[IndexServer, IndexServer],
                                       tmp_path: Path) -> None:
    mip, pypi = both
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "--mip-index", mip.url, "-i", pypi.json_url,
                "aiofx", "fxboth")[0] == 0
    code, out, _ = upip("list", "-p", str(lib))
    assert code == 0
    rows = {line.split()[0]: line.split()[2:] for line in out.splitlines()[1:]}
    assert rows == {"aiofx": ["mip", mip.url], "micropython-fxboth": ["pypi", pypi.url]}
    code, out, _ = upip("show", "-p", str(lib), "aiofx")
    assert f"Source: {mip.url}/package/py/aiofx/1.0.json" in out
