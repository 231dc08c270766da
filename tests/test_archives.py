"""Safe reading of .tar.gz and .zip archives: what is returned, what is refused."""

from __future__ import annotations

import gzip
import io
import tarfile
import time
import zipfile

import pytest

from tests.support.builders import (
    MTIME,
    evil_sdist,
    file_info,
    gzip_4k,
    special_info,
    tar_bytes,
    upip_sdist,
    wheel,
    zip_with_link,
)
from upip.archives import Limits, clean_member_path, read_archive, read_tar, read_zip
from upip.errors import CorruptArchive, UnsafeArchive

NAME, VERSION = "micropython-evil", "1.0"
TOP = f"{NAME}-{VERSION}"


def zip_bytes(members: dict[str, bytes], modes: dict[str, int] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in members.items():
            zi = zipfile.ZipInfo(path, time.gmtime(MTIME)[:6])
            zi.external_attr = (modes or {}).get(path, 0o100644) << 16
            zf.writestr(zi, data)
    return buf.getvalue()


# -- normal members ---------------------------------------------------------------------


def test_read_tar_members_and_bytes() -> None:
    dirs = [special_info(f"{TOP}/", tarfile.DIRTYPE), special_info(f"{TOP}/pkg", tarfile.DIRTYPE)]
    data = gzip_4k(tar_bytes([
        *dirs,
        file_info(f"{TOP}/pkg/__init__.py", b"X = 1\n"),
        file_info(f"./{TOP}/pkg/data/blob.bin", bytes(range(256))),
        file_info(f"{TOP}//pkg/empty.py", b""),
    ]))
    contents = read_tar("micropython-evil-1.0.tar.gz", data)
    assert contents.files == {
        f"{TOP}/pkg/__init__.py": b"X = 1\n",
        f"{TOP}/pkg/data/blob.bin": bytes(range(256)),
        f"{TOP}/pkg/empty.py": b"",
    }
    assert contents.skipped == []


def test_read_tar_plain_and_standard_gzip() -> None:
    raw = tar_bytes([file_info(f"{TOP}/a.py", b"A = 1\n")])
    for data in (raw, gzip.compress(raw), gzip_4k(raw)):
        assert read_tar("x.tar.gz", data).files == {f"{TOP}/a.py": b"A = 1\n"}


def test_read_zip_members_and_bytes() -> None:
    data = wheel("fx-wheel", "1.0", {"fxwheel.py": "X = 1\n", "fxdata/a.txt": b"\x00\x01"})
    contents = read_zip("fx_wheel-1.0-py3-none-any.whl", data)
    assert sorted(contents.files) == [
        "fx_wheel-1.0.dist-info/METADATA", "fx_wheel-1.0.dist-info/RECORD",
        "fx_wheel-1.0.dist-info/WHEEL", "fxdata/a.txt", "fxwheel.py"]
    assert contents.files["fxwheel.py"] == b"X = 1\n"
    assert contents.files["fxdata/a.txt"] == b"\x00\x01"
    assert contents.skipped == []


def test_read_zip_directory_entries_and_modeless_files() -> None:
    data = zip_bytes({"pkg/": b"", "pkg/a.py": b"A\n", "pkg/b.py": b"B\n"},
                     modes={"pkg/": 0o040755, "pkg/b.py": 0})
    assert read_zip("x.whl", data).files == {"pkg/a.py": b"A\n", "pkg/b.py": b"B\n"}


def test_read_archive_dispatches_on_the_name() -> None:
    whl = wheel("fx-wheel", "1.0", {"fxwheel.py": "X = 1\n"})
    sdist = upip_sdist("micropython-fx", "1.0", {"fx.py": "X = 2\n"})
    assert read_archive("fx_wheel-1.0-py3-none-any.whl", whl).files["fxwheel.py"] == b"X = 1\n"
    assert read_archive("micropython-fx-1.0.tar.gz", sdist).files[
        "micropython-fx-1.0/fx.py"] == b"X = 2\n"
    with pytest.raises(CorruptArchive) as info:
        read_archive("fx_wheel-1.0.tar.gz", whl)  # a zip under a tarball's name
    assert info.value.archive == "fx_wheel-1.0.tar.gz"


# -- malicious members ----------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "member", "reason"), [
    ("absolute", "/tmp/upip-evil-absolute.py", "absolute path"),
    ("dotdot", f"{TOP}/../../upip-evil-dotdot.py", "'..'"),
    ("link-outside", f"{TOP}/evil/passwd.py", "link to absolute path '/etc/passwd'"),
    ("link-escape", f"{TOP}/evil/up.py", "points outside the archive"),
    ("hardlink", f"{TOP}/evil/hard.py", "hard link"),
    ("device", f"{TOP}/evil/dev", "device node"),
    ("fifo", f"{TOP}/evil/fifo", "FIFO"),
    ("bomb", f"{TOP}/evil/bomb.bin", "over the 33554432 limit"),
    ("backslash", f"{TOP}/evil\\bad.py", "backslash"),
    ("twice", f"{TOP}/evil/__init__.py", "listed twice"),
])
def test_evil_sdist_is_refused(kind: str, member: str, reason: str) -> None:
    archive = f"{TOP}.tar.gz"
    with pytest.raises(UnsafeArchive) as info:
        read_archive(archive, evil_sdist(NAME, VERSION, kind))
    assert info.value.archive == archive
    assert info.value.member == member
    assert reason in info.value.reason
    assert str(info.value).startswith(f"{archive}: refusing member {member!r}: ")


def test_total_size_limit_over_many_small_members() -> None:
    members = [file_info(f"{TOP}/m{i:02}.py", b"x" * 1000) for i in range(10)]
    data = gzip_4k(tar_bytes(members))
    assert len(read_tar("ok.tar.gz", data, Limits(max_total=10_000)).files) == 10
    with pytest.raises(UnsafeArchive) as info:
        read_tar("big.tar.gz", data, Limits(max_total=5_500))
    assert info.value.member == f"{TOP}/m05.py"  # the sixth brings the total to 6000
    assert "over 5500 bytes" in info.value.reason


def test_member_count_limit() -> None:
    members = [file_info(f"{TOP}/m{i}.py", b"x") for i in range(4)]
    data = tar_bytes(members)
    assert len(read_tar("ok.tar", data, Limits(max_members=4)).files) == 4
    with pytest.raises(UnsafeArchive) as info:
        read_tar("many.tar", data, Limits(max_members=3))
    assert info.value.member == f"{TOP}/m3.py"
    assert info.value.reason == "more than 3 members"


def test_directories_count_as_members() -> None:
    data = tar_bytes([special_info(f"{TOP}/a", tarfile.DIRTYPE),
                      special_info(f"{TOP}/b", tarfile.DIRTYPE), file_info(f"{TOP}/a/x.py", b"")])
    with pytest.raises(UnsafeArchive) as info:
        read_tar("dirs.tar", data, Limits(max_members=2))
    assert info.value.member == f"{TOP}/a/x.py"


def test_zip_limits() -> None:
    data = zip_bytes({"pkg/a.py": b"a" * 100, "pkg/b.py": b"b" * 100})
    with pytest.raises(UnsafeArchive) as info:
        read_zip("x.whl", data, Limits(max_member=99))
    assert info.value.member == "pkg/a.py"
    with pytest.raises(UnsafeArchive) as info:
        read_zip("x.whl", data, Limits(max_total=150))
    assert info.value.member == "pkg/b.py"
    with pytest.raises(UnsafeArchive) as info:
        read_zip("x.whl", data, Limits(max_members=1))
    assert info.value.member == "pkg/b.py"


# -- symbolic links ---------------------------------------------------------------------------


def test_tar_symlink_inside_is_skipped_not_returned() -> None:
    data = upip_sdist(NAME, VERSION, {"pkg/real.py": "R = 1\n"}, extra=[
        special_info(f"{TOP}/pkg/alias.py", tarfile.SYMTYPE, "real.py"),
        special_info(f"{TOP}/pkg/sub/up.py", tarfile.SYMTYPE, "../real.py"),
        special_info(f"{TOP}/pkg/sibling.py", tarfile.SYMTYPE, "../../other-1.0/other.py"),
    ])
    contents = read_tar(f"{TOP}.tar.gz", data)
    assert sorted(contents.files) == [
        f"{TOP}/micropython_evil.egg-info/PKG-INFO", f"{TOP}/pkg/real.py"]
    assert contents.skipped == [
        (f"{TOP}/pkg/alias.py", "symbolic link to real.py"),
        (f"{TOP}/pkg/sub/up.py", "symbolic link to ../real.py"),
        (f"{TOP}/pkg/sibling.py", "symbolic link to ../../other-1.0/other.py"),
    ]


@pytest.mark.parametrize(("target", "reason"), [
    ("/etc/passwd", "link to absolute path '/etc/passwd'"),
    ("C:/Windows/system.ini", "absolute path"),
    ("..\\..\\x", "absolute path"),
    ("", "absolute path"),
    ("../../../x", "points outside the archive"),
    ("ok/../../../../x", "points outside the archive"),
])
def test_tar_symlink_leaving_the_archive_is_refused(target: str, reason: str) -> None:
    data = upip_sdist(NAME, VERSION, {"pkg/real.py": "R = 1\n"}, extra=[
        special_info(f"{TOP}/pkg/link.py", tarfile.SYMTYPE, target)])
    with pytest.raises(UnsafeArchive) as info:
        read_tar(f"{TOP}.tar.gz", data)
    assert info.value.member == f"{TOP}/pkg/link.py"
    assert reason in info.value.reason


@pytest.mark.parametrize("target", ["__init__.py", "../linky/__init__.py", "./__init__.py"])
def test_zip_symlink_inside_is_skipped(target: str) -> None:
    contents = read_zip("linky-1.0-py3-none-any.whl", zip_with_link("linky", "1.0", target))
    assert "linky/link.py" not in contents.files
    assert contents.files["linky/__init__.py"] == b"X = 1\n"
    assert contents.skipped == [("linky/link.py", f"symbolic link to {target}")]


@pytest.mark.parametrize(("target", "reason"), [
    ("/etc/passwd", "link to absolute path '/etc/passwd'"),
    ("../../etc/passwd", "points outside the archive"),
])
def test_zip_symlink_leaving_the_archive_is_refused(target: str, reason: str) -> None:
    with pytest.raises(UnsafeArchive) as info:
        read_zip("linky-1.0-py3-none-any.whl", zip_with_link("linky", "1.0", target))
    assert info.value.member == "linky/link.py"
    assert reason in info.value.reason


def test_zip_special_file_is_refused() -> None:
    data = zip_bytes({"pkg/fifo": b""}, modes={"pkg/fifo": 0o010644})
    with pytest.raises(UnsafeArchive) as info:
        read_zip("x.whl", data)
    assert (info.value.member, info.value.reason) == ("pkg/fifo", "not a regular file")


# -- duplicates and odd names ---------------------------------------------------------------


@pytest.mark.parametrize("second", [f"{TOP}/pkg/a.py", f"{TOP}/./pkg/a.py", f"./{TOP}/pkg//a.py"])
def test_tar_duplicate_member_is_refused(second: str) -> None:
    data = tar_bytes([file_info(f"{TOP}/pkg/a.py", b"good\n"), file_info(second, b"evil\n")])
    with pytest.raises(UnsafeArchive) as info:
        read_tar("dup.tar", data)
    assert info.value.member == second
    assert info.value.reason == "listed twice"


def test_tar_file_over_directory_is_refused() -> None:
    data = tar_bytes([special_info(f"{TOP}/pkg", tarfile.DIRTYPE), file_info(f"{TOP}/pkg", b"")])
    with pytest.raises(UnsafeArchive, match="listed twice"):
        read_tar("dup.tar", data)


def test_zip_duplicate_member_is_refused() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, pytest.warns(UserWarning, match="Duplicate name"):
        zf.writestr("pkg/a.py", "good\n")
        zf.writestr("pkg/a.py", "evil\n")
    with pytest.raises(UnsafeArchive) as info:
        read_zip("dup.whl", buf.getvalue())
    assert (info.value.member, info.value.reason) == ("pkg/a.py", "listed twice")


@pytest.mark.parametrize("name", [f"{TOP}/pkg\\evil.py", f"{TOP}/pkg/evil\n.py",
                                  f"{TOP}/pkg/evil\r.py", f"{TOP}/pkg/tab\t.py"])
def test_tar_names_with_backslash_or_control_characters(name: str) -> None:
    with pytest.raises(UnsafeArchive) as info:
        read_tar("odd.tar", tar_bytes([file_info(name, b"x")]))
    assert info.value.member == name
    assert info.value.reason == "backslash or control character in the path"


def test_zip_name_with_backslash() -> None:
    with pytest.raises(UnsafeArchive) as info:
        read_zip("odd.whl", zip_bytes({"..\\..\\evil.py": b"x"}))
    assert info.value.member == "..\\..\\evil.py"


def test_names_with_nul_are_refused() -> None:
    # Neither tarfile nor zipfile can carry a NUL in a name; the check itself must hold.
    with pytest.raises(UnsafeArchive) as info:
        clean_member_path("odd.tar", "pkg/evil\x00.py")
    assert info.value.member == "pkg/evil\x00.py"


@pytest.mark.parametrize(("raw", "clean"), [
    ("a/b/c.py", "a/b/c.py"), ("./a//b/./c.py", "a/b/c.py"), ("a/", "a"), ("./", None), (".", None),
])
def test_clean_member_path(raw: str, clean: str | None) -> None:
    assert clean_member_path("x.tar", raw) == clean


@pytest.mark.parametrize("raw", ["/a.py", "C:/a.py", "c:a.py", "a/../../b.py", "../a.py"])
def test_clean_member_path_refuses_escapes(raw: str) -> None:
    with pytest.raises(UnsafeArchive):
        clean_member_path("x.tar", raw)


# -- corrupt data -----------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"garbage" * 100, b"\x1f\x8b\x08\x00" + b"junk" * 50,
                                  b"PK\x03\x04" + b"\x00" * 100])
def test_garbage_tar(data: bytes) -> None:
    with pytest.raises(CorruptArchive) as info:
        read_tar("junk.tar.gz", data)
    assert info.value.archive == "junk.tar.gz"
    assert str(info.value).startswith("junk.tar.gz is not a readable distribution: ")


@pytest.mark.parametrize("data", [b"", b"garbage" * 100, gzip.compress(b"not a zip", mtime=0)])
def test_garbage_zip(data: bytes) -> None:
    with pytest.raises(CorruptArchive) as info:
        read_zip("junk.whl", data)
    assert info.value.archive == "junk.whl"


def test_truncated_zip() -> None:
    data = wheel("fx-wheel", "1.0", {"fxwheel.py": "X = 1\n" * 1000})
    with pytest.raises(CorruptArchive):
        read_zip("cut.whl", data[: len(data) // 2])


def _big_sdist() -> bytes:
    body = "".join(f"LINE_{i} = {i * 7919 % 100003}\n" for i in range(5000))
    return upip_sdist(NAME, VERSION, {"pkg/__init__.py": body})


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9])
def test_truncated_gzip(keep: float) -> None:
    data = _big_sdist()
    with pytest.raises(CorruptArchive) as info:
        read_tar("cut.tar.gz", data[: int(len(data) * keep)])
    assert "truncated" in info.value.reason


@pytest.mark.parametrize("cut", [600, 1000, 1536, 2047])
def test_plain_tar_cut_inside_a_member(cut: int) -> None:
    body = bytes(range(256)) * 6  # 1536 bytes: data blocks at 512..2048 after the header
    data = tar_bytes([file_info(f"{TOP}/a.py", body), file_info(f"{TOP}/b.py", b"B\n")])
    with pytest.raises(CorruptArchive) as info:
        read_tar("cut.tar", data[:cut])
    assert info.value.archive == "cut.tar"


def test_member_bytes_are_what_tarfile_extracts() -> None:
    members = [file_info(f"{TOP}/m{i}.py", bytes([i]) * (i * 173)) for i in range(12)]
    data = tar_bytes(members)
    expected = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar:
            stream = tar.extractfile(member)
            if stream is not None:
                expected[member.name] = stream.read()
    assert read_tar("x.tar", data).files == expected


def test_gzip_with_a_wrong_crc() -> None:
    data = bytearray(_big_sdist())
    data[-8] ^= 0xFF  # first byte of the CRC32 in the trailer
    with pytest.raises(CorruptArchive):
        read_tar("crc.tar.gz", bytes(data))
