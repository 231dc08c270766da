"""How `upip install` chooses versions: ranges, pins, yanked, pre-releases,
names, conflicts, upgrades, extras, markers, and the no-op re-install."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import upip
from tests.conftest import Upip, snapshot
from tests.support.builders import upip_sdist, wheel, wheel_filename
from tests.support.catalog import catalog, fx_base
from tests.support.index import Dist
from tests.support.server import IndexServer
from upip.errors import NoMatchingVersion, UpipError


def versions(upip: Upip, lib: Path) -> dict[str, str]:
    code, out, err = upip("list", "-p", str(lib), "--json")
    assert code == 0, err
    return {d["name"]: d["version"] for d in json.loads(out)}


@pytest.mark.parametrize(("spec", "expected"), [
    ("micropython-fx-base", "2.0"),  # newest final release, not 2.1b1
    ("micropython-fx-base>=1,<2", "1.1"),  # 1.2 is yanked
    ("micropython-fx-base==1.2", "1.2"),  # ...unless pinned
    ("micropython-fx-base@1.0", "1.0"),  # mip style pin
    ("micropython-fx-base~=1.0", "1.1"),
    ("micropython-fx-base>=2.1b1", "2.1b1"),  # asked for a pre-release
    ("MicroPython_FX.Base<2", "1.1"),  # PEP 503 normalisation
])
def test_version_selection(upip: Upip, index: IndexServer, tmp_path: Path, spec: str,
                           expected: str) -> None:
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "-i", index.json_url, spec)
    assert code == 0, err
    assert versions(upip, lib) == {"micropython-fx-base": expected}
    assert f'VERSION = "{expected}"' in (lib / "fxbase.py").read_text()


def test_pre_flag_allows_pre_releases(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "-i", index.simple_url, "--pre",
                "micropython-fx-base")[0] == 0
    assert versions(upip, lib) == {"micropython-fx-base": "2.1b1"}


def test_unknown_name_falls_back_to_micropython_prefix(upip: Upip, index: IndexServer,
                                                       tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    code, _out, err = upip("install", "-p", str(lib), "-i", index.json_url, "fxalias")
    assert code == 0, err
    assert f"note: fxalias: micropython-fxalias from PyPI {index.json_url}" in err
    assert versions(upip, lib) == {"micropython-fxalias": "0.1"}


def test_conflict_names_who_asked_for_what(upip: Upip, index: IndexServer,
                                           tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "-i", index.json_url,
                        "micropython-fx-app", "micropython-fx-old")
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: conflicting requirements for "
                                                   "micropython-fx-base")
    assert "micropython-fx-base>=1.1,<2 (micropython-fx-app 1.0 <- requested)" in err
    assert "micropython-fx-base<1.1 (micropython-fx-old 1.0 <- requested)" in err
    assert not lib.exists()


def test_conflict_chain_through_several_levels(upip: Upip, make_index, tmp_path: Path) -> None:
    def pkg(name: str, requires: list[str]) -> Dist:
        return Dist(name, "1.0", f"{name}-1.0.tar.gz",
                    upip_sdist(name, "1.0", {f"{name.replace('-', '_')}.py": ""}, requires))
    server = make_index([*catalog(), pkg("top", ["mid"]), pkg("mid", ["micropython-fx-base<1.1"]),
                         pkg("other", ["micropython-fx-base>=2"])])
    code, _, err = upip("install", "-p", str(tmp_path / "lib"), "-i", server.json_url,
                        "top", "other")
    assert code == 1
    assert "micropython-fx-base<1.1 (mid 1.0 <- top 1.0 <- requested)" in err
    assert "micropython-fx-base>=2 (other 1.0 <- requested)" in err


def test_a_later_narrower_requirement_is_resolved_too(upip: Upip, make_index,
                                                      tmp_path: Path) -> None:
    """One pass pins fx-base 2.0 for wide (met first), then narrow wants <1.2: the
    full resolver takes over and finds 1.1, which both accept."""
    def pkg(name: str, requires: list[str]) -> Dist:
        return Dist(name, "1.0", f"{name}-1.0.tar.gz",
                    upip_sdist(name, "1.0", {f"{name}.py": ""}, requires))
    server = make_index([*catalog(), pkg("awide", ["micropython-fx-base"]),
                         pkg("bnarrow", ["micropython-fx-base>=1.1,<1.2"])])
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "-i", server.json_url, "pypi:awide",
                        "pypi:bnarrow")
    assert code == 0, err
    assert versions(upip, lib) == {"awide": "1.0", "bnarrow": "1.0", "micropython-fx-base": "1.1"}


def test_a_conflict_that_an_older_version_avoids(upip: Upip, make_index, tmp_path: Path) -> None:
    """The newest fxg needs fxk>=2, but fxh needs fxk<2: the answer is the newest
    fxg that accepts an fxk fxh accepts (upip finds it by pinning fxg last)."""
    def pkg(name: str, version: str, requires: list[str]) -> Dist:
        return Dist(name, version, f"{name}-{version}.tar.gz",
                    upip_sdist(name, version, {f"{name}.py": ""}, requires))
    server = make_index([pkg("fxg", "1.0", ["fxk<2"]), pkg("fxg", "1.1", ["fxk>=1,<2"]),
                         pkg("fxg", "2.0", ["fxk>=2"]), pkg("fxh", "1.0", ["fxk<2"]),
                         pkg("fxk", "1.0", []), pkg("fxk", "1.5", []), pkg("fxk", "2.0", [])])
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "-i", server.json_url, "pypi:fxg",
                        "pypi:fxh")
    assert code == 0, err
    assert versions(upip, lib) == {"fxg": "1.1", "fxh": "1.0", "fxk": "1.5"}


def test_no_version_matches(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    code, _, err = upip("install", "-p", str(tmp_path / "lib"), "-i", index.json_url,
                        "micropython-fx-base>5")
    assert code == 1
    assert "no version of 'micropython-fx-base>5'" in err
    assert "1.0, 1.1, 1.2, 2.0, 2.1b1" in err


def test_reinstall_of_same_versions_is_a_no_op(upip: Upip, index: IndexServer,
                                               tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app")[0] == 0
    before = snapshot(lib)
    mtime = (lib / ".upip-records").stat().st_mtime_ns
    requests = len(index.log)
    code, out, err = upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app")
    assert code == 0, err
    assert out.startswith("Already installed: micropython-fx-app 1.0")
    assert len(index.log) == requests, "a no-op re-install must not use the network"
    assert snapshot(lib) == before
    assert (lib / ".upip-records").stat().st_mtime_ns == mtime


def test_damaged_install_is_repaired(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app")[0] == 0
    before = snapshot(lib)
    (lib / "fxbase.py").unlink()
    code, out, err = upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app")
    assert code == 0, err
    assert "micropython-fx-base 1.1" in out
    assert snapshot(lib) == before


def test_upgrade_only_when_asked(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-base==1.0")[0] == 0
    code, out, _ = upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-base")
    assert code == 0 and "Already installed: micropython-fx-base 1.0" in out
    code, out, err = upip("install", "-p", str(lib), "-i", index.json_url, "-U",
                          "micropython-fx-base")
    assert code == 0, err
    assert "Installed micropython-fx-base 2.0" in out and "Replaced micropython-fx-base 1.0" in out
    assert versions(upip, lib) == {"micropython-fx-base": "2.0"}
    assert 'VERSION = "2.0"' in (lib / "fxbase.py").read_text()


def test_upgrade_removes_files_the_new_version_dropped(upip: Upip, make_index,
                                                       tmp_path: Path) -> None:
    name = "micropython-fx-moving"
    v1 = Dist(name, "1.0", f"{name}-1.0.tar.gz", upip_sdist(name, "1.0", {
        "fxmoving/__init__.py": "", "fxmoving/old.py": "OLD = 1\n"}))
    v2 = Dist(name, "2.0", f"{name}-2.0.tar.gz", upip_sdist(name, "2.0", {
        "fxmoving/__init__.py": "", "fxmoving/new.py": "NEW = 1\n"}))
    server = make_index([v1, v2])
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "-i", server.json_url, f"{name}==1.0")[0] == 0
    assert upip("install", "-p", str(lib), "-i", server.json_url, f"{name}==2.0")[0] == 0
    assert sorted(p for p in snapshot(lib) if p.startswith("fxmoving/")) == [
        "fxmoving/__init__.py", "fxmoving/new.py"]


def test_no_deps(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "-i", index.json_url, "--no-deps",
                "micropython-fx-app")[0] == 0
    assert versions(upip, lib) == {"micropython-fx-app": "1.0"}


def test_markers_are_evaluated_for_micropython(upip: Upip, index: IndexServer,
                                               tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    # fx-std requires 'fx-never; implementation_name == "cpython"', which no index has.
    code, _, err = upip("install", "-p", str(lib), "-i", index.json_url, "fx-std",
                        'micropython-fx-base; implementation_name == "cpython"',
                        'micropython-fx-app; implementation_name == "micropython"')
    assert code == 0, err
    assert set(versions(upip, lib)) == {"fx-std", "fx-wheel", "micropython-fx-app",
                                        "micropython-fx-base"}


def test_extras(upip: Upip, make_index, tmp_path: Path) -> None:
    name = "fx-extras"
    dist = Dist(name, "1.0", wheel_filename(name, "1.0"), wheel(
        name, "1.0", {"fxextras.py": ""},
        requires=['micropython-fx-base<2; extra == "base"', "micropython-fxalias"]))
    server = make_index([*catalog(), dist])
    plain, extra = tmp_path / "plain", tmp_path / "extra"
    assert upip("install", "-p", str(plain), "-i", server.json_url, name)[0] == 0
    assert set(versions(upip, plain)) == {"fx-extras", "micropython-fxalias"}
    code, _, err = upip("install", "-p", str(extra), "-i", server.json_url, f"{name}[base]")
    assert code == 0, err
    assert versions(upip, extra) == {"fx-extras": "1.0", "micropython-fxalias": "0.1",
                                     "micropython-fx-base": "1.1"}


def test_requirements_file_with_nesting_and_index_option(upip: Upip, index: IndexServer,
                                                         tmp_path: Path) -> None:
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "base.txt").write_text(
        "# shared pins\nmicropython-fx-base==1.0  # the old one\n")
    (tmp_path / "reqs" / "app.txt").write_text(
        f"--index-url {index.simple_url}\n-r base.txt\n\nmicropython-fxalias \\\n  >=0.1\n")
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "-r", str(tmp_path / "reqs" / "app.txt"))
    assert code == 0, err
    assert versions(upip, lib) == {"micropython-fx-base": "1.0", "micropython-fxalias": "0.1"}


def test_find_links_directory(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    links = tmp_path / "wheelhouse"
    links.mkdir()
    (links / "micropython-fx-local-3.0.tar.gz").write_bytes(upip_sdist(
        "micropython-fx-local", "3.0", {"fxlocal.py": "X = 3\n"},
        requires=["micropython-fx-base==1.0"]))
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "-i", index.json_url, "-f", str(links),
                        "micropython-fx-local")
    assert code == 0, err
    assert versions(upip, lib) == {"micropython-fx-local": "3.0", "micropython-fx-base": "1.0"}


def test_local_archive_project_dir_and_url(upip: Upip, index: IndexServer,
                                           tmp_path: Path) -> None:
    archive = tmp_path / "micropython-fx-file-0.5.tar.gz"
    archive.write_bytes(upip_sdist("micropython-fx-file", "0.5", {"fxfile.py": ""},
                                   requires=["micropython-fx-base<2"]))
    project = tmp_path / "proj"
    (project / "src" / "fxproj").mkdir(parents=True)
    (project / "src" / "fxproj" / "__init__.py").write_text("P = 1\n")
    (project / "tests").mkdir()
    (project / "tests" / "test_x.py").write_text("")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "fx-proj"\nversion = "0.2"\ndependencies = ["micropython-fxalias"]\n')
    url = f"{index.url}/files/micropython-fx-app-1.0.tar.gz"
    lib = tmp_path / "lib"
    code, _out, err = upip("install", "-p", str(lib), "-i", index.json_url, str(archive),
                          str(project), url)
    assert code == 0, err
    assert versions(upip, lib) == {"micropython-fx-file": "0.5", "fx-proj": "0.2",
                                   "micropython-fxalias": "0.1", "micropython-fx-app": "1.0",
                                   "micropython-fx-base": "1.1"}
    assert (lib / "fxproj" / "__init__.py").read_text() == "P = 1\n"
    assert not (lib / "tests").exists()
    assert "no sha256" in err  # a bare URL cannot be verified; upip says so


def test_url_with_sha256_fragment_is_verified(upip: Upip, index: IndexServer,
                                              tmp_path: Path) -> None:
    url = f"{index.url}/files/micropython-fx-base-1.0.tar.gz#sha256={'0' * 64}"
    code, _, err = upip("install", "-p", str(tmp_path / "lib"), "-i", index.json_url, url)
    assert code == 1 and "sha256 of micropython-fx-base-1.0.tar.gz" in err
    assert not (tmp_path / "lib").exists()


def test_dry_run_writes_nothing(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    code, out, err = upip("install", "-p", str(lib), "-i", index.json_url, "--dry-run",
                          "micropython-fx-app")
    assert code == 0, err
    assert out.startswith("Would install micropython-fx-app 1.0, micropython-fx-base 1.1")
    assert not lib.exists()


def test_json_report(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    code, out, _ = upip("install", "-p", str(lib), "-i", index.json_url, "--json",
                        "micropython-fx-app")
    report = json.loads(out)
    assert code == 0 and report["target"] == str(lib) and not report["dry_run"]
    assert [(i["name"], i["version"], i["requested"]) for i in report["installed"]] == [
        ("micropython-fx-app", "1.0", True), ("micropython-fx-base", "1.1", False)]


def test_python_api(index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    report = upip.install(["micropython-fx-app"], str(lib), index=index.json_url)
    assert [str(i) for i in report.installed] == ["micropython-fx-app 1.0",
                                                  "micropython-fx-base 1.1"]
    with pytest.raises(NoMatchingVersion):
        upip.install("micropython-fx-base==7", str(lib), index_url=index.json_url)
    with pytest.raises(UpipError):
        upip.install("no-such-thing", str(lib), index_url=index.json_url)


def test_default_target_is_the_unix_ports_lib(upip: Upip, index: IndexServer,
                                              isolated_home: Path, micropython) -> None:
    code, _, err = upip("install", "-i", index.json_url, "micropython-fx-base==1.1")
    assert code == 0, err
    assert (isolated_home / ".micropython" / "lib" / "fxbase.py").is_file()
    # The unix port imports from ~/.micropython/lib with no MICROPYPATH at all.
    import os
    import subprocess

    from tests.support.mpy import micropython_command

    env = {k: v for k, v in os.environ.items() if k != "MICROPYPATH"}
    run = subprocess.run([micropython_command(), "-c", "import fxbase; print(fxbase.VERSION)"],
                         capture_output=True, text=True, env=env)
    assert run.stdout.strip() == "1.1", run.stderr


def test_several_sources_are_merged(upip: Upip, make_index, tmp_path: Path) -> None:
    main = make_index([fx_base("1.0")])
    extra = make_index([fx_base("1.1"), *[d for d in catalog() if d.name == "micropython-fxalias"]])
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "-i", main.json_url, "--extra-index-url",
                        extra.simple_url, "micropython-fx-base", "fxalias")
    assert code == 0, err
    assert versions(upip, lib) == {"micropython-fx-base": "1.1", "micropython-fxalias": "0.1"}
