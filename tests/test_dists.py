"""Reading distributions (upip sdists, standard sdists, wheels, project folders) into
the files an install puts in the image."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from tests.support.builders import (
    file_info,
    gzip_4k,
    pkg_info,
    special_info,
    standard_sdist,
    tar_bytes,
    upip_sdist,
    wheel,
)
from upip.dists import (
    parse_metadata,
    parse_requires_txt,
    read_distribution,
    read_project,
    select_upip_format,
)
from upip.errors import CorruptArchive, ProjectError

# -- metadata ------------------------------------------------------------------------------


def _reference(text: bytes) -> tuple[str | None, str | None, list[str]]:
    """What packaging's parse_email makes of the three fields upip reads."""
    from packaging.metadata import parse_email

    raw, _ = parse_email(text)
    name, version = raw.get("name"), raw.get("version")
    return (name if isinstance(name, str) else None,
            version if isinstance(version, str) else None, list(raw.get("requires_dist") or []))


METADATA_SAMPLES = [
    b"Metadata-Version: 1.0\nName: micropython-fx\nVersion: 1.0\n",
    b"Metadata-Version: 2.1\r\nName: fx\r\nVersion: 2.0\r\nRequires-Dist: a>=1\r\n"
    b"Requires-Dist: b; extra == 'x'\r\n\r\nbody: not a header\r\n",
    b"name:fx\nVERSION:\t 3\nrequires-dist: a\n  (>=1)\n\tmore\nSummary: x\n",
    b"Name: fx\nName: fy\nVersion: 1\n",
    b"Name: fx\nVersion: 1\nno colon here\nRequires-Dist: a\n",
    b"From someone\nName: fx\nVersion: 1\n",
    b" leading continuation\nName: fx\nVersion: 1\n",
    b"Name: fx\n: no name\nVersion: 1\n  cont\n",
    "Name: f\u00e9\nVersion: 1\nAuthor: J\u00f6rg\n".encode(),
    "Name: fx\nVersion: 1\nAuthor: J\u00f6rg\nRequires-Dist: a\n\n\u00e9t\u00e9".encode(),
    b"Name: fx\nVersion: 1\nRequires-Dist: =?utf-8?q?a?=\n",
    b"Name : fx\nVersion:1\rRequires-Dist: a\r\rName: body\n",
    b"Name: fx\nVersion: 1\nRequires-Dist: a\x0bb\x0cc\n",
    b"Name: fx\nVersion: 1",
    b"\nName: fx\n",
    b"",
]


@pytest.mark.parametrize("text", METADATA_SAMPLES)
def test_metadata_as_packaging_reads_it(text: bytes) -> None:
    assert parse_metadata(text, "PKG-INFO") == _reference(text)


def test_metadata_as_packaging_reads_it_fuzzed() -> None:
    import random

    rng = random.Random(7)
    pieces = [b"Name: fx", b"name:fy", b"Version: 1.0", b"VERSION:2", b"Requires-Dist: a>=1",
              b"requires-dist:b ; python_version < '3'", b" folded", b"\tfolded", b"",
              b"Summary: s", b"From x", b": bad", b"bad line", "Author: \u00e9".encode(),
              b"X-Thing: y", b"Name:\x00odd"]
    for _ in range(3000):
        lines = [rng.choice(pieces) for _ in range(rng.randint(0, 8))]
        end = rng.choice([b"\n", b"\r\n", b"\r"])
        text = end.join(lines) + rng.choice([b"", end])
        assert parse_metadata(text, "PKG-INFO") == _reference(text), text


# -- upip-format sdists -----------------------------------------------------------------


def test_upip_sdist() -> None:
    name = "micropython-fx-app"
    data = upip_sdist(name, "1.0", {
        "fxapp/__init__.py": "import fxbase\n",
        "fxapp/data/banner.txt": "hello\n",
        "fxapp/__pycache__/__init__.cpython-311.pyc": b"\x00junk",
        "fxtool.py": "TOOL = 1\n",
        "PKG-INFO": pkg_info(name, "1.0"),
        "README": "read me\n",
        "README.md": "# read me\n",
        "micropython_fx_app.egg-info/SOURCES.txt": "fxapp/__init__.py\n",
        "micropython_fx_app.egg-info/dependency_links.txt": "\n",
        "micropython_fx_app.egg-info/top_level.txt": "fxapp\n",
    }, requires=["micropython-fx-base>=1.1,<2", "micropython-logging"])
    dist = read_distribution(f"{name}-1.0.tar.gz", data)
    assert (dist.name, dist.version, dist.kind) == (name, "1.0", "upip-sdist")
    assert dist.requires == ["micropython-fx-base>=1.1,<2", "micropython-logging"]
    assert dist.files == {
        "fxapp/__init__.py": b"import fxbase\n",
        "fxapp/data/banner.txt": b"hello\n",
        "fxtool.py": b"TOOL = 1\n",
    }
    assert dist.skipped == []


def test_old_upip_skip_rule() -> None:
    paths = ["setup.py", "setup.cfg", "PKG-INFO", "README", "README.rst",
             "fx.egg-info/PKG-INFO", "fx.egg-info/requires.txt", "fx/__init__.py",
             "fx/setup.py", "fx/README.txt", "fx/__pycache__/a.cpython-311.pyc", "fx/b.pyc",
             "fx.py", "LICENSE"]
    assert select_upip_format(paths) == [
        "fx/__init__.py", "fx/setup.py", "fx/README.txt", "fx.py", "LICENSE"]


def test_upip_sdist_4k_window_with_a_large_module() -> None:
    # Far more than 4 KiB, with repeats further apart than the window.
    chunk = "".join(f"NAME_{i} = {i * 7919 % 100003}\n" for i in range(400))
    body = (chunk * 6).encode()
    data = upip_sdist("micropython-fx-big", "2.0", {"fxbig.py": body})
    assert data[:2] == b"\x1f\x8b"
    dist = read_distribution("micropython-fx-big-2.0.tar.gz", data)
    assert dist.files == {"fxbig.py": body}
    assert (dist.name, dist.version, dist.requires) == ("micropython-fx-big", "2.0", [])


def test_upip_sdist_with_in_package_symlink() -> None:
    name, top = "micropython-fx-links", "micropython-fx-links-1.0"
    data = upip_sdist(name, "1.0", {"fxlinks/robust.py": "from fxlinks import simple\n"}, extra=[
        special_info(f"{top}/fxlinks/simple.py", tarfile.SYMTYPE,
                     "../../fx-simple/fxlinks/simple.py")])
    dist = read_distribution(f"{top}.tar.gz", data)
    assert dist.kind == "upip-sdist"
    assert dist.files == {"fxlinks/robust.py": b"from fxlinks import simple\n"}
    assert dist.skipped == [
        ("fxlinks/simple.py", "symbolic link to ../../fx-simple/fxlinks/simple.py")]


def umqtt_robust_1_0() -> bytes:
    """The shape of micropython-umqtt.robust 1.0 on PyPI: an upip sdist that still has
    setup.py and a full egg-info, and an in-package symlink to a sibling project."""
    name, top = "micropython-umqtt.robust", "micropython-umqtt.robust-1.0"
    egg = f"{top}/micropython_umqtt.robust.egg-info"
    meta = pkg_info(name, "1.0").encode()
    return gzip_4k(tar_bytes([
        file_info(f"{top}/PKG-INFO", meta),
        file_info(f"{top}/setup.py", b"import sys\nsys.path.pop(0)\nfrom setuptools import setup\n"),
        file_info(f"{top}/README.rst", b"umqtt.robust\n"),
        file_info(f"{egg}/PKG-INFO", meta),
        file_info(f"{egg}/SOURCES.txt", b"setup.py\numqtt/robust.py\n"),
        file_info(f"{egg}/dependency_links.txt", b"\n"),
        file_info(f"{egg}/requires.txt", b"micropython-umqtt.simple\n"),
        file_info(f"{egg}/top_level.txt", b"umqtt\n"),
        file_info(f"{top}/umqtt/robust.py", b"import utime\nfrom . import simple\n"),
        special_info(f"{top}/umqtt/simple.py", tarfile.SYMTYPE,
                     "../../umqtt.simple/umqtt/simple.py"),
    ]))


def test_umqtt_robust_1_0_shape() -> None:
    dist = read_distribution("micropython-umqtt.robust-1.0.tar.gz", umqtt_robust_1_0())
    assert (dist.name, dist.version) == ("micropython-umqtt.robust", "1.0")
    assert dist.requires == ["micropython-umqtt.simple"]
    assert dist.files == {"umqtt/robust.py": b"import utime\nfrom . import simple\n"}
    assert "umqtt/simple.py" not in dist.files  # never an empty file over the real one
    assert dist.skipped == [("umqtt/simple.py", "symbolic link to ../../umqtt.simple/umqtt/simple.py")]


def test_link_outside_the_install_is_not_reported() -> None:
    top = "fx-std-0.3"
    data = tar_bytes([
        file_info(f"{top}/PKG-INFO", pkg_info("fx-std", "0.3").encode()),
        file_info(f"{top}/setup.py", b""),
        file_info(f"{top}/README.md", b"# fx\n"),
        file_info(f"{top}/fxstd/__init__.py", b"X = 1\n"),
        special_info(f"{top}/docs/index.md", tarfile.SYMTYPE, "../README.md"),
    ])
    dist = read_distribution("fx-std-0.3.tar.gz", gzip_4k(data))
    assert dist.files == {"fxstd/__init__.py": b"X = 1\n"}
    assert dist.skipped == []


# -- standard sdists ----------------------------------------------------------------------


def test_standard_sdist_src_layout() -> None:
    data = standard_sdist("fx-std", "0.3", {
        "src/fxstd/__init__.py": "from fxwheel import greet\n",
        "src/fxstd/templates/page.html": "<p>hi</p>\n",
        "src/fxstd/__pycache__/__init__.cpython-311.pyc": b"junk",
        "src/fx_std.egg-info/SOURCES.txt": "x\n",
        "tests/test_fxstd.py": "def test(): pass\n",
        "docs/conf.py": "project = 'x'\n",
        "noxfile.py": "import nox\n",
    }, requires=["fx-wheel>=1.0", 'fx-never; implementation_name == "cpython"'])
    dist = read_distribution("fx-std-0.3.tar.gz", data)
    assert (dist.name, dist.version, dist.kind) == ("fx-std", "0.3", "sdist")
    assert dist.requires == ["fx-wheel>=1.0", 'fx-never; implementation_name == "cpython"']
    assert dist.files == {
        "fxstd/__init__.py": b"from fxwheel import greet\n",
        "fxstd/templates/page.html": b"<p>hi</p>\n",
    }


FLAT = {
    "fxa/__init__.py": "A = 1\n",
    "fxa/res/logo.txt": "logo\n",
    "fxb.py": "B = 1\n",
    "helpers/__init__.py": "H = 1\n",
    "tools/gen.py": "G = 1\n",
    "examples/demo.py": "import fxa\n",
    "test_fxa.py": "def test(): pass\n",
    "conftest.py": "",
    "data/notes.txt": "not a package\n",
}


def test_standard_sdist_flat_layout_discovery() -> None:
    dist = read_distribution("fx-flat-1.0.tar.gz", standard_sdist("fx-flat", "1.0", FLAT))
    assert sorted(dist.files) == ["fxa/__init__.py", "fxa/res/logo.txt", "fxb.py",
                                  "helpers/__init__.py"]


def test_standard_sdist_top_level_txt_is_honoured() -> None:
    data = standard_sdist("fx-flat", "1.0", FLAT, top_level=["fxa", "fxb"])
    dist = read_distribution("fx-flat-1.0.tar.gz", data)
    assert dist.files == {"fxa/__init__.py": b"A = 1\n", "fxa/res/logo.txt": b"logo\n",
                          "fxb.py": b"B = 1\n"}


def test_standard_sdist_requires_txt_when_pkg_info_has_none() -> None:
    top = "fx-old-1.0"
    data = gzip_4k(tar_bytes([
        file_info(f"{top}/PKG-INFO", pkg_info("fx-old", "1.0").encode()),
        file_info(f"{top}/setup.py", b""),
        file_info(f"{top}/fx_old.egg-info/requires.txt",
                  b"fx-base>=1\n\n[tls]\nfx-tls\n"),
        file_info(f"{top}/fxold.py", b"OLD = 1\n"),
    ]))
    dist = read_distribution("fx-old-1.0.tar.gz", data)
    assert dist.requires == ["fx-base>=1", 'fx-tls; extra == "tls"']
    assert dist.files == {"fxold.py": b"OLD = 1\n"}


# -- requires.txt -------------------------------------------------------------------------


def test_parse_requires_txt() -> None:
    text = (
        "# comment\n"
        "micropython-fx-base>=1.1\n"
        "\n"
        "[tls]\n"
        "micropython-ssl\n"
        "\n"
        '[:python_version < "3"]\n'
        "micropython-compat\n"
        '[fast:sys_platform == "linux"]\n'
        'micropython-fast; implementation_name == "micropython"\n'
    )
    requires = parse_requires_txt(text)
    assert requires == [
        "micropython-fx-base>=1.1",
        'micropython-ssl; extra == "tls"',
        'micropython-compat; (python_version < "3")',
        'micropython-fast; (implementation_name == "micropython") and '
        '(sys_platform == "linux") and extra == "fast"',
    ]
    reqs = [Requirement(r) for r in requires]  # all valid PEP 508
    env = {"implementation_name": "micropython", "python_version": "3.4",
           "sys_platform": "linux", "extra": "tls"}
    assert [r.marker is None or r.marker.evaluate(env) for r in reqs] == [
        True, True, False, False]
    env["extra"] = "fast"
    assert reqs[3].marker is not None and reqs[3].marker.evaluate(env) is True


# -- wheels ---------------------------------------------------------------------------------


def test_wheel() -> None:
    data = wheel("fx-wheel", "1.0", {
        "fxwheel/__init__.py": "X = 1\n",
        "fxwheel/__pycache__/__init__.cpython-311.pyc": b"junk",
    }, requires=["micropython-fx-base>=1"], data_files={
        "purelib/fxpure.py": "PURE = 1\n",
        "platlib/fxplat/__init__.py": "PLAT = 1\n",
        "scripts/fx-run": "#!/usr/bin/env python\n",
        "data/share/fx/readme.txt": "data\n",
        "headers/fx.h": "int fx;\n",
    })
    dist = read_distribution("fx_wheel-1.0-py3-none-any.whl", data)
    assert (dist.name, dist.version, dist.kind) == ("fx-wheel", "1.0", "wheel")
    assert dist.requires == ["micropython-fx-base>=1"]
    assert dist.files == {
        "fxwheel/__init__.py": b"X = 1\n",
        "fxpure.py": b"PURE = 1\n",
        "fxplat/__init__.py": b"PLAT = 1\n",
    }
    assert sorted(dist.skipped) == [
        ("fx_wheel-1.0.data/data/share/fx/readme.txt",
         "wheel data file (not installed on MicroPython)"),
        ("fx_wheel-1.0.data/headers/fx.h", "wheel headers file (not installed on MicroPython)"),
        ("fx_wheel-1.0.data/scripts/fx-run", "wheel scripts file (not installed on MicroPython)"),
    ]


@pytest.mark.parametrize("tamper", ["fxwheel.py", "fx_wheel-1.0.dist-info/METADATA",
                                    "fx_wheel-1.0.data/purelib/fxpure.py"])
def test_wheel_record_tamper(tamper: str) -> None:
    data = wheel("fx-wheel", "1.0", {"fxwheel.py": "X = 1\n"},
                 data_files={"purelib/fxpure.py": "P = 1\n"}, tamper=tamper)
    with pytest.raises(CorruptArchive) as info:
        read_distribution("fx_wheel-1.0-py3-none-any.whl", data)
    assert info.value.archive == "fx_wheel-1.0-py3-none-any.whl"
    assert info.value.reason == f"{tamper} does not match the wheel's RECORD"


def add_to_zip(data: bytes, path: str, content: bytes, drop: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            if item.filename != drop:
                dst.writestr(item, src.read(item))
        dst.writestr(path, content)
    return out.getvalue()


@pytest.mark.parametrize("drop_record", [False, True])
def test_wheel_file_missing_from_record(drop_record: bool) -> None:
    data = wheel("fx-wheel", "1.0", {"fxwheel.py": "X = 1\n"})
    data = add_to_zip(data, "fxwheel_extra.py", b"import os\n",
                      drop="fx_wheel-1.0.dist-info/RECORD" if drop_record else None)
    with pytest.raises(CorruptArchive):
        read_distribution("fx_wheel-1.0-py3-none-any.whl", data)


def test_wheel_without_dist_info_metadata() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("fxwheel.py", "X = 1\n")
        zf.writestr("fx_wheel-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    with pytest.raises(CorruptArchive) as info:
        read_distribution("fx_wheel-1.0-py3-none-any.whl", buf.getvalue())
    assert info.value.reason == "no fx_wheel-1.0.dist-info/METADATA"


def test_wheel_with_two_dist_info_folders() -> None:
    data = add_to_zip(wheel("fx-wheel", "1.0", {"fxwheel.py": "X = 1\n"}),
                      "other-2.0.dist-info/METADATA", pkg_info("other", "2.0").encode())
    with pytest.raises(CorruptArchive) as info:
        read_distribution("fx_wheel-1.0-py3-none-any.whl", data)
    assert info.value.reason == "a wheel needs exactly one .dist-info folder"


# -- archives without metadata, or of the wrong shape -------------------------------------


def test_missing_pkg_info_falls_back_to_the_folder_name() -> None:
    data = gzip_4k(tar_bytes([file_info("micropython-fx-base-1.2/fxbase.py", b"V = 1\n")]))
    dist = read_distribution("micropython-fx-base-1.2.tar.gz", data)
    assert (dist.name, dist.version, dist.kind) == ("micropython-fx-base", "1.2", "upip-sdist")
    assert dist.files == {"fxbase.py": b"V = 1\n"}


def test_folder_name_fallback_with_a_hyphenated_version() -> None:
    top = "micropython-pystone_lowmem-3.4.2-4"
    data = gzip_4k(tar_bytes([file_info(f"{top}/pystone_lowmem.py", b"LOOPS = 500\n")]))
    dist = read_distribution(f"{top}.tar.gz", data)
    assert (dist.name, dist.version) == ("micropython-pystone_lowmem", "3.4.2-4")


@pytest.mark.parametrize("members", [
    ["fx-1.0/fx.py", "other-1.0/other.py"],
    ["fx-1.0/fx.py", "stray.py"],
    ["fx.py"],
])
def test_members_not_under_one_top_folder(members: list[str]) -> None:
    data = gzip_4k(tar_bytes([file_info(m, b"X = 1\n") for m in members]))
    with pytest.raises(CorruptArchive) as info:
        read_distribution("fx-1.0.tar.gz", data)
    assert info.value.archive == "fx-1.0.tar.gz"


# -- project directories --------------------------------------------------------------------


def make_project(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "micropython-fx-proj"
version = "0.4.1"
dependencies = ["micropython-fx-base>=1.1", "fx-never; implementation_name == 'cpython'"]
"""


def test_project_pyproject_flat_layout(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {
        "pyproject.toml": PYPROJECT,
        "README.md": "# proj\n",
        "fxproj/__init__.py": "P = 1\n",
        "fxproj/static/index.html": "<p/>\n",
        "fxproj/__pycache__/__init__.cpython-311.pyc": "junk",
        "fxmod.py": "M = 1\n",
        "setup.py": "raise SystemExit\n",
        "tests/test_proj.py": "",
        "docs/conf.py": "",
        "test_smoke.py": "",
    })
    dist = read_project(root)
    assert (dist.name, dist.version, dist.kind) == ("micropython-fx-proj", "0.4.1", "dir")
    assert dist.requires == ["micropython-fx-base>=1.1", "fx-never; implementation_name == 'cpython'"]
    assert sorted(dist.files) == ["fxmod.py", "fxproj/R.py", "fxproj/__init__.py",
                                  "fxproj/static/index.html"]  # as upip sdist ships it
    assert dist.files["fxproj/static/index.html"] == b"<p/>\n"
    assert dist.skipped == []


def test_project_src_layout(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {
        "pyproject.toml": PYPROJECT,
        "src/fxproj/__init__.py": "P = 1\n",
        "src/fxproj/sub/mod.py": "S = 1\n",
        "scripts/release.py": "",
        "noxfile.py": "",
    })
    assert read_project(root).files == {"fxproj/__init__.py": b"P = 1\n",
                                        "fxproj/sub/mod.py": b"S = 1\n"}


def test_project_prunes_vcs_venv_and_build_folders(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {
        "pyproject.toml": PYPROJECT,
        "fxproj/__init__.py": "P = 1\n",
        "fxproj/.cache/stale.py": "",
        ".git/hooks/pre_commit.py": "",
        ".venv/lib/python3.11/site-packages/six.py": "",
        "venv/lib/site.py": "",
        "build/lib/fxproj/__init__.py": "OLD = 1\n",
        "dist/fxproj/__init__.py": "OLD = 1\n",
        "node_modules/left_pad.py": "",
        ".hidden.py": "",
    })
    assert read_project(root).files == {"fxproj/__init__.py": b"P = 1\n"}


def test_project_keeps_subpackages_named_like_build_folders(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {
        "pyproject.toml": PYPROJECT,
        "fxproj/__init__.py": "P = 1\n",
        "fxproj/build/__init__.py": "B = 1\n",
    })
    assert sorted(read_project(root).files) == ["fxproj/__init__.py", "fxproj/build/__init__.py"]


def test_project_dynamic_version(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {
        "pyproject.toml": '[project]\nname = "fx-dyn"\ndynamic = ["version"]\n',
        "fxdyn/__init__.py": "__version__ = '1.0'\n",
    })
    with pytest.raises(ProjectError) as info:
        read_project(root)
    assert info.value.path == str(root / "pyproject.toml")
    assert "[project] has no version" in info.value.reason
    assert "never runs a build backend" in info.value.reason


def test_project_invalid_toml(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {"pyproject.toml": "[project\nname = 1\n"})
    with pytest.raises(CorruptArchive) as info:
        read_project(root)
    assert info.value.archive == str(root / "pyproject.toml")
    assert info.value.reason.startswith("invalid TOML")


def test_project_setup_cfg(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {
        "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n',
        "setup.cfg": (
            "[metadata]\nname = micropython-fx-cfg\nversion = 2.3\n"
            "description = 100% MicroPython\n\n"
            "[options]\ninstall_requires =\n    micropython-fx-base>=1\n    fx-wheel\n"
        ),
        "setup.py": "from setuptools import setup\nsetup()\n",
        "fxcfg.py": "C = 1\n",
    })
    dist = read_project(root)
    assert (dist.name, dist.version) == ("micropython-fx-cfg", "2.3")
    assert dist.requires == ["micropython-fx-base>=1", "fx-wheel"]
    assert dist.files == {"fxcfg.py": b"C = 1\n"}


def test_project_setup_cfg_with_attr_version(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {
        "setup.cfg": "[metadata]\nname = fx-attr\nversion = attr: fxattr.__version__\n",
        "fxattr.py": "__version__ = '1.0'\n",
    })
    with pytest.raises(CorruptArchive) as info:
        read_project(root)
    assert info.value.archive == str(root)
    assert "upip never runs setup.py" in info.value.reason


@pytest.mark.parametrize("text", ["name = fx\n[metadata]\nversion = 1.0\n",
                                  "[metadata]\nname = fx\nname = fx2\nversion = 1.0\n"])
def test_project_malformed_setup_cfg(tmp_path: Path, text: str) -> None:
    root = make_project(tmp_path / "proj", {"setup.cfg": text, "fx.py": ""})
    with pytest.raises(CorruptArchive):
        read_project(root)


def test_project_pkg_info(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {
        "PKG-INFO": pkg_info("fx-unpacked", "0.9", ["fx-base"]),
        "setup.py": "",
        "fxunpacked/__init__.py": "U = 1\n",
    })
    dist = read_project(root)
    assert (dist.name, dist.version, dist.requires) == ("fx-unpacked", "0.9", ["fx-base"])
    assert dist.files == {"fxunpacked/__init__.py": b"U = 1\n"}


def test_project_without_metadata(tmp_path: Path) -> None:
    root = make_project(tmp_path / "proj", {"fx.py": "X = 1\n"})
    with pytest.raises(CorruptArchive) as info:
        read_project(root)
    assert info.value.archive == str(root)
    assert "no static name and version" in info.value.reason


# -- where the build config puts the code ---------------------------------------------


def _sdist(name: str, members: dict[str, bytes]) -> bytes:
    top = f"{name}-1.0"
    infos = [file_info(f"{top}/PKG-INFO", pkg_info(name, "1.0").encode())]
    infos += [file_info(f"{top}/{p}", d) for p, d in sorted(members.items())]
    return gzip_4k(tar_bytes(infos))


CODE = {"python/fxcbor/__init__.py": b"from ._enc import dumps\n",
        "python/fxcbor/_enc.py": b"def dumps(x):\n    return b''\n",
        "tests/test_enc.py": b"import fxcbor\n", "source/module.c": b"/* C speedups */\n"}


@pytest.mark.parametrize("config", [
    {"pyproject.toml": b"[tool.setuptools.packages.find]\nwhere = ['python']\n"},
    {"pyproject.toml": b"[tool.setuptools]\npackage-dir = {'' = 'python'}\n"},
    {"setup.py": b"", "setup.cfg": b"[options]\npackage_dir =\n    =python\n"},
    {"setup.py": b"", "setup.cfg": b"[options.packages.find]\nwhere = python\n"},
    {"setup.py": b"", "python/fxcbor.egg-info/PKG-INFO": pkg_info("fxcbor", "1.0").encode()},
])
def test_code_is_found_where_the_build_config_puts_it(config: dict[str, bytes]) -> None:
    """As cbor2 does: the pure-Python package under python/, C code under source/."""
    dist = read_distribution("fxcbor-1.0.tar.gz", _sdist("fxcbor", {**CODE, **config}))
    assert sorted(dist.files) == ["fxcbor/__init__.py", "fxcbor/_enc.py"]


def test_an_sdist_whose_code_upip_cannot_find_fails_naming_it() -> None:
    data = _sdist("fxlost", {"setup.py": b"", "include/fxlost.h": b"", "fxlost.c": b"/* C */\n"})
    with pytest.raises(CorruptArchive) as info:
        read_distribution("fxlost-1.0.tar.gz", data)
    assert str(info.value) == ("fxlost-1.0.tar.gz is not a readable distribution: it is C code "
                               "(fxlost.c) with no Python package or module: it cannot run on "
                               "MicroPython")
    lost = _sdist("fxlost", {"setup.py": b"", "examples/demo.py": b"import fxlost\n"})
    with pytest.raises(CorruptArchive) as info:
        read_distribution("fxlost-1.0.tar.gz", lost)
    assert str(info.value).startswith("fxlost-1.0.tar.gz is not a readable distribution: found "
                                      "no package or module to install in it")


def test_type_stubs_never_land() -> None:
    """.pyi and py.typed are for CPython's type checkers; MicroPython never reads them."""
    files = {"fxtyped/__init__.py": b"X = 1\n", "fxtyped/__init__.pyi": b"X: int\n",
             "fxtyped/py.typed": b"", "fxtyped/core.pyi": b"def f() -> None: ...\n"}
    for dist in (read_distribution("fxtyped-1.0-py3-none-any.whl",
                                   wheel("fxtyped", "1.0", files)),
                 read_distribution("fxtyped-1.0.tar.gz", standard_sdist("fxtyped", "1.0", files)),
                 read_distribution("fxtyped-1.0.tar.gz", upip_sdist("fxtyped", "1.0", files))):
        assert sorted(dist.files) == ["fxtyped/__init__.py"], dist.kind


def test_romfs_leaves_out_stubs_an_older_install_left() -> None:
    from upip.size import romfs_tree

    assert romfs_tree({"a/__init__.py": b"", "a/__init__.pyi": b"", "a/py.typed": b""}) == {
        "lib/a/__init__.py": b""}


def test_install_dot_and_the_sdist_are_one_image(tmp_path: Path) -> None:
    """One reader of a project folder: `install .` takes exactly what `upip sdist`
    ships: [tool.upip] exclude honoured, no stubs, and no upip image or venv that
    sits inside the project (a folder holding .upip-records or pyvenv.cfg)."""
    from upip.authoring import project, sdist

    root = make_project(tmp_path / "proj", {
        "pyproject.toml": '[project]\nname = "fx-one"\nversion = "1.0"\n'
                          '[tool.upip]\nexclude = ["fxone/secret.py"]\n',
        "fxone/__init__.py": "X = 1\n", "fxone/core.pyi": "X: int\n", "fxone/py.typed": "",
        "fxone/secret.py": "KEY = 1\n", "fxone/data/page.html": "<p/>\n",
        "lib/.upip-records": "upip-records\t1\n", "lib/umqtt/simple.py": "A = 1\n",
        "fxone/deep/image/.upip-records": "upip-records\t1\n",
        "fxone/deep/image/other.py": "B = 1\n", "fxone/deep/__init__.py": "",
        ".venv/pyvenv.cfg": "", "env2/pyvenv.cfg": "", "env2/lib/site.py": "",
    })
    installed = read_project(root).files
    built = sdist.build(project.load(root), tmp_path / "dist")
    from_sdist = read_distribution(built.path.name, built.path.read_bytes()).files
    assert installed == from_sdist
    assert sorted(installed) == ["fxone/R.py", "fxone/__init__.py", "fxone/data/page.html",
                                 "fxone/deep/__init__.py"]
