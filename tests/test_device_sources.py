"""The device client's sources: micropython-lib's mip index, package.json
manifests (and github:/gitlab:/codeberg: specs), PyPI with ranges, relative
file URLs and py3-none-any wheels, and the firmware's own modules.

As in test_device_install.py, every case runs ``micropython -m upip`` on the real unix
port against a real HTTP server on 127.0.0.1 that serves a tree written here
(a mip index as micropython-lib's build.py lays it out, package.json folders,
PyPI's JSON API), then imports what was installed on the same MicroPython.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

import upip.image as host_image
from tests.conftest import snapshot
from tests.support.builders import upip_sdist, wheel, wheel_filename
from tests.support.catalog import catalog
from tests.support.device import Device, error_line, lines
from tests.support.index import Dist, write_index
from tests.support.mipindex import MipPackage, short_hash, write_manifest, write_mip_index
from tests.support.server import IndexServer

SHIM = "# upip: MicroPython's built-in {0} module, which the {0}/ folder extends\nfrom u{0} import *\n"


def mip_packages() -> list[MipPackage]:
    """A small micropython-lib: fxmip (3 versions, a dependency on fxmipcore),
    fxmipcore (a package folder), fxmpy (with its .mpy variant)."""
    core = {"fxmipcore/__init__.py": b"from fxmipcore.util import twice\n",
            "fxmipcore/util.py": b"def twice(x):\n    return 2 * x\n"}
    return [
        MipPackage("fxmip", "0.9", {"fxmip.py": b"V = '0.9'\n"}),
        MipPackage("fxmip", "1.5", {"fxmip.py": b"import fxmipcore\nV = '1.5'\n"},
                   deps=[["fxmipcore", "latest"]]),
        MipPackage("fxmip", "2.0", {"fxmip.py": b"import fxmipcore\nV = '2.0'\n"},
                   deps=[["fxmipcore", ""]]),
        MipPackage("fxmipcore", "0.1", core),
        MipPackage("fxmpy", "1.0", {"fxmpy.py": b"def where():\n    return __file__\n"}, mpy=True),
    ]


class Sources:
    """One server: PyPI's JSON API at /pypi, a mip index at /mip, package.json
    trees under /gh; root is the folder it serves."""

    def __init__(self, root: Path, dists: list[Dist] | None = None,
                 mip: list[MipPackage] | None = None, hash_len: int = 8) -> None:
        self.root = root
        self.server = IndexServer(root)
        write_index(root, catalog() if dists is None else dists, self.server.url)
        write_mip_index(root / "mip", mip_packages() if mip is None else mip, hash_len)
        self.server.start()

    @property
    def url(self) -> str:
        return self.server.url

    def install(self, dev: Device, lib: Path, *args: str, **kwargs: object
                ) -> subprocess.CompletedProcess[str]:
        return dev.upip("install", "-p", str(lib), "-i", self.server.json_url, "--mip-index",
                        self.server.mip_url, *args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def sources(tmp_path: Path) -> object:
    made: list[Sources] = []

    def make(**kwargs: object) -> Sources:
        root = tmp_path / f"srv{len(made)}"
        root.mkdir()
        made.append(Sources(root, **kwargs))  # type: ignore[arg-type]
        return made[-1]

    yield make
    for s in made:
        s.server.stop()


def done(result: subprocess.CompletedProcess[str]) -> list[str]:
    out = lines(result)
    assert result.returncode == 0, out
    assert out[-1] == "Done", out
    assert not any(line.startswith("error") for line in out), out
    return out


def records(lib: Path) -> dict[str, host_image.DistRecord]:
    """The records the device wrote, read by the host's own parser."""
    return host_image.parse_records((lib / ".upip-records").read_text(), "records")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def imported(dev: Device, lib: Path, code: str) -> str:
    run = dev.run(code, path=[lib])
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


# -- the mip index -------------------------------------------------------------------


def test_mip_index_install_with_a_dependency(any_device: Device, sources: object,
                                             tmp_path: Path) -> None:
    src = sources()  # type: ignore[operator]
    lib = tmp_path / "lib"
    out = done(src.install(any_device, lib, "fxmip"))
    mip = f"{src.url}/mip"
    assert out == [f"Installing fxmip 2.0 from {mip}", f"Installing fxmipcore 0.1 from {mip}",
                   "Done"]
    # latest.json of the .mpy variant first (this index has none for fxmip), then py's;
    # each file fetched by its short hash
    docs = [p for p in src.server.requests("/mip/package/")]
    assert docs == ["/mip/package/6/fxmip/latest.json", "/mip/package/py/fxmip/latest.json",
                    "/mip/package/6/fxmipcore/latest.json",
                    "/mip/package/py/fxmipcore/latest.json"]
    assert not src.server.requests("/pypi/")  # found on the mip index: PyPI not asked
    assert imported(any_device, lib, "import fxmip; print(fxmip.V, fxmip.fxmipcore.twice(21))"
                    ) == "2.0 42\n"
    # the records: as the host writes them, the document's sha256 and URL for the dist
    recs = records(lib)
    doc = (src.root / "mip/package/py/fxmip/latest.json").read_bytes()
    fxmip = recs["fxmip"]
    assert (fxmip.version, fxmip.requested, fxmip.sha256, fxmip.source) == (
        "2.0", True, sha(doc), f"{mip}/package/py/fxmip/latest.json")
    assert fxmip.requires == ["fxmipcore"]
    code = b"import fxmipcore\nV = '2.0'\n"
    assert [(f.path, f.sha256, f.size) for f in fxmip.files] == [("fxmip.py", sha(code),
                                                                  len(code))]
    assert recs["fxmipcore"].requested is False
    assert sorted(f.path for f in recs["fxmipcore"].files) == ["fxmipcore/__init__.py",
                                                               "fxmipcore/util.py"]
    # and again: nothing to do
    assert done(src.install(any_device, lib, "fxmip")) == ["fxmip 2.0 is already installed",
                                                          "Done"]


def test_mip_index_takes_the_mpy_variant_when_there_is_one(any_device: Device, sources: object,
                                                           tmp_path: Path) -> None:
    src = sources()  # type: ignore[operator]
    lib = tmp_path / "lib"
    done(src.install(any_device, lib, "mip:fxmpy"))
    assert src.server.requests("/mip/package/") == ["/mip/package/6/fxmpy/latest.json"]
    assert sorted(snapshot(lib)) == [".upip-records", "fxmpy.mpy"]
    assert (lib / "fxmpy.mpy").read_bytes()[:2] == b"M\x06"
    assert imported(any_device, lib, "import fxmpy; print(fxmpy.where())").strip().endswith(
        "fxmpy.mpy")
    assert records(lib)["fxmpy"].source.endswith("/mip/package/6/fxmpy/latest.json")


@pytest.mark.parametrize(("spec", "version"), [
    ("fxmip>=1.0,<2", "1.5"), ("fxmip<1", "0.9"), ("fxmip~=1.0", "1.5"), ("fxmip!=2.0", "1.5"),
    ("fxmip==0.9", "0.9"), ("fxmip@1.5", "1.5"), ("fxmip==1.*", "1.5")])
def test_mip_index_versions_and_ranges(device: Device, sources: object, tmp_path: Path,
                                       spec: str, version: str) -> None:
    src = sources()  # type: ignore[operator]
    lib = tmp_path / "lib"
    out = done(src.install(device, lib, spec))
    assert out[0] == f"Installing fxmip {version} from {src.url}/mip"
    asked = src.server.requests("/mip/")
    if ("==" in spec and "*" not in spec) or "@" in spec:  # an exact pin asks its document
        assert asked[:2] == [f"/mip/package/6/fxmip/{version}.json",
                             f"/mip/package/py/fxmip/{version}.json"]
    else:  # a range: index.json (streamed), then the version it took
        assert asked[:2] == ["/mip/index.json", f"/mip/package/py/fxmip/{version}.json"]
    assert imported(device, lib, "import fxmip; print(fxmip.V)") == f"{version}\n"


def test_mip_range_resolved_against_a_large_index_in_a_small_heap(
        mpy_device: Device, sources: object, tmp_path: Path) -> None:
    # index.json is streamed: 600 packages (~130 KB, twice micropython-lib's) go
    # through a heap that could not hold a tenth of it
    many = [MipPackage(f"fxfill{i:03d}", "1.0", {f"fxfill{i:03d}.py": b"X = 1\n"},
                       description="filler " * 20) for i in range(600)]
    src = sources(mip=[*many, *mip_packages()])  # type: ignore[operator]
    assert (src.root / "mip/index.json").stat().st_size > 100_000
    lib = tmp_path / "lib"
    done(src.install(mpy_device, lib, "fxmip>=1,<2", heapsize="24k"))
    assert imported(mpy_device, lib, "import fxmip; print(fxmip.V)") == "1.5\n"


def test_mip_short_hashes_are_checked(any_device: Device, sources: object,
                                      tmp_path: Path) -> None:
    src = sources(hash_len=4)  # type: ignore[operator]
    lib = tmp_path / "lib"
    done(src.install(any_device, lib, "fxmipcore"))
    assert all(len(p.rsplit("/", 1)[1]) == 4 for p in src.server.requests("/mip/file/"))
    assert imported(any_device, lib, "import fxmipcore; print(fxmipcore.twice(4))") == "8\n"
    before = snapshot(lib)
    # a tampered file (the index's short hash no longer matches): refused, nothing changed
    code = b"import fxmipcore\nV = '2.0'\n"
    h = short_hash(code, 4)
    (src.root / "mip/file" / h[:2] / h).write_bytes(b"import os\nos.remove('/')\n")
    result = src.install(any_device, lib, "fxmip")
    assert result.returncode == 1
    message = error_line(result)
    assert message.startswith(f"error: fxmip: sha256 of {src.url}/mip/file/{h[:2]}/{h} is ")
    assert message.endswith(f", the index says {h}: corrupt or tampered with")
    assert snapshot(lib) == before
    assert not (lib / ".upip-tx").exists()


def test_mip_hash_shorter_than_4_digits_is_refused(device: Device, sources: object,
                                                   tmp_path: Path) -> None:
    src = sources(hash_len=3)  # type: ignore[operator]
    result = src.install(device, tmp_path / "lib", "fxmipcore")
    message = error_line(result)
    assert message.startswith("error: fxmipcore: ")
    assert "at least 4 hex digits" in message and "fxmipcore/__init__.py" in message
    assert not (tmp_path / "lib").exists()
    assert not src.server.requests("/mip/file/")  # refused before anything was fetched


@pytest.mark.parametrize(("dest", "why"), [
    ("../evil.py", "path with '..' escapes the target"),
    ("/tmp/upip-evil-abs.py", "absolute path"),
    (".upip-records", "a name upip keeps for its own files"),
    ("a\\b.py", "backslash or control character in the path"),
])
def test_mip_destination_that_leaves_the_image_is_refused(any_device: Device, sources: object,
                                                          tmp_path: Path, dest: str,
                                                          why: str) -> None:
    src = sources(mip=[MipPackage("fxevil", "1.0", {dest: b"X = 1\n"})])  # type: ignore[operator]
    lib = tmp_path / "work" / "lib"
    lib.mkdir(parents=True)
    before = snapshot(tmp_path / "work")
    result = src.install(any_device, lib, "fxevil")
    assert result.returncode == 1
    assert error_line(result) == f"error: fxevil: refusing destination {dest}: {why}"
    assert snapshot(tmp_path / "work") == before
    assert not Path("/tmp/upip-evil-abs.py").exists()


# -- package.json ----------------------------------------------------------------------


def test_package_json_with_relative_and_absolute_urls_and_deps(any_device: Device,
                                                               sources: object,
                                                               tmp_path: Path) -> None:
    src = sources()  # type: ignore[operator]
    other = src.root / "elsewhere"
    other.mkdir()
    (other / "fxabs.py").write_bytes(b"ABS = True\n")
    # fxpj: its own files relative to the manifest (one in a folder, one with ../),
    # one absolute; a dependency by name (from the mip index) and one by URL
    write_manifest(src.root / "gh" / "lib" / "fxdep", {"fxdep.py": b"DEP = 'url'\n"},
                   version="0.2")
    (src.root / "gh" / "shared.py").write_bytes(b"SHARED = 1\n")
    write_manifest(
        src.root / "gh" / "fxpj",
        {"fxpj/__init__.py": b"from fxpj.sub import ping\nimport fxdep, fxmipcore, fxabs\n",
         "fxpj/sub.py": b"def ping():\n    return 'pong'\n"},
        urls=[["fxpj/__init__.py", "fxpj/__init__.py"], ["fxpj/sub.py", "./fxpj/sub.py"],
              ["fxpj/shared.py", "../shared.py"], ["fxabs.py", f"{src.url}/elsewhere/fxabs.py"]],
        deps=[["fxmipcore", "latest"], [f"{src.url}/gh/lib/fxdep", ""]], version="1.2.3")
    lib = tmp_path / "lib"
    out = done(src.install(any_device, lib, f"{src.url}/gh/fxpj/package.json"))
    assert out == [f"Installing fxpj 1.2.3 from {src.url}/gh/fxpj/package.json",
                   f"Installing fxmipcore 0.1 from {src.url}/mip",
                   f"Installing fxdep 0.2 from {src.url}/gh/lib/fxdep/package.json", "Done"]
    assert sorted(snapshot(lib)) == [
        ".upip-records", "fxabs.py", "fxdep.py", "fxmipcore", "fxmipcore/__init__.py",
        "fxmipcore/util.py", "fxpj", "fxpj/__init__.py", "fxpj/shared.py", "fxpj/sub.py"]
    assert imported(any_device, lib, "import fxpj; print(fxpj.ping(), fxpj.fxdep.DEP, "
                    "fxpj.fxabs.ABS, fxpj.fxmipcore.twice(2))") == "pong url True 4\n"
    recs = records(lib)
    manifest = (src.root / "gh/fxpj/package.json").read_bytes()
    assert (recs["fxpj"].version, recs["fxpj"].sha256, recs["fxpj"].source) == (
        "1.2.3", sha(manifest), f"{src.url}/gh/fxpj/package.json")
    assert recs["fxpj"].requires == ["fxmipcore", f"fxdep @ {src.url}/gh/lib/fxdep"]
    assert {f.path: f.sha256 for f in recs["fxpj"].files}["fxpj/shared.py"] == sha(
        b"SHARED = 1\n")


def test_package_json_cycle_ends(device: Device, sources: object, tmp_path: Path) -> None:
    src = sources()  # type: ignore[operator]
    a, b = f"{src.url}/gh/fxcya", f"{src.url}/gh/fxcyb/package.json"
    write_manifest(src.root / "gh/fxcya", {"fxcya.py": b"import fxcyb\nA = 1\n"}, deps=[[b, ""]])
    write_manifest(src.root / "gh/fxcyb", {"fxcyb.py": b"B = 2\n"}, deps=[[a, ""]])
    lib = tmp_path / "lib"
    out = done(src.install(device, lib, a))
    assert out == [f"Installing fxcya 0 from {a}/package.json", f"Installing fxcyb 0 from {b}",
                   "Done"]
    assert src.server.requests("/gh/fxcya/package.json") == ["/gh/fxcya/package.json"]
    assert imported(device, lib, "import fxcya; print(fxcya.A, fxcya.fxcyb.B)") == "1 2\n"


def test_single_py_file_url(device: Device, sources: object, tmp_path: Path) -> None:
    src = sources()  # type: ignore[operator]
    (src.root / "gh").mkdir()
    (src.root / "gh" / "fxone.py").write_bytes(b"ONE = 1\n")
    lib = tmp_path / "lib"
    assert done(src.install(device, lib, f"{src.url}/gh/fxone.py")) == [
        f"Installing fxone 0 from {src.url}/gh/fxone.py", "Done"]
    assert sorted(snapshot(lib)) == [".upip-records", "fxone.py"]
    rec = records(lib)["fxone"]
    assert (rec.sha256, rec.source) == (sha(b"ONE = 1\n"), f"{src.url}/gh/fxone.py")
    assert imported(device, lib, "import fxone; print(fxone.ONE)") == "1\n"


def test_mip_boot_files_and_type_stubs_stay_out(any_device: Device, sources: object,
                                                 tmp_path: Path) -> None:
    # as from PyPI (test_device_install.py): a mip package's main.py and .pyi never
    # land unless asked (main.py) or at all (.pyi)
    files = {"main.py": b"import fxmain\n", "fxmain.py": b"OK = 1\n", "fxmain.pyi": b"OK: int\n"}
    src = sources(mip=[MipPackage("fxmain", "1.0", files)])  # type: ignore[operator]
    lib = tmp_path / "lib"
    assert done(src.install(any_device, lib, "mip:fxmain")) == [
        f"Installing fxmain 1.0 from {src.server.mip_url}",
        "note: fxmain 1.0: left out main.py, which a board would run by itself at start "
        "(--boot-files installs it)", "Done"]
    assert sorted(snapshot(lib)) == [".upip-records", "fxmain.py"]
    assert [f.path for f in records(lib)["fxmain"].files] == ["fxmain.py"]
    again = tmp_path / "again"
    done(src.install(any_device, again, "--boot-files", "mip:fxmain"))
    assert sorted(snapshot(again)) == [".upip-records", "fxmain.py", "main.py"]


MAPPED = [
    ("github:org/repo/package.json", None,
     "https://raw.githubusercontent.com/org/repo/HEAD/package.json"),
    ("github:org/repo/sub/dir/package.json", "v1.2",
     "https://raw.githubusercontent.com/org/repo/v1.2/sub/dir/package.json"),
    ("github:org/repo/x.py", "main", "https://raw.githubusercontent.com/org/repo/main/x.py"),
    ("gitlab:org/repo/package.json", None, "https://gitlab.com/org/repo/-/raw/HEAD/package.json"),
    ("gitlab:org/repo/a/b.json", "dev", "https://gitlab.com/org/repo/-/raw/dev/a/b.json"),
    ("codeberg:org/repo/package.json", None,
     "https://codeberg.org/api/v1/repos/org/repo/raw/package.json?ref=HEAD"),
    ("codeberg:org/repo/lib/package.json", "1.0",
     "https://codeberg.org/api/v1/repos/org/repo/raw/lib/package.json?ref=1.0"),
    ("https://example.org/a/package.json", "x", "https://example.org/a/package.json"),
]

JOINED = [  # a relative URL in a manifest: against the unmapped form, then mapped
    ("github:org/repo/package.json", "lib/x.py", "github:org/repo/lib/x.py"),
    ("github:org/repo/sub/package.json", "../x.py", "github:org/repo/x.py"),
    ("https://h/pypi/x/json", "../../packages/a.tar.gz", "https://h/packages/a.tar.gz"),
    ("http://h:8/a/b/package.json", "/c.py", "http://h:8/c.py"),
    ("http://h:8/a/b/package.json", "//o/c.py", "http://o/c.py"),
    ("https://h/a/package.json", "gitlab:o/r/x.py", "gitlab:o/r/x.py"),
]


def test_github_gitlab_codeberg_mapping_on_micropython(any_device: Device) -> None:
    # the device's own functions, called on MicroPython
    code = ("import upip.url as u, upip.next as n\nclass O: mip = 'M'\n"
            f"for s, ref, _ in {MAPPED!r}:\n    print(u.run(s, ref))\n"
            f"for b, r, _ in {JOINED!r}:\n    print(u.join(b, r))\n"
            "for s in ('github:org/repo', 'github:org/repo@v2', 'gitlab:o/r/sub/dir@x',\n"
            "          'codeberg:o/r/m.py', 'http://h/x/foo/', 'https://h/x/foo.json'):\n"
            "    print(n.parse('1\\t' + s, O))\n"
            "try:\n    n.parse('1\\tgithub:org', O)\n"
            "except Exception as e:\n    print(e)\n")
    result = any_device.run(code)
    assert lines(result) == [m for _, _, m in MAPPED] + [j for _, _, j in JOINED] + [
        "('repo', None, None, b'u', 'github:org/repo/package.json')",
        "('repo', None, None, b'u', 'github:org/repo/package.json@v2')",
        "('dir', None, None, b'u', 'gitlab:o/r/sub/dir/package.json@x')",
        "('m', None, None, b'f', 'codeberg:o/r/m.py')",
        "('foo', None, None, b'u', 'http://h/x/foo/package.json')",
        "('x', None, None, b'u', 'https://h/x/foo.json')",  # (the manifest's folder)
        "github:org: no repository (give github:ORG/REPO[/PATH][@REF])"], result.stderr


@pytest.mark.parametrize(("spec", "message"), [
    ("github:org", "error: github:org: no repository (give github:ORG/REPO[/PATH][@REF])"),
    ("{url}/gh/nourls", "error: nourls: {url}/gh/nourls/package.json: no urls, hashes or deps: "
                        "not a package.json"),
    ("{url}/gh/html", "error: html: {url}/gh/html/package.json is not a JSON document"),
    ("{url}/gh/missing", "error: missing: {url}/gh/missing/package.json answered HTTP 404"),
])
def test_bad_package_json_is_one_error_line(device: Device, sources: object, tmp_path: Path,
                                            spec: str, message: str) -> None:
    src = sources()  # type: ignore[operator]
    (src.root / "gh/nourls").mkdir(parents=True)
    (src.root / "gh/nourls/package.json").write_text('{"version": "1.0"}')
    (src.root / "gh/html").mkdir()
    (src.root / "gh/html/package.json").write_text("<html><body>Not here</body></html>")
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "keep.py").write_text("K = 1\n")
    before = snapshot(lib)
    result = src.install(device, lib, spec.format(url=src.url))
    assert result.returncode == 1
    assert error_line(result) == message.format(url=src.url)
    assert snapshot(lib) == before


# -- bare names, and where they are looked for ---------------------------------------------


def test_bare_name_order_mip_then_micropython_name_then_name(device: Device, sources: object,
                                                             tmp_path: Path) -> None:
    src = sources()  # type: ignore[operator]
    lib = tmp_path / "lib"
    # not on the mip index: micropython-fxalias on PyPI, after both variants were asked
    out = done(src.install(device, lib, "fxalias"))
    assert out == [f"Installing micropython-fxalias 0.1 from {src.url}/pypi", "Done"]
    assert src.server.requests()[:3] == ["/mip/package/6/fxalias/latest.json",
                                          "/mip/package/py/fxalias/latest.json",
                                          "/pypi/micropython-fxalias/json"]
    # fx-std: neither on the mip index nor as micropython-fx-std: fx-std itself
    src.server.log.clear()
    done(src.install(device, lib, "fx-std"))
    assert src.server.requests()[:4] == ["/mip/package/6/fx-std/latest.json",
                                         "/mip/package/py/fx-std/latest.json",
                                         "/pypi/micropython-fx-std/json", "/pypi/fx-std/json"]
    # fx-std's own dependency stays on PyPI, NAME first: fx-wheel, never the mip index
    assert src.server.requests("/pypi/")[2:] == ["/pypi/fx-wheel/json"]
    assert imported(device, lib, "import fxalias, fxstd; print(fxalias.OK, fxstd.hello('a'))"
                    ) == "True yo a!\n"


def test_forced_sources(device: Device, sources: object, tmp_path: Path) -> None:
    src = sources(mip=[*mip_packages(),  # type: ignore[operator]
                       MipPackage("fxalias", "9.0", {"fxalias.py": b"OK = 'mip'\n"})])
    lib = tmp_path / "lib"
    done(src.install(device, lib, "pypi:micropython-fxalias"))  # exactly that name on PyPI
    assert src.server.requests() == ["/pypi/micropython-fxalias/json",
                                     "/files/micropython-fxalias-0.1.tar.gz"]
    assert imported(device, lib, "import fxalias; print(fxalias.OK)") == "True\n"
    result = src.install(device, tmp_path / "lib2", "pypi:fxalias")  # not micropython-fxalias
    assert error_line(result) == (f"error: fxalias: no such package: tried "
                                  f"{src.url}/pypi/fxalias")
    done(src.install(device, tmp_path / "lib3", "mip:fxalias"))
    assert imported(device, tmp_path / "lib3", "import fxalias; print(fxalias.OK)") == "mip\n"
    result = device.upip("install", "-p", str(tmp_path / "lib4"), "--no-mip-index",
                         "mip:fxalias")
    assert error_line(result) == ("error: mip:fxalias: the mip index is turned off "
                                  "(--no-mip-index)")


def test_name_found_nowhere_names_every_place_tried(any_device: Device, sources: object,
                                                    tmp_path: Path) -> None:
    src = sources()  # type: ignore[operator]
    lib = tmp_path / "lib"
    result = src.install(any_device, lib, "fxnowhere")
    assert result.returncode == 1
    assert error_line(result) == (
        f"error: fxnowhere: no such package: tried {src.url}/mip, "
        f"{src.url}/pypi/micropython-fxnowhere, {src.url}/pypi/fxnowhere")
    assert not lib.exists()


def test_mip_index_that_answers_html_is_one_error_line(device: Device, sources: object,
                                                       tmp_path: Path) -> None:
    src = sources()  # type: ignore[operator]
    page = b"<!DOCTYPE html><html><body>Welcome to our index</body></html>"
    src.server.fault("/mip/package/py/fxmip/latest.json", "body", page)
    src.server.fault("/mip/index.json", "body", page)
    for spec in ("fxmip", "fxmip>=1"):
        result = src.install(device, tmp_path / "lib", spec)
        assert result.returncode == 1
        url = f"{src.url}/mip/" + ("index.json" if ">" in spec else
                                   "package/py/fxmip/latest.json")
        assert error_line(result) == f"error: fxmip: {url} is not a JSON document"
        assert not (tmp_path / "lib").exists()


def test_unsatisfiable_range_on_the_mip_index(device: Device, sources: object,
                                              tmp_path: Path) -> None:
    src = sources()  # type: ignore[operator]
    result = src.install(device, tmp_path / "lib", "fxmip>=3")
    assert error_line(result) == (f"error: fxmip: no version in >=3 on {src.url}/mip "
                                  "(it has 0.9, 1.5, 2.0)")
    assert not (tmp_path / "lib").exists()


# -- PyPI: ranges, relative URLs, wheels ---------------------------------------------------


@pytest.mark.parametrize(("spec", "version"), [
    ("micropython-fx-base>=1.0,<2", "1.1"),  # 1.2 is yanked, 2.0 out of range
    ("micropython-fx-base<1.1", "1.0"),
    ("micropython-fx-base~=1.0", "1.1"),
    ("micropython-fx-base==1.*", "1.1"),
    ("micropython-fx-base!=2.0,!=1.1", "1.0"),
    ("micropython-fx-base>2.0", "2.1b1"),  # a pre-release only when nothing else is in range
    ("micropython-fx-base>=1", "2.0"),
])
def test_pypi_ranges(any_device: Device, sources: object, tmp_path: Path, spec: str,
                     version: str) -> None:
    src = sources()  # type: ignore[operator]
    lib = tmp_path / "lib"
    out = done(src.install(any_device, lib, spec))
    assert out == [f"Installing micropython-fx-base {version} from {src.url}/pypi", "Done"]
    assert src.server.requests("/pypi/") == ["/pypi/micropython-fx-base/json"]
    assert imported(any_device, lib, "import fxbase; print(fxbase.VERSION)") == f"{version}\n"
    assert records(lib)["micropython-fx-base"].version == version


def test_pypi_unsatisfiable_range(device: Device, sources: object, tmp_path: Path) -> None:
    src = sources()  # type: ignore[operator]
    result = src.install(device, tmp_path / "lib", "micropython-fx-base>=3")
    assert result.returncode == 1
    assert error_line(result) == ("error: micropython-fx-base: no release of "
                                  "micropython-fx-base is in >=3 (there are 1.0, 1.1, 1.2, 2.0, "
                                  "2.1b1)")
    assert not (tmp_path / "lib").exists()


def test_pypi_relative_file_urls(any_device: Device, sources: object, tmp_path: Path) -> None:
    # as mirrors and proxies serve them: relative to the JSON's own URL
    src = sources()  # type: ignore[operator]
    for doc in [src.root / "pypi/micropython-fx-app/json",
                src.root / "pypi/micropython-fx-base/json"]:
        data = json.loads(doc.read_text())
        for files in [data["urls"], *data["releases"].values()]:
            for f in files:
                f["url"] = "../../files/" + f["filename"]
        doc.write_text(json.dumps(data))
    lib = tmp_path / "lib"
    done(src.install(any_device, lib, "micropython-fx-app"))
    assert src.server.requests("/files/") == ["/files/micropython-fx-app-1.0.tar.gz",
                                              "/files/micropython-fx-base-1.1.tar.gz"]
    assert imported(any_device, lib, "import fxapp; print(fxapp.run())") == (
        "app 1.0 on base 1.1: 42\n")


def wheel_dists() -> list[Dist]:
    big = "".join(f"{(i * 2654435761) % 65521:05d}" for i in range(2400))  # 12 KB, no repeats
    code = f'A = "{big}"\nB = "{big}"\n\ndef size():\n    return len(A) + len(B)\n'
    return [
        Dist("fx-whl", "1.0", wheel_filename("fx-whl", "1.0"), wheel(
            "fx-whl", "1.0", {"fxwhl/__init__.py": "from fxwhl.big import size\n",
                              "fxwhl/big.py": code, "fxwhl/data/x.txt": "x\n"},
            requires=["micropython-fx-base>=1.1,<2", 'fx-never; sys_platform == "win32"'],
            data_files={"purelib/fxwhlextra.py": "EXTRA = 1\n",
                        "scripts/fxwhl": "#!/bin/sh\n"})),
        Dist("fx-whl", "0.1", "fx_whl-0.1-cp311-cp311-linux_x86_64.whl", b"not for us"),
    ]


def test_py3_none_any_wheel(any_device: Device, sources: object, tmp_path: Path) -> None:
    src = sources(dists=[*catalog(), *wheel_dists()])  # type: ignore[operator]
    lib = tmp_path / "lib"
    out = done(src.install(any_device, lib, "pypi:fx-whl"))
    assert out == [f"Installing fx-whl 1.0 from {src.url}/pypi",
                   f"Installing micropython-fx-base 1.1 from {src.url}/pypi", "Done"]
    assert sorted(snapshot(lib)) == [".upip-records", "fxbase.py", "fxwhl", "fxwhl/__init__.py",
                                     "fxwhl/big.py", "fxwhl/data", "fxwhl/data/x.txt",
                                     "fxwhlextra.py"]  # no .dist-info, no scripts
    assert imported(any_device, lib, "import fxwhl, fxwhlextra; print(fxwhl.size(), "
                    "fxwhlextra.EXTRA)") == "24000 1\n"
    assert records(lib)["fx-whl"].requires == ["micropython-fx-base>=1.1,<2",
                                               'fx-never; sys_platform == "win32"']


def test_wheel_in_a_heap_with_no_room_for_its_window(mpy_device: Device, sources: object,
                                                     tmp_path: Path) -> None:
    # fxwhl/big.py needs a 32 KiB window: in 20 KB, inflate does it in Python
    src = sources(dists=[*catalog(), *wheel_dists()])  # type: ignore[operator]
    lib = tmp_path / "lib"
    done(src.install(mpy_device, lib, "pypi:fx-whl", "--no-mip-index", heapsize="20k"))
    assert imported(mpy_device, lib, "import fxwhl; print(fxwhl.size())") == "24000\n"


def test_release_with_sdist_and_wheel_takes_the_sdist(device: Device, sources: object,
                                                      tmp_path: Path) -> None:
    src = sources()  # type: ignore[operator]
    lib = tmp_path / "lib"
    done(src.install(device, lib, "pypi:fx-wheel"))
    assert src.server.requests("/files/") == ["/files/fx-wheel-1.0.tar.gz"]
    assert imported(device, lib, "import fxwheel; print(fxwheel.SOURCE)") == "sdist\n"


# -- the firmware's own modules ----------------------------------------------------------


def firmware_dists() -> list[Dist]:
    def sdist(name: str, files: dict[str, str], requires: list[str] | None = None) -> Dist:
        return Dist(name, "1.0", f"{name}-1.0.tar.gz",
                    upip_sdist(name, "1.0", files, requires=requires or []))
    return [
        # as micropython-logging on PyPI: it needs micropython-os, which the firmware has
        sdist("micropython-fx-logging", {"fxlogging.py": "import os\nOK = hasattr(os, 'stat')\n"},
              ["micropython-fx-os", "micropython-fx-asyncio"]),
        sdist("micropython-fx-os", {"os/__init__.py": "NAME = 'fake'\n"}),
        sdist("micropython-fx-asyncio", {"asyncio/__init__.py": "X = 1\n",
                                         "asyncio/core.py": "Y = 2\n"}),  # frozen in this port
        # extends the built-in os with os/fxpath.py, as micropython-lib's os-path does
        sdist("micropython-fx-ospath", {"os/fxpath.py": "def join(*a):\n    return '/'.join(a)\n"}),
        sdist("micropython-fx-ospathapp", {"fxospathapp.py": "import os.fxpath\n"},
              ["micropython-fx-ospath"]),
    ]


def test_dependency_the_firmware_has_is_skipped(any_device: Device, sources: object,
                                                tmp_path: Path) -> None:
    src = sources(dists=[*catalog(), *firmware_dists()])  # type: ignore[operator]
    lib = tmp_path / "lib"
    out = done(src.install(any_device, lib, "micropython-fx-logging"))
    assert out == [f"Installing micropython-fx-logging 1.0 from {src.url}/pypi",
                   f"Installing micropython-fx-os 1.0 from {src.url}/pypi",
                   "micropython-fx-os skipped: the firmware has os",
                   f"Installing micropython-fx-asyncio 1.0 from {src.url}/pypi",
                   "micropython-fx-asyncio skipped: the firmware has asyncio", "Done"]
    assert sorted(snapshot(lib)) == [".upip-records", "fxlogging.py"]
    assert list(records(lib)) == ["micropython-fx-logging"]
    assert imported(any_device, lib, "import fxlogging; print(fxlogging.OK)") == "True\n"
    # asked for, it is still refused (it would hide the firmware's os)
    result = src.install(any_device, lib, "micropython-fx-os")
    assert error_line(result) == ("error: micropython-fx-os: os/__init__.py would hide the "
                                  "firmware's os module; --force installs it anyway")


@pytest.mark.parametrize("asked", ["micropython-fx-ospath", "micropython-fx-ospathapp"])
def test_folder_extending_a_builtin_gets_the_shim(any_device: Device, sources: object,
                                                  tmp_path: Path, asked: str) -> None:
    src = sources(dists=[*catalog(), *firmware_dists()])  # type: ignore[operator]
    lib = tmp_path / "lib"
    done(src.install(any_device, lib, asked))
    shim = SHIM.format("os").encode()
    assert (lib / "os" / "__init__.py").read_bytes() == shim
    rec = records(lib)["micropython-fx-ospath"]
    assert {f.path: (f.sha256, f.size) for f in rec.files}["os/__init__.py"] == (sha(shim),
                                                                                 len(shim))
    # the built-in os, whole, and the extension beside it
    code = ("import os, os.fxpath\nb = __import__('uos')\n"
            "print(sorted(n for n in dir(b) if n[0] != '_') == "
            "sorted(n for n in dir(os) if n[0] != '_' and n != 'fxpath'))\n"
            "print(os.fxpath.join('a', 'b'), os.getcwd() == b.getcwd())")
    assert imported(any_device, lib, code) == "True\na/b True\n"
    # a second package extending os shares the shim; removing one keeps it
    more = src.root / "more"
    more.mkdir()
    dist = Dist("micropython-fx-osmore", "1.0", "micropython-fx-osmore-1.0.tar.gz", upip_sdist(
        "micropython-fx-osmore", "1.0", {"os/fxmore.py": "M = 1\n"}))
    (src.root / "files" / dist.filename).write_bytes(dist.data)
    write_index(more, [dist], src.url)
    shutil.copytree(more / "pypi", src.root / "pypi", dirs_exist_ok=True)
    done(src.install(any_device, lib, "micropython-fx-osmore"))
    assert "os/__init__.py" in {f.path for f in records(lib)["micropython-fx-osmore"].files}
    assert any_device.upip("uninstall", "-p", str(lib), "micropython-fx-ospath").returncode == 0
    assert (lib / "os" / "__init__.py").read_bytes() == shim
    assert imported(any_device, lib, "import os, os.fxmore; print(os.fxmore.M, "
                    "hasattr(os, 'listdir'))") == "1 True\n"


# -- one image for host and device ------------------------------------------------------------


def test_host_reads_the_records_of_every_source(any_device: Device, sources: object,
                                                tmp_path: Path) -> None:
    src = sources(dists=[*catalog(), *wheel_dists()])  # type: ignore[operator]
    write_manifest(src.root / "gh" / "fxpjr", {"fxpjr.py": b"R = 1\n"}, version="3.0")
    lib = tmp_path / "lib"
    done(src.install(any_device, lib, "fxmipcore", f"{src.url}/gh/fxpjr", "pypi:fx-whl",
                     "micropython-fxalias"))
    recs = records(lib)
    assert {k: (r.name, r.version, r.requested) for k, r in recs.items()} == {
        "fxmipcore": ("fxmipcore", "0.1", True), "fxpjr": ("fxpjr", "3.0", True),
        "fx-whl": ("fx-whl", "1.0", True), "micropython-fxalias": ("micropython-fxalias", "0.1", True),
        "micropython-fx-base": ("micropython-fx-base", "1.1", False)}
    for rec in recs.values():  # each file as it is on disk, its whole sha256
        for f in rec.files:
            data = (lib / f.path).read_bytes()
            assert (f.sha256, f.size) == (sha(data), len(data))
    whl = next(d for d in wheel_dists() if d.filename.endswith("any.whl"))
    assert recs["fx-whl"].sha256 == whl.sha256
    assert recs["fx-whl"].source == f"{src.url}/files/{whl.filename}"
    assert imported(any_device, lib, "import fxmipcore, fxpjr, fxwhl, fxalias; print('ok')"
                    ) == "ok\n"


def test_help_names_the_sources(device: Device) -> None:
    out = device.upip("--help").stdout
    for text in ("--mip-index URL | --no-mip-index", "mip:NAME or pypi:NAME",
                 "github:ORG/REPO[/PATH][@REF]", "https://micropython.org/pi/v2",
                 "name>=1.0,<2", "A dependency the firmware has built in or frozen"):
        assert text in out, text
    run = device.run("import upip; upip.help()")
    assert run.stdout == out


def test_default_mip_index_is_micropython_libs(device: Device, tmp_path: Path) -> None:
    # (no network here: what next lists for get to fetch, with the default index)
    (tmp_path / ".upip-tx").mkdir()
    code = (f"import upip.next as n\nclass O: pass\no = O()\n"
            f"o.path = {str(tmp_path)!r}\n"
            "o.modules, o.index, o.url, o.target, o.range, o.step = (True, "
            "'https://pypi.org/pypi', None, None, None, 'next')\n"
            "o.name = 'aioble'\no.state = n.parse('1\\taioble', o)[3]\nn.write(o)\nprint(o.step)\n"
            f"print(open({str(tmp_path / '.upip-tx' / 'u')!r}).read())")
    result = device.run(code)
    assert lines(result) == [
        "get", "m\thttps://micropython.org/pi/v2/package/6/aioble/latest.json",
        "m\thttps://micropython.org/pi/v2/package/py/aioble/latest.json",
        "p\thttps://pypi.org/pypi/micropython-aioble/json", "n\thttps://pypi.org/pypi/aioble/json",
        ""], result.stderr
