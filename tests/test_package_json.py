"""package.json manifests (third-party packages, as mip installs them): by
URL, by path, by forge shorthand (github:, gitlab:, codeberg:)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Upip, snapshot
from tests.support.mipindex import MipPackage, write_manifest, write_mip_index
from tests.support.mpy import run_micropython
from tests.support.server import IndexServer
from upip.errors import InvalidSpec
from upip.image import Image
from upip.sources.package_json import expand, join, package_name
from upip.specs import manifest_location, parse_spec, split_ref

# -- the forge shorthands, as mip maps them -------------------------------------------


@pytest.mark.parametrize(("spec", "url"), [
    ("github:org/repo", "https://raw.githubusercontent.com/org/repo/HEAD/package.json"),
    ("github:org/repo@v1.2", "https://raw.githubusercontent.com/org/repo/v1.2/package.json"),
    ("github:org/repo/sub/dir", "https://raw.githubusercontent.com/org/repo/HEAD/sub/dir/package.json"),
    ("github:org/repo/sub/x.json@dev", "https://raw.githubusercontent.com/org/repo/dev/sub/x.json"),
    ("github:org/repo/lib/mod.py", "https://raw.githubusercontent.com/org/repo/HEAD/lib/mod.py"),
    ("gitlab:org/repo", "https://gitlab.com/org/repo/-/raw/HEAD/package.json"),
    ("gitlab:org/repo/p@main", "https://gitlab.com/org/repo/-/raw/main/p/package.json"),
    ("codeberg:org/repo", "https://codeberg.org/api/v1/repos/org/repo/raw/package.json?ref=HEAD"),
    ("codeberg:org/repo/p/m.mpy@v2", "https://codeberg.org/api/v1/repos/org/repo/raw/p/m.mpy?ref=v2"),
    ("https://example.org/pkgs/foo", "https://example.org/pkgs/foo/package.json"),
    ("https://example.org/pkgs/foo/", "https://example.org/pkgs/foo/package.json"),
    ("https://example.org/foo.json@v3", "https://example.org/foo.json"),
    ("https://user@example.org/foo", "https://user@example.org/foo/package.json"),
])
def test_forge_mapping(spec: str, url: str) -> None:
    parsed = parse_spec(spec)
    assert parsed.manifest
    assert expand(parsed.url or "", parsed.ref) == url


@pytest.mark.parametrize(("location", "name"), [
    ("github:org/repo/package.json", "repo"),
    ("github:org/repo/drivers/bme280/package.json", "bme280"),
    ("https://example.org/a/foo/package.json", "foo"),
    ("https://example.org/a/foo.py", "foo"),
    ("codeberg:org/repo/sensor.mpy", "sensor"),
    ("/home/me/projects/widget/package.json", "widget"),
])
def test_a_manifest_package_is_named_after_its_folder(location: str, name: str) -> None:
    assert package_name(location) == name


@pytest.mark.parametrize(("base", "url", "joined"), [
    ("github:org/repo/package.json", "lib/a.py", "github:org/repo/lib/a.py"),
    ("github:org/repo/sub/package.json", "../b.py", "github:org/repo/b.py"),
    ("https://h/x/y/package.json", "z.py", "https://h/x/y/z.py"),
    ("https://h/x/y/package.json", "../z.py", "https://h/x/z.py"),
    ("https://h/x/package.json", "github:o/r/m.py", "github:o/r/m.py"),
    ("https://h/x/package.json", "https://other/m.py", "https://other/m.py"),
])
def test_relative_urls_join_the_unmapped_location(base: str, url: str, joined: str) -> None:
    assert join(base, url) == joined


def test_a_relative_url_keeps_the_ref() -> None:
    """As mip: a manifest at a tag fetches its files at the same tag (codeberg's
    ref is a query, which a plain URL join would drop)."""
    location, ref = split_ref("codeberg:org/repo/p@v2")
    doc = manifest_location(location)
    assert expand(join(doc, "m.py"), ref) == \
        "https://codeberg.org/api/v1/repos/org/repo/raw/p/m.py?ref=v2"


@pytest.mark.parametrize("text", ["github:org", "github:", "gitlab:/repo", "codeberg:org/"])
def test_a_forge_spec_needs_a_repository(text: str) -> None:
    with pytest.raises(InvalidSpec) as info:
        parse_spec(text)
    assert "needs" in info.value.reason and "ORG/REPO" in info.value.reason


# -- installs from manifests over HTTP --------------------------------------------------


MOD = b"def ping():\n    return 'pong'\n"


@pytest.fixture
def site(tmp_path: Path) -> IndexServer:
    """A web site with manifests (and a mip index under /mip for names)."""
    root = tmp_path / "site"
    write_mip_index(root / "mip", [MipPackage("fxlog", "0.5", {
        "fxlog.py": b"def log(x):\n    return 'fxlog ' + x\n"})])
    server = IndexServer(root).start()
    write_manifest(root / "widget", {"widget/__init__.py": b"from .core import spin\n",
                                     "widget/core.py": b"import fxlog\n\ndef spin():\n"
                                                       b"    return fxlog.log('spin')\n"},
                   deps=[["fxlog", "latest"], [f"{server.url}/helper", ""]], version="1.4")
    write_manifest(root / "helper", urls=[["helper.py", f"{server.url}/raw/helper.py"]],
                   version="0.3")
    (root / "raw").mkdir()
    (root / "raw" / "helper.py").write_bytes(b"H = 'helper'\n")
    write_manifest(root / "cyc" / "a", {"cyca.py": b"import cycb\n"},
                   deps=[[f"{server.url}/cyc/b/package.json", ""]], version="1.0")
    write_manifest(root / "cyc" / "b", {"cycb.py": b"B = 1\n"},
                   deps=[[f"{server.url}/cyc/a", ""]], version="1.0")
    write_manifest(root / "evil", {"ok.py": b"x = 1\n"}, urls=[["ok.py", "ok.py"],
                                                             ["../escape.py", "ok.py"]])
    (root / "nourls").mkdir()
    (root / "nourls" / "package.json").write_text('{"version": "1.0", "deps": []}')
    (root / "single.py").write_bytes(MOD)
    yield server
    server.stop()


def test_install_a_manifest_with_deps_by_name_and_by_url(upip: Upip, site: IndexServer,
                                                         tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    code, out, err = upip("install", "-p", str(lib), "--mip-index", f"{site.url}/mip",
                          f"{site.url}/widget")
    assert code == 0, err
    recs = Image.open(lib).records
    assert {k: r.version for k, r in recs.items()} == {"widget": "1.4", "fxlog": "0.5",
                                                      "helper": "0.3"}
    assert recs["widget"].source == f"{site.url}/widget/package.json"
    assert recs["widget"].requires == ["fxlog", f"{site.url}/helper"]
    assert recs["widget"].requested and not recs["helper"].requested
    assert "come without a hash" in err  # a package.json gives no hashes: said, not hidden
    result = run_micropython("import widget, helper; print(widget.spin(), helper.H)", [lib])
    assert result.stdout.strip() == "fxlog spin helper", result.stderr
    # again: nothing to do, and no file fetched
    site.log.clear()
    code, out, err = upip("install", "-p", str(lib), "--mip-index", f"{site.url}/mip",
                          f"{site.url}/widget")
    assert code == 0 and "Already installed" in out, err
    assert not [p for p in site.requests() if p.endswith(".py")]


def test_a_cycle_of_dependencies_ends(upip: Upip, site: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), f"{site.url}/cyc/a")
    assert code == 0, err
    assert set(Image.open(lib).records) == {"a", "b"}
    assert site.requests().count("/cyc/a/package.json") == 1
    assert run_micropython("import cyca; print(cyca.cycb.B)", [lib]).stdout.strip() == "1"


def test_a_destination_outside_the_image_is_refused(upip: Upip, site: IndexServer,
                                                    tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), f"{site.url}/single.py")[0] == 0
    before = snapshot(lib)
    code, _, err = upip("install", "-p", str(lib), f"{site.url}/evil")
    assert code == 1
    assert err.strip() == (f"error: {site.url}/evil/package.json: refusing member "
                           "'../escape.py': a destination outside the image, or one of "
                           "upip's own files")
    assert snapshot(lib) == before and not (tmp_path / "escape.py").exists()


def test_a_manifest_without_urls(upip: Upip, site: IndexServer, tmp_path: Path) -> None:
    code, _, err = upip("install", "-p", str(tmp_path / "lib"), f"{site.url}/nourls")
    assert code == 1
    assert err.strip() == (f"error: unreadable index data from {site.url}/nourls/package.json: "
                           "has neither 'urls' nor 'hashes': no files to install")


def test_a_single_file_url(upip: Upip, site: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    code, out, err = upip("install", "-p", str(lib), f"{site.url}/single.py")
    assert code == 0, err
    assert "Installed single 0" in out
    assert (lib / "single.py").read_bytes() == MOD


def test_a_missing_manifest(upip: Upip, site: IndexServer, tmp_path: Path) -> None:
    code, _, err = upip("install", "-p", str(tmp_path / "lib"), f"{site.url}/nosuch")
    assert code == 1
    assert err.strip() == (f"error: {site.url}/nosuch/package.json answered HTTP 404 not found; "
                           "try again later or check the index")


def test_a_local_manifest_folder_and_file(upip: Upip, tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    write_manifest(proj, {"proj/__init__.py": b"from . import sub\n", "proj/sub.py": MOD},
                   version="2.0")
    lib = tmp_path / "lib"
    code, _out, err = upip("install", "-p", str(lib), str(proj))
    assert code == 0, err
    assert Image.open(lib).records["proj"].version == "2.0"
    assert run_micropython("import proj; print(proj.sub.ping())", [lib]).stdout.strip() == "pong"
    code, _out, err = upip("install", "-p", str(tmp_path / "lib2"), str(proj / "package.json"))
    assert code == 0, err
    assert {k: v for k, v in snapshot(tmp_path / "lib2").items() if k != ".upip-records"} == {
        k: v for k, v in snapshot(lib).items() if k != ".upip-records"}
    assert Image.open(tmp_path / "lib2").records["proj"].wanted == [str(proj / "package.json")]
