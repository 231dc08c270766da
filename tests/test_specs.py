"""Requirement specs as users type them, and requirements files on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from upip.errors import InvalidSpec, RequirementsFileError
from upip.specs import parse_spec, read_requirements

# -- named requirements ----------------------------------------------------------


def test_bare_name() -> None:
    spec = parse_spec("micropython-pystone_lowmem")
    assert spec.name == "micropython-pystone_lowmem"
    assert spec.key == "micropython-pystone-lowmem"
    assert spec.specifier == SpecifierSet()
    assert (spec.path, spec.url, spec.marker, spec.extras) == (None, None, None, frozenset())
    assert str(spec) == "micropython-pystone_lowmem"


def test_name_with_dots_is_a_name_not_a_path() -> None:
    spec = parse_spec("micropython-umqtt.simple")
    assert spec.name == "micropython-umqtt.simple"
    assert spec.key == "micropython-umqtt-simple"
    assert spec.path is None


def test_exact_pin() -> None:
    spec = parse_spec("micropython-fx-base==1.2")
    assert spec.name == "micropython-fx-base"
    assert spec.specifier == SpecifierSet("==1.2")
    assert "1.2" in spec.specifier
    assert "1.2.1" not in spec.specifier


def test_range() -> None:
    spec = parse_spec("micropython-fx-base>=1,<2")
    assert spec.specifier == SpecifierSet(">=1,<2")
    assert [v for v in ("0.9", "1.0", "1.9", "2.0") if v in spec.specifier] == ["1.0", "1.9"]
    assert str(spec) == "micropython-fx-base<2,>=1"


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse_spec("  micropython-fx-base==1.0 \n").specifier == SpecifierSet("==1.0")


def test_mip_style_version() -> None:
    spec = parse_spec("micropython-fx-base@1.2")
    assert spec.name == "micropython-fx-base"
    assert spec.specifier == SpecifierSet("==1.2")
    assert spec.text == "micropython-fx-base@1.2"


def test_mip_style_latest_means_no_pin() -> None:
    spec = parse_spec("micropython-fx-base@latest")
    assert spec.name == "micropython-fx-base"
    assert spec.specifier == SpecifierSet()


def test_extras_are_normalised() -> None:
    spec = parse_spec("fx-std[Fast_IO,tls]>=0.3")
    assert spec.name == "fx-std"
    assert spec.extras == frozenset({"fast-io", "tls"})
    assert spec.specifier == SpecifierSet(">=0.3")
    assert str(spec) == "fx-std[fast-io,tls]>=0.3"


def test_marker_is_kept() -> None:
    spec = parse_spec('fx-never; implementation_name == "cpython"')
    assert spec.name == "fx-never"
    assert str(spec.marker) == 'implementation_name == "cpython"'


# -- markers evaluated for MicroPython -------------------------------------------


@pytest.mark.parametrize(
    ("marker", "applies"),
    [
        ('implementation_name == "micropython"', True),
        ('implementation_name == "cpython"', False),
        ('platform_python_implementation == "MicroPython"', True),
        ('python_version >= "3.4"', True),
        ('python_version >= "3.8"', False),
        ('sys_platform == "win32"', False),
        ('extra == "tests"', False),
    ],
)
def test_markers_for_micropython(marker: str, applies: bool) -> None:
    assert parse_spec(f"fx-dep; {marker}").applies() is applies


def test_spec_without_marker_always_applies() -> None:
    assert parse_spec("fx-dep").applies() is True


def test_applies_in_another_environment() -> None:
    spec = parse_spec('fx-dep; implementation_name == "cpython"')
    assert spec.applies({"implementation_name": "cpython"}) is True


# -- local archives and project directories -------------------------------------


@pytest.fixture
def dist_dir(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "micropython-fx-base-1.0.tar.gz").write_bytes(b"not read by parse_spec")
    (dist / "fx_wheel-1.0-py3-none-any.whl").write_bytes(b"not read either")
    (dist / "notes.txt").write_text("hello\n")
    return dist


def test_absolute_archive_path(dist_dir: Path) -> None:
    path = dist_dir / "micropython-fx-base-1.0.tar.gz"
    spec = parse_spec(str(path))
    assert spec.path == path
    assert (spec.name, spec.url) == (None, None)
    assert str(spec) == str(path)


def test_relative_archive_paths(
    dist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_spec("./dist/micropython-fx-base-1.0.tar.gz").path == Path(
        "./dist/micropython-fx-base-1.0.tar.gz"
    )
    assert parse_spec("dist/fx_wheel-1.0-py3-none-any.whl").path == Path(
        "dist/fx_wheel-1.0-py3-none-any.whl"
    )
    monkeypatch.chdir(dist_dir)
    # No slash at all: the archive suffix alone says "this is a file".
    assert parse_spec("fx_wheel-1.0-py3-none-any.whl").path == Path("fx_wheel-1.0-py3-none-any.whl")


def test_relative_path_against_base_dir(dist_dir: Path, tmp_path: Path) -> None:
    spec = parse_spec("micropython-fx-base-1.0.tar.gz", base_dir=dist_dir)
    assert spec.path == dist_dir / "micropython-fx-base-1.0.tar.gz"
    (tmp_path / "other").mkdir()
    spec = parse_spec("../dist/fx_wheel-1.0-py3-none-any.whl", base_dir=tmp_path / "other")
    assert spec.path == tmp_path / "other" / "../dist/fx_wheel-1.0-py3-none-any.whl"
    assert spec.path.resolve() == (dist_dir / "fx_wheel-1.0-py3-none-any.whl").resolve()


def test_absolute_path_ignores_base_dir(dist_dir: Path, tmp_path: Path) -> None:
    path = dist_dir / "micropython-fx-base-1.0.tar.gz"
    assert parse_spec(str(path), base_dir=tmp_path / "elsewhere").path == path


def test_home_relative_path(isolated_home: Path) -> None:
    (isolated_home / "micropython-fx-base-1.0.tar.gz").write_bytes(b"x")
    spec = parse_spec("~/micropython-fx-base-1.0.tar.gz")
    assert spec.path == isolated_home / "micropython-fx-base-1.0.tar.gz"


def test_project_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = tmp_path / "myproject"
    project.mkdir()
    assert parse_spec(str(project)).path == project
    monkeypatch.chdir(tmp_path)
    assert parse_spec("./myproject").path == Path("./myproject")
    monkeypatch.chdir(project)
    spec = parse_spec(".")
    assert spec.path == Path(".")
    assert spec.name is None


def test_not_an_archive_file(dist_dir: Path) -> None:
    with pytest.raises(InvalidSpec) as info:
        parse_spec(str(dist_dir / "notes.txt"))
    assert info.value.spec == str(dist_dir / "notes.txt")
    assert ".tar.gz or .whl" in info.value.reason
    assert "notes.txt" in str(info.value)


@pytest.mark.parametrize("text", ["./missing/micropython-fx-base-1.0.tar.gz", "missing.whl",
                                  "./no-such-dir"])
def test_missing_path(text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InvalidSpec) as info:
        parse_spec(text)
    assert info.value.spec == text
    assert "no such file or directory" in info.value.reason
    assert repr(text) in str(info.value)


# -- URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "https://example.org/files/micropython-fx-base-1.0.tar.gz",
    "http://example.org/files/fx_wheel-1.0-py3-none-any.whl",
    "https://example.org/files/fx-1.0.tgz#sha256=" + "ab" * 32,
    "file:///srv/dist/micropython-fx-base-1.0.tar.gz",
])
def test_archive_url(url: str) -> None:
    spec = parse_spec(url)
    assert spec.url == url
    assert (spec.name, spec.path) == (None, None)


def test_named_url() -> None:
    spec = parse_spec(
        'micropython-fx-base @ https://example.org/f/micropython-fx-base-1.0.tar.gz'
        ' ; implementation_name == "micropython"'
    )
    assert spec.name == "micropython-fx-base"
    assert spec.url == "https://example.org/f/micropython-fx-base-1.0.tar.gz"
    assert spec.path is None
    assert spec.applies() is True


@pytest.mark.parametrize("text", [
    "micropython-fx-base@https://example.org/f/micropython-fx-base-1.0.tar.gz",
    "micropython-fx-base @https://example.org/f/micropython-fx-base-1.0.tar.gz",
    "micropython-fx-base@ https://example.org/f/micropython-fx-base-1.0.tar.gz",
])
def test_named_url_without_spaces_around_at(text: str) -> None:
    spec = parse_spec(text)
    assert spec.name == "micropython-fx-base"
    assert spec.url == "https://example.org/f/micropython-fx-base-1.0.tar.gz"


@pytest.mark.parametrize(("text", "reason"), [
    ("https://example.org/files/fx-1.0.zip", "a URL must point at a .tar.gz or .whl archive, "
     "a package.json (or its folder) or a .py file"),
    ("micropython-fx-base @ https://example.org/repo.git",
     "a URL must point at a .tar.gz or .whl archive"),
])
def test_url_that_is_not_an_archive(text: str, reason: str) -> None:
    with pytest.raises(InvalidSpec) as info:
        parse_spec(text)
    assert info.value.spec == text
    assert info.value.reason == reason


# -- malformed specs ----------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "",
    "   ",
    "micropython fx base",
    "micropython-fx-base==",
    ">=1.0",
    "micropython-fx-base[",
    "micropython-fx-base@",
    "micropython-fx-base>=1.0; bogus_marker == 'x'",
])
def test_malformed_spec(text: str) -> None:
    with pytest.raises(InvalidSpec) as info:
        parse_spec(text, origin="cli")
    assert info.value.spec == text
    assert info.value.origin == "cli"
    assert str(info.value).startswith(f"cli: invalid requirement {text!r}: ")
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("text", ["micropython-fx-base@1.x", "micropython-fx-base@one",
                                  "micropython-fx-base@1..2"])
def test_bad_mip_version(text: str) -> None:
    with pytest.raises(InvalidSpec) as info:
        parse_spec(text)
    version = text.split("@")[1]
    assert info.value.reason == f"{version!r} is not a version"
    assert repr(text) in str(info.value)


# -- requirements files -------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_requirements_comments_blanks_and_continuations(tmp_path: Path) -> None:
    req = write(tmp_path / "requirements.txt", (
        "# full-line comment\n"
        "micropython-fx-base>=1.1   # trailing comment\n"
        "\n"
        "   \n"
        "    # indented comment\n"
        "micropython-fx-app \\\n"
        "    ==1.0\n"
        "https://example.org/f/fx-1.0.tar.gz#sha256=abcd\n"
        'fx-never; implementation_name == "cpython"  # not for us\n'
    ))
    result = read_requirements(req)
    assert [str(s) for s in result.specs] == [
        "micropython-fx-base>=1.1",
        "micropython-fx-app==1.0",
        "https://example.org/f/fx-1.0.tar.gz#sha256=abcd",
        "fx-never",
    ]
    assert [s.origin for s in result.specs] == [
        f"{req}:2", f"{req}:6", f"{req}:8", f"{req}:9"]
    assert result.specs[2].url == "https://example.org/f/fx-1.0.tar.gz#sha256=abcd"
    assert result.specs[3].applies() is False
    assert (result.index_url, result.extra_index_urls, result.find_links, result.pre) == (
        None, [], [], False)


def test_comment_ending_in_backslash_does_not_continue(tmp_path: Path) -> None:
    req = write(tmp_path / "requirements.txt",
                "# built on Windows into C:\\dist\\\nmicropython-fx-base\n")
    assert [s.name for s in read_requirements(req).specs] == ["micropython-fx-base"]


def test_requirements_index_options(tmp_path: Path) -> None:
    req = write(tmp_path / "requirements.txt", (
        "-i https://mirror.example/pypi\n"
        "--extra-index-url https://extra.example/simple\n"
        "--extra-index-url=https://more.example/simple\n"
        "-f ./wheels\n"
        "--find-links /srv/dists\n"
        "--pre\n"
        "micropython-fx-base\n"
    ))
    result = read_requirements(req)
    assert result.index_url == "https://mirror.example/pypi"
    assert result.extra_index_urls == ["https://extra.example/simple",
                                       "https://more.example/simple"]
    assert result.find_links == [tmp_path / "wheels", Path("/srv/dists")]
    assert result.pre is True
    assert [s.name for s in result.specs] == ["micropython-fx-base"]


def test_requirements_long_index_url_option(tmp_path: Path) -> None:
    req = write(tmp_path / "r.txt", "--index-url=https://mirror.example/simple\n")
    assert read_requirements(req).index_url == "https://mirror.example/simple"


def test_requirements_paths_are_relative_to_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path / "deploy" / "dist" / "micropython-fx-base-1.0.tar.gz", "x")
    req = write(tmp_path / "deploy" / "requirements.txt",
                "./dist/micropython-fx-base-1.0.tar.gz\n")
    monkeypatch.chdir(tmp_path)  # not the file's folder
    spec = read_requirements(Path("deploy/requirements.txt")).specs[0]
    assert spec.path is not None
    assert spec.path.resolve() == (req.parent / "dist/micropython-fx-base-1.0.tar.gz").resolve()


def test_nested_requirements(tmp_path: Path) -> None:
    write(tmp_path / "sub" / "dist" / "micropython-fx-app-1.0.tar.gz", "x")
    write(tmp_path / "sub" / "more.txt", (
        "micropython-fx-base>=1.1\n"
        "./dist/micropython-fx-app-1.0.tar.gz\n"
        "--extra-index-url https://extra.example/simple\n"
        "-r ../common/base.txt\n"
    ))
    write(tmp_path / "common" / "base.txt", "fx-wheel==1.0\n-i https://nested.example/pypi\n")
    top = write(tmp_path / "requirements.txt", "-r sub/more.txt\nfx-std\n")
    result = read_requirements(top)
    assert [s.name or s.path.name for s in result.specs if s.name or s.path] == [
        "micropython-fx-base", "micropython-fx-app-1.0.tar.gz", "fx-wheel", "fx-std"]
    app = result.specs[1]
    assert app.path is not None
    assert app.path.resolve() == (tmp_path / "sub/dist/micropython-fx-app-1.0.tar.gz").resolve()
    assert result.specs[0].origin == f"{(tmp_path / 'sub/more.txt').resolve()}:1"
    assert result.specs[3].origin == f"{top}:2"
    assert result.index_url == "https://nested.example/pypi"
    assert result.extra_index_urls == ["https://extra.example/simple"]


def test_the_same_file_may_be_included_twice(tmp_path: Path) -> None:
    write(tmp_path / "base.txt", "micropython-fx-base\n")
    write(tmp_path / "a.txt", "-r base.txt\n")
    top = write(tmp_path / "requirements.txt", "-r base.txt\n-r a.txt\n")
    assert [s.name for s in read_requirements(top).specs] == ["micropython-fx-base"] * 2


def test_file_that_includes_itself(tmp_path: Path) -> None:
    req = write(tmp_path / "requirements.txt", "micropython-fx-base\n-r requirements.txt\n")
    with pytest.raises(RequirementsFileError) as info:
        read_requirements(req)
    assert (info.value.path, info.value.line) == (str(req), 2)
    assert "includes itself" in str(info.value)


def test_include_cycle_through_another_file(tmp_path: Path) -> None:
    write(tmp_path / "b.txt", "-r a.txt\n")
    a = write(tmp_path / "a.txt", "-r b.txt\n")
    with pytest.raises(RequirementsFileError) as info:
        read_requirements(a)
    assert info.value.path.endswith("b.txt")
    assert info.value.line == 1
    assert "a.txt includes itself" in str(info.value)


@pytest.mark.parametrize("line", ["-e .", "--hash=sha256:abcd", "--no-binary :all:",
                                  "--trusted-host example.org"])
def test_unknown_option(tmp_path: Path, line: str) -> None:
    req = write(tmp_path / "requirements.txt", f"micropython-fx-base\n\n{line}\n")
    with pytest.raises(RequirementsFileError) as info:
        read_requirements(req)
    assert (info.value.path, info.value.line) == (str(req), 3)
    option = line.split()[0].split("=")[0]
    assert str(info.value).startswith(f"{req}:3: unsupported option {option!r}")


def test_option_without_value(tmp_path: Path) -> None:
    req = write(tmp_path / "requirements.txt", "-i\n")
    with pytest.raises(RequirementsFileError) as info:
        read_requirements(req)
    assert str(info.value) == f"{req}:1: -i needs a value"


def test_bad_spec_in_requirements_file_names_file_and_line(tmp_path: Path) -> None:
    req = write(tmp_path / "requirements.txt", "micropython-fx-base\n# c\nfx-std==\n")
    with pytest.raises(InvalidSpec) as info:
        read_requirements(req)
    assert info.value.origin == f"{req}:3"
    assert str(info.value).startswith(f"{req}:3: invalid requirement 'fx-std=='")


def test_missing_requirements_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(RequirementsFileError) as info:
        read_requirements(missing)
    assert (info.value.path, info.value.line) == (str(missing), 0)
    assert str(info.value) == f"{missing}: no such requirements file"


def test_missing_nested_requirements_file(tmp_path: Path) -> None:
    top = write(tmp_path / "requirements.txt", "-r gone.txt\n")
    with pytest.raises(RequirementsFileError) as info:
        read_requirements(top)
    assert info.value.path == str((tmp_path / "gone.txt").resolve())
    assert "no such requirements file" in str(info.value)


def test_undecodable_requirements_file(tmp_path: Path) -> None:
    req = tmp_path / "requirements.txt"
    req.write_bytes(b"micropython-fx-base\n\xff\xfe\n")
    with pytest.raises(RequirementsFileError) as info:
        read_requirements(req)
    assert info.value.path == str(req)
    assert "cannot read it" in str(info.value)
