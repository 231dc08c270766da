"""Index protocols: file names, the PyPI JSON API, PEP 503/691 pages, local directories."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from tests.support.catalog import catalog
from tests.support.server import IndexServer
from upip.errors import CorruptMetadata, IndexUnreachable
from upip.http import HttpClient
from upip.sources import Candidate, Kind, best_per_version, is_pure_wheel, split_filename
from upip.sources.local import DirectorySource
from upip.sources.pypi_json import PyPIJSONSource, parse_project
from upip.sources.simple import SimpleSource, parse_html_page, parse_json_page, to_candidates

SHA_A = "a" * 64
SHA_B = "b" * 64

# -- file names -----------------------------------------------------------------------


@pytest.mark.parametrize(("filename", "project", "expected"), [
    ("micropython-pystone_lowmem-3.4.2-4.tar.gz", "micropython-pystone_lowmem",
     ("3.4.2-4", "sdist")),
    ("micropython-pystone_lowmem-3.4.2-4.tar.gz", "micropython-pystone-lowmem",
     ("3.4.2-4", "sdist")),
    ("micropython-umqtt.simple-1.3.4.tar.gz", "micropython-umqtt.simple", ("1.3.4", "sdist")),
    ("micropython-umqtt.simple-1.3.4.tar.gz", "Micropython_Umqtt_Simple", ("1.3.4", "sdist")),
    ("micropython_umqtt_simple-1.3.4.tar.gz", "micropython-umqtt.simple", ("1.3.4", "sdist")),
    ("fx-std-0.3.tgz", "fx-std", ("0.3", "sdist")),
    ("fx-std-1.0rc1.tar.gz", "fx-std", ("1.0rc1", "sdist")),
    ("fx_wheel-1.0-py3-none-any.whl", "fx-wheel", ("1.0", "wheel")),
    ("fx_wheel-1.0-py2.py3-none-any.whl", "FX.Wheel", ("1.0", "wheel")),
    ("fx_wheel-1.0-2-py3-none-any.whl", "fx-wheel", ("1.0", "wheel")),  # build tag
])
def test_split_filename(filename: str, project: str, expected: tuple[str, str]) -> None:
    assert split_filename(filename, project) == expected


@pytest.mark.parametrize(("filename", "project"), [
    # other projects whose names start like ours
    ("micropython-umqtt.robust-1.0.tar.gz", "micropython-umqtt"),
    ("micropython-umqtt.simple-1.3.4.tar.gz", "micropython-umqtt.robust"),
    ("fx_wheel_extra-1.0-py3-none-any.whl", "fx-wheel"),
    ("other-1.0.tar.gz", "fx-std"),
    # non-pure wheels and wheels for Python 2 only
    ("fx_wheel-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", "fx-wheel"),
    ("fx_wheel-1.0-py3-none-win_amd64.whl", "fx-wheel"),
    ("fx_wheel-1.0-py2-none-any.whl", "fx-wheel"),
    ("fx_wheel-1.0-cp311-abi3-any.whl", "fx-wheel"),
    # not distributions
    ("fx-std-0.3.zip", "fx-std"),
    ("fx-std-0.3.tar.bz2", "fx-std"),
    ("fx-std-0.3-py3.11.egg", "fx-std"),
    ("fx-std.tar.gz", "fx-std"),
    ("not-a-wheel.whl", "not-a-wheel"),
])
def test_split_filename_rejects(filename: str, project: str) -> None:
    assert split_filename(filename, project) is None


def test_split_filename_other_project_with_hyphens() -> None:
    assert split_filename("micropython-umqtt-robust-1.0.tar.gz", "micropython-umqtt") is None


@pytest.mark.parametrize(("filename", "pure"), [
    ("fx-1.0-py3-none-any.whl", True),
    ("fx-1.0-py2.py3-none-any.whl", True),
    ("fx-1.0-py311-none-any.whl", True),
    ("fx-1.0-py2-none-any.whl", False),
    ("fx-1.0-cp311-cp311-linux_x86_64.whl", False),
    ("fx-1.0-py3-none-macosx_11_0_arm64.whl", False),
    ("fx-1.0-cp311-abi3-any.whl", False),
    ("fx-1.0.whl", False),
    ("fx-1.0.tar.gz", False),
])
def test_is_pure_wheel(filename: str, pure: bool) -> None:
    assert is_pure_wheel(filename) is pure


# -- one candidate per version ------------------------------------------------------


def cand(version: str, kind: Kind = "sdist", yanked: bool = False) -> Candidate:
    ext = ".tar.gz" if kind == "sdist" else "-py3-none-any.whl"
    filename = f"fx-{version}{ext}"
    return Candidate("fx", Version(version), version, kind, f"https://x/{filename}", filename,
                     "https://x", yanked=yanked)


def summary(cands: list[Candidate]) -> list[tuple[str, str, bool]]:
    return [(c.version_text, c.kind, c.yanked) for c in cands]


def test_best_per_version_newest_first_and_wheel_wins() -> None:
    chosen = best_per_version([cand("1.0"), cand("2.0"), cand("1.0", "wheel"), cand("1.10"),
                               cand("2.0b1")])
    assert summary(chosen) == [("2.0", "sdist", False), ("2.0b1", "sdist", False),
                               ("1.10", "sdist", False), ("1.0", "wheel", False)]


def test_best_per_version_wheel_first_in_input() -> None:
    assert summary(best_per_version([cand("1.0", "wheel"), cand("1.0")])) == [
        ("1.0", "wheel", False)]


def test_best_per_version_merges_equal_versions() -> None:
    chosen = best_per_version([cand("1.0"), cand("1.0.0", "wheel")])
    assert summary(chosen) == [("1.0.0", "wheel", False)]


def test_best_per_version_yanked_ranking() -> None:
    chosen = best_per_version([
        cand("1.0", "wheel", yanked=True), cand("1.0"),            # sdist beats a yanked wheel
        cand("2.0", "wheel", yanked=True), cand("2.0", yanked=True),  # all yanked: still wheel
        cand("3.0", yanked=True),
    ])
    assert summary(chosen) == [("3.0", "sdist", True), ("2.0", "wheel", True),
                               ("1.0", "sdist", False)]


def test_best_per_version_empty() -> None:
    assert best_per_version([]) == []


# -- PyPI JSON API ----------------------------------------------------------------------

PROJECT_URL = "https://index.example/pypi/micropython-fx/json"


def file_entry(filename: str, url: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"filename": filename, "url": url or f"https://files.example/{filename}",
            "packagetype": "bdist_wheel" if filename.endswith(".whl") else "sdist",
            "digests": {"md5": "0" * 32, "sha256": SHA_A}, "size": 123, "yanked": False,
            **extra}


def test_parse_project() -> None:
    doc = {
        "info": {"name": "micropython-fx", "version": "1.1", "requires_dist": None},
        "releases": {
            "1.0": [file_entry("micropython-fx-1.0.tar.gz", digests={"sha256": SHA_B.upper()})],
            "1.1": [file_entry("micropython-fx-1.1.tar.gz"),
                    file_entry("micropython_fx-1.1-py3-none-any.whl", size=None)],
            "1.2": [file_entry("micropython_fx-1.2-cp311-cp311-linux_x86_64.whl")],
            "2.0": [file_entry("micropython-fx-2.0.tar.gz", yanked=True)],
            "0.9": [file_entry("micropython-fx-0.9.tar.gz",
                               url="../../packages/micropython-fx-0.9.tar.gz", digests=None)],
            "0.8": [file_entry("micropython-fx-0.8.zip"), file_entry("micropython-fx-0.8.egg")],
            "0.7": [],
            "ancient-snapshot": [file_entry("micropython-fx-ancient-snapshot.tar.gz")],
            "0.1dev-r1234": [file_entry("micropython-fx-0.1dev-r1234.tar.gz")],
        },
    }
    cands = parse_project(doc, PROJECT_URL, "https://index.example/pypi")
    assert [(c.version_text, c.kind, c.yanked) for c in cands] == [
        ("2.0", "sdist", True),
        ("1.1", "wheel", False),
        ("1.0", "sdist", False),
        ("0.9", "sdist", False),
    ]
    wheel, sdist = cands[1], cands[2]
    assert wheel.filename == "micropython_fx-1.1-py3-none-any.whl"
    assert wheel.url == "https://files.example/micropython_fx-1.1-py3-none-any.whl"
    assert (wheel.sha256, wheel.size) == (SHA_A, None)
    assert (sdist.sha256, sdist.size) == (SHA_B, 123)  # lower-cased
    assert all(c.name == "micropython-fx" and c.source == "https://index.example/pypi"
               for c in cands)
    assert cands[3].url == "https://index.example/packages/micropython-fx-0.9.tar.gz"
    assert cands[3].sha256 is None


@pytest.mark.parametrize("doc", [
    [],
    "not an object",
    {"releases": {}},
    {"info": None, "releases": {}},
    {"info": {"version": "1.0"}, "releases": {}},
    {"info": {"name": "fx"}, "releases": []},
    {"info": {"name": "fx"}},
    {"info": {"name": "fx"}, "releases": {"1.0": ["fx-1.0.tar.gz"]}},
    {"info": {"name": "fx"}, "releases": {"1.0": [{"filename": "fx-1.0.tar.gz"}]}},
    {"info": {"name": "fx"}, "releases": {"1.0": [{"url": "https://x/fx-1.0.tar.gz"}]}},
])
def test_parse_project_corrupt(doc: Any) -> None:
    with pytest.raises(CorruptMetadata) as info:
        parse_project(doc, PROJECT_URL, "https://index.example/pypi")
    assert info.value.url == PROJECT_URL
    assert str(info.value).startswith(f"unreadable index data from {PROJECT_URL}: ")


# -- PEP 503 HTML pages ---------------------------------------------------------------

PAGE = "https://index.example/simple/micropython-fx/"


def test_parse_html_page_relative_links_and_hashes() -> None:
    html = f"""<!DOCTYPE html><html><body>
    <h1>Links for micropython-fx</h1>
    <a href="../../files/micropython-fx-1.0.tar.gz#sha256={SHA_A}">micropython-fx-1.0.tar.gz</a>
    <a href="/files/micropython-fx-1.1.tar.gz#md5=0123" data-yanked="">x</a><br>
    <a href="https://cdn.example/micropython_fx-1.1-py3-none-any.whl#sha256={SHA_B}"
       data-requires-python="&gt;=3">wheel</a>
    <a href="micropython-fx-1.0%2Blocal.tar.gz?x=1&amp;y=2">local</a>
    <a name="no-href">anchor without a link</a>
    </body></html>"""
    assert list(parse_html_page(html, PAGE)) == [
        ("micropython-fx-1.0.tar.gz",
         "https://index.example/files/micropython-fx-1.0.tar.gz", SHA_A, False),
        ("micropython-fx-1.1.tar.gz",
         "https://index.example/files/micropython-fx-1.1.tar.gz", None, True),
        ("micropython_fx-1.1-py3-none-any.whl",
         "https://cdn.example/micropython_fx-1.1-py3-none-any.whl", SHA_B, False),
        ("micropython-fx-1.0+local.tar.gz",
         f"{PAGE}micropython-fx-1.0%2Blocal.tar.gz?x=1&y=2", None, False),
    ]


def test_parse_html_page_base_href() -> None:
    html = """<html><head><base href="https://mirror.example/pkgs/fx/"></head><body>
    <a href="micropython-fx-1.0.tar.gz">a</a>
    <a href="../shared/micropython-fx-1.1.tar.gz" data-yanked="broken build">b</a>
    </body></html>"""
    assert list(parse_html_page(html, PAGE)) == [
        ("micropython-fx-1.0.tar.gz", "https://mirror.example/pkgs/fx/micropython-fx-1.0.tar.gz",
         None, False),
        ("micropython-fx-1.1.tar.gz",
         "https://mirror.example/pkgs/shared/micropython-fx-1.1.tar.gz", None, True),
    ]


def test_parse_html_page_relative_base_href() -> None:
    html = '<base href="../../mirror/"><a href="micropython-fx-1.0.tar.gz">a</a>'
    assert [url for _, url, _, _ in parse_html_page(html, PAGE)] == [
        "https://index.example/mirror/micropython-fx-1.0.tar.gz"]


# -- PEP 691 JSON pages -----------------------------------------------------------------


def test_parse_json_page() -> None:
    doc = {"meta": {"api-version": "1.1"}, "name": "micropython-fx", "files": [
        {"filename": "micropython-fx-1.0.tar.gz", "url": "../../files/micropython-fx-1.0.tar.gz",
         "hashes": {"sha256": SHA_A}},
        {"url": "https://cdn.example/micropython_fx-1.1-py3-none-any.whl",
         "hashes": {"md5": "0" * 32}, "yanked": "broken"},
        {"filename": "micropython-fx-1.2.tar.gz", "url": "/files/micropython-fx-1.2.tar.gz",
         "hashes": {}, "yanked": False},
    ]}
    assert list(parse_json_page(doc, PAGE)) == [
        ("micropython-fx-1.0.tar.gz",
         "https://index.example/files/micropython-fx-1.0.tar.gz", SHA_A, False),
        ("micropython_fx-1.1-py3-none-any.whl",
         "https://cdn.example/micropython_fx-1.1-py3-none-any.whl", None, True),
        ("micropython-fx-1.2.tar.gz",
         "https://index.example/files/micropython-fx-1.2.tar.gz", None, False),
    ]


@pytest.mark.parametrize("doc", [
    [], {"name": "fx"}, {"files": {}}, {"files": ["fx-1.0.tar.gz"]},
    {"files": [{"filename": "fx-1.0.tar.gz"}]},
])
def test_parse_json_page_corrupt(doc: Any) -> None:
    with pytest.raises(CorruptMetadata) as info:
        list(parse_json_page(doc, PAGE))
    assert info.value.url == PAGE


def test_to_candidates() -> None:
    links = [
        ("micropython-fx-1.0.tar.gz", "https://x/micropython-fx-1.0.tar.gz", SHA_A.upper(), False),
        ("micropython_fx-1.0-py3-none-any.whl", "https://x/w1.whl", SHA_B, False),
        ("micropython-fx-2.0.tar.gz", "https://x/micropython-fx-2.0.tar.gz", None, True),
        ("micropython_fx-3.0-cp311-cp311-linux_x86_64.whl", "https://x/native.whl", None, False),
        ("micropython-fx-extra-9.0.tar.gz", "https://x/other.tar.gz", None, False),
        ("micropython-fx-nightly.tar.gz", "https://x/nightly.tar.gz", None, False),
        ("micropython-fx-4.0.zip", "https://x/zip.zip", None, False),
    ]
    cands = to_candidates("micropython-fx", links, "https://x/simple")
    assert [(c.version_text, c.kind, c.url, c.sha256, c.yanked) for c in cands] == [
        ("2.0", "sdist", "https://x/micropython-fx-2.0.tar.gz", None, True),
        ("1.0", "wheel", "https://x/w1.whl", SHA_B, False),
    ]
    assert {c.source for c in cands} == {"https://x/simple"}


# -- local directories ------------------------------------------------------------------


@pytest.fixture
def find_links(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    for name in ["micropython-fx-1.0.tar.gz", "micropython_fx-1.0-py3-none-any.whl",
                 "micropython-fx-1.1.tar.gz", "micropython-fx-2.0.zip",
                 "micropython-fx.extra-5.0.tar.gz", "micropython_fx-6.0-cp311-cp311-win32.whl",
                 "notes.txt"]:
        (folder / name).write_bytes(b"not read")
    (folder / "micropython-fx-3.0.tar.gz").mkdir()  # a folder, not an archive
    return folder


def test_directory_source(find_links: Path) -> None:
    source = DirectorySource(find_links)
    assert source.location == str(find_links)
    cands = source.candidates("Micropython_FX")
    assert cands is not None
    assert [(c.version_text, c.kind, c.url, c.source) for c in cands] == [
        ("1.1", "sdist", str(find_links / "micropython-fx-1.1.tar.gz"), str(find_links)),
        ("1.0", "wheel", str(find_links / "micropython_fx-1.0-py3-none-any.whl"), str(find_links)),
    ]
    assert cands[0].name == "Micropython_FX"
    extra = source.candidates("micropython-fx-extra")
    assert extra is not None
    assert [(c.version_text, c.filename) for c in extra] == [
        ("5.0", "micropython-fx.extra-5.0.tar.gz")]


def test_directory_source_unknown_project(find_links: Path) -> None:
    assert DirectorySource(find_links).candidates("micropython-nothing") is None


def test_directory_source_missing_directory(tmp_path: Path) -> None:
    source = DirectorySource(tmp_path / "no-such-dir")
    with pytest.raises(IndexUnreachable) as info:
        source.candidates("micropython-fx")
    assert info.value.url == str(tmp_path / "no-such-dir")
    assert "No such file or directory" in str(info.value)


def test_directory_source_not_a_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(IndexUnreachable) as info:
        DirectorySource(tmp_path / "file").candidates("micropython-fx")
    assert info.value.url == str(tmp_path / "file")
    assert "Not a directory" in info.value.reason


# -- over real HTTP -------------------------------------------------------------------

MakeIndex = Callable[..., IndexServer]


def served(cands: list[Candidate] | None) -> list[tuple[str, str, str, str | None, bool]]:
    assert cands is not None
    return [(c.version_text, c.kind, c.url, c.sha256, c.yanked) for c in cands]


def test_pypi_json_over_http(make_index: MakeIndex) -> None:
    server = make_index()
    source = PyPIJSONSource(server.json_url, HttpClient())
    sha = {d.filename: d.sha256 for d in catalog()}
    files = f"{server.url}/files"
    base = "micropython-fx-base"
    assert served(source.candidates(base)) == [
        ("2.1b1", "sdist", f"{files}/{base}-2.1b1.tar.gz", sha[f"{base}-2.1b1.tar.gz"], False),
        ("2.0", "sdist", f"{files}/{base}-2.0.tar.gz", sha[f"{base}-2.0.tar.gz"], False),
        ("1.2", "sdist", f"{files}/{base}-1.2.tar.gz", sha[f"{base}-1.2.tar.gz"], True),
        ("1.1", "sdist", f"{files}/{base}-1.1.tar.gz", sha[f"{base}-1.1.tar.gz"], False),
        ("1.0", "sdist", f"{files}/{base}-1.0.tar.gz", sha[f"{base}-1.0.tar.gz"], False),
    ]
    wheel = source.candidates("FX_Wheel")
    assert served(wheel) == [("1.0", "wheel", f"{files}/fx_wheel-1.0-py3-none-any.whl",
                              sha["fx_wheel-1.0-py3-none-any.whl"], False)]
    assert server.requests("/pypi/") == [f"/pypi/{base}/json", "/pypi/FX_Wheel/json"]


def test_unknown_project_is_none(make_index: MakeIndex) -> None:
    server = make_index()
    http = HttpClient()
    assert PyPIJSONSource(server.json_url, http).candidates("micropython-nothing") is None
    assert SimpleSource(server.simple_url, http).candidates("micropython-nothing") is None


def test_pypi_json_not_json(make_index: MakeIndex) -> None:
    server = make_index()
    server.fault("/pypi/micropython-fx-base/json", "body", b"<html>maintenance</html>")
    with pytest.raises(CorruptMetadata) as info:
        PyPIJSONSource(server.json_url, HttpClient()).candidates("micropython-fx-base")
    assert info.value.url == f"{server.json_url}/micropython-fx-base/json"


@pytest.mark.parametrize("project", ["micropython-fx-base", "fx-wheel", "fx-std",
                                     "micropython-fx-links"])
def test_simple_json_html_and_pypi_json_agree(make_index: MakeIndex, project: str) -> None:
    server = make_index()
    # A static copy of the simple tree (as `python -m http.server` would serve it):
    # no content negotiation, so the client gets the PEP 503 HTML page.
    (server.root / "static").symlink_to(server.root / "simple")
    http = HttpClient()
    from_json = served(SimpleSource(server.simple_url, http).candidates(project))
    from_html = served(SimpleSource(f"{server.url}/static", http).candidates(project))
    from_api = served(PyPIJSONSource(server.json_url, http).candidates(project))
    assert from_json == from_html == from_api
    assert from_json  # not vacuous
    assert server.requests("/simple/") == [f"/simple/{project}/"]
    assert server.requests("/static/") == [f"/static/{project}/"]


def test_simple_html_after_redirect_joins_against_final_url(make_index: MakeIndex) -> None:
    server = make_index()
    page = server.root / "mirror" / "deep" / "micropython-fx-base" / "index.html"
    page.parent.mkdir(parents=True)
    page.write_text('<a href="../../files/micropython-fx-base-1.0.tar.gz">x</a>\n')
    server.fault("/simple/micropython-fx-base/", "redirect",
                 (302, "/mirror/deep/micropython-fx-base/"))
    cands = SimpleSource(server.simple_url, HttpClient()).candidates("micropython-fx-base")
    assert served(cands) == [
        ("1.0", "sdist", f"{server.url}/mirror/files/micropython-fx-base-1.0.tar.gz", None, False)]


def test_simple_json_after_redirect_joins_against_final_url(make_index: MakeIndex) -> None:
    server = make_index()
    page = server.root / "mirror" / "deep" / "micropython-fx-base" / "index.json"
    page.parent.mkdir(parents=True)
    page.write_text(json.dumps({"meta": {"api-version": "1.0"}, "name": "micropython-fx-base",
                                "files": [{"filename": "micropython-fx-base-1.0.tar.gz",
                                           "url": "../../files/micropython-fx-base-1.0.tar.gz",
                                           "hashes": {}}]}))
    server.fault("/simple/micropython-fx-base/", "redirect",
                 (302, "/mirror/deep/micropython-fx-base/index.json"))
    cands = SimpleSource(server.simple_url, HttpClient()).candidates("micropython-fx-base")
    assert served(cands) == [
        ("1.0", "sdist", f"{server.url}/mirror/files/micropython-fx-base-1.0.tar.gz", None, False)]
