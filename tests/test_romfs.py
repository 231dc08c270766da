"""ROMFS images: round trips, MicroPython's own VfsRom, mpremote's builder, bad input."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from upip import romfs
from upip.errors import UpipError
from upip.mpy import compile_source, mpy_name
from upip.romfs import Entry, RomfsError, build, extract, read

Run = Callable[..., "subprocess.CompletedProcess[str]"]

BINARY = bytes(range(256)) * 3 + b"\0\xff\x80\x00"

TREE = {
    "boot.py": b"print('boot')\n",
    "empty": b"",
    "lib/pkg/__init__.py": b"",
    "lib/pkg/core.py": b"VALUE = 42\n",
    "lib/pkg/data.bin": BINARY,
    "lib/pkg/sub/deep/leaf.txt": b"leaf\n",
    "lib/single.py": b"X = 1\n",
    "z-last/a-b": b"ab",
    "z-last/a/x": b"x",  # 'a' sorts before 'a-b' per directory, not by whole path
}


def entries(image: bytes) -> list[tuple[str, str, int]]:
    return [(e.path, e.kind, e.size) for e in read(image)]


# --- round trips --------------------------------------------------------------------------


def test_round_trip_nested_tree() -> None:
    image = build(TREE)
    assert image[:3] == b"\xd2\xcd\x31"
    assert extract(image) == TREE
    assert entries(image) == [
        ("boot.py", "file", 14),
        ("empty", "file", 0),
        ("lib", "dir", 0),
        ("lib/pkg", "dir", 0),
        ("lib/pkg/__init__.py", "file", 0),
        ("lib/pkg/core.py", "file", 11),
        ("lib/pkg/data.bin", "file", len(BINARY)),
        ("lib/pkg/sub", "dir", 0),
        ("lib/pkg/sub/deep", "dir", 0),
        ("lib/pkg/sub/deep/leaf.txt", "file", 5),
        ("lib/single.py", "file", 6),
        ("z-last", "dir", 0),
        ("z-last/a", "dir", 0),
        ("z-last/a/x", "file", 1),
        ("z-last/a-b", "file", 2),
    ]


def test_entries_point_at_the_file_data() -> None:
    image = build(TREE)
    for entry in read(image):
        if entry.kind == "dir":
            assert (entry.size, entry.offset) == (0, -1)
        else:
            assert image[entry.offset : entry.offset + entry.size] == TREE[entry.path]


def test_accepts_any_bytes_like() -> None:
    image = build({"a": bytearray(b"xy"), "b": memoryview(b"z")})  # type: ignore[dict-item]
    assert extract(bytearray(image)) == extract(memoryview(image)) == {"a": b"xy", "b": b"z"}


def test_empty_tree_and_empty_files() -> None:
    assert build({}) == b"\xd2\xcd\x31\x00"
    assert read(build({})) == []
    assert extract(build({"a": b"", "b/c": b""})) == {"a": b"", "b/c": b""}


def test_output_is_deterministic_and_sorted() -> None:
    reverse = dict(reversed(list(TREE.items())))
    assert build(reverse) == build(TREE)
    names = [e.path for e in read(build({f"m{i:03}.py": b"%d" % i for i in (5, 1, 3)}))]
    assert names == ["m001.py", "m003.py", "m005.py"]


@pytest.mark.parametrize("size", [0, 1, 2, 3, 126, 127, 128, 129, 16382, 16383, 16384, 16385])
def test_sizes_across_varuint_boundaries_and_even_total(size: int) -> None:
    for extra in range(2):  # both parities of the raw image length
        files = {"f": bytes(size), "pad": b"p" * extra}
        image = build(files)
        assert len(image) % 2 == 0
        assert extract(image) == files


def test_many_files() -> None:
    files = {f"lib/p{i % 7}/m{i:04}.py": f"N = {i}\n".encode() * (i % 50) for i in range(700)}
    image = build(files)
    assert extract(image) == files
    assert sum(e.kind == "dir" for e in read(image)) == 8


def test_unicode_names() -> None:
    files = {"données/été.txt": "été".encode(), "日本/語.bin": b"\x00\x01", "ñ": b"n"}
    image = build(files)
    assert extract(image) == files
    assert b"\x09" + "été.txt".encode() in image  # UTF-8 name with its byte length


def test_large_file() -> None:
    files = {"big.bin": BINARY * 3000, "small": b"s"}  # > 2 MiB: 4-byte varuints
    assert extract(build(files)) == files


def test_repeated_content_is_stored_once() -> None:
    files = {"a/LICENSE": BINARY, "b/LICENSE": BINARY, "c/LICENSE": BINARY, "tiny1": b"xy",
             "tiny2": b"xy"}
    small, plain = build(files), build(files, dedupe=False)
    assert len(small) < len(plain) - 2 * (len(BINARY) - 10)  # a pointer takes 8 bytes here
    assert small.count(BINARY) == 1
    assert extract(small) == extract(plain) == files
    offsets = {e.offset for e in read(small) if e.path.endswith("LICENSE")}
    assert len(offsets) == 1
    assert len(small) % 2 == 0


def test_reads_images_from_other_writers() -> None:
    # Padding records, a padded varuint, top-level data and a data pointer to it,
    # an unknown record kind inside a file and in a directory, bytes after the image.
    data = b"\x02\x03abc"  # verbatim data at payload offset 0, content at offset 2
    pointer = b"\x03\x02\x03\x06"  # size 3, offset 6 (after the padding record)
    file_rec = b"\x05" + bytes([1 + 1 + 3 + len(pointer)]) + b"\x01p" + b"\x07\x01z" + pointer
    dir_rec = b"\x04" + bytes([2 + len(file_rec) + 3]) + b"\x01d" + b"\x09\x01q" + file_rec
    payload = b"\x01\x02##" + data + dir_rec
    image = b"\xd2\xcd\x31\x80" + bytes([len(payload)]) + payload
    assert extract(image + b"\xff" * 7) == {"d/p": b"abc"}
    assert read(image) == [Entry("d", "dir"), Entry("d/p", "file", 3, 5 + 6)]


# --- MicroPython's VfsRom -----------------------------------------------------------------


MOUNT = """
import vfs, sys, os
with open({image!r}, 'rb') as f:
    data = f.read()
vfs.mount(vfs.VfsRom(data), '/rom')
sys.path.insert(0, '/rom/lib')
"""


def test_micropython_mounts_image_and_imports_mpy_from_it(
        micropython: Run, tmp_path: Path) -> None:
    sources = {
        "lib/app/__init__.py": b"from .core import answer\nNAME = 'app'\n",
        "lib/app/core.py": b"def answer():\n    return 6 * 7\n",
        "lib/app/more/__init__.py": b"",
        "lib/app/more/twin.py": b"TWIN = 'same'\n",
        "lib/other/twin.py": b"TWIN = 'same'\n",
    }
    files = {mpy_name(p): compile_source(src, p.removeprefix("lib/")) for p, src in sources.items()}
    # Compiled under one name, the twins are the same bytes: one copy and a data pointer.
    twin = compile_source(sources["lib/other/twin.py"], "twin.py")
    files["lib/app/more/twin.mpy"] = files["lib/other/twin.mpy"] = twin
    files["lib/plain.py"] = b"PLAIN = [1, 2, 3]\n"
    files["lib/app/data.bin"] = BINARY
    files["lib/app/copy.bin"] = BINARY  # stored as a data pointer
    files["lib/été.txt"] = "été".encode()
    image = build(files)
    assert image.count(BINARY) == 1 and image.count(twin) == 1
    path = tmp_path / "app.romfs"
    path.write_bytes(image)
    code = MOUNT.format(image=str(path)) + """
import app, plain
print(app.NAME, app.answer(), plain.PLAIN)
import app.more.twin, other.twin
print(app.more.twin.TWIN, other.twin.TWIN)
print(app.__file__)
for name in ('data.bin', 'copy.bin'):
    with open('/rom/lib/app/' + name, 'rb') as f:
        blob = f.read()
    print(name, len(blob), blob == bytes(range(256)) * 3 + b'\\x00\\xff\\x80\\x00')
print(' '.join(sorted(os.listdir('/rom/lib'))))
print(os.stat('/rom/lib/app/copy.bin')[6])
print(open('/rom/lib/été.txt').read())
"""
    result = micropython(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "app 42 [1, 2, 3]",
        "same same",
        "/rom/lib/app/__init__.mpy",
        "data.bin 772 True",
        "copy.bin 772 True",
        "app other plain.py été.txt",
        "772",
        "été",
    ]


def test_micropython_lists_what_read_lists(micropython: Run, tmp_path: Path) -> None:
    path = tmp_path / "t.romfs"
    path.write_bytes(build(TREE))
    code = MOUNT.format(image=str(path)) + """
def walk(d, prefix):
    for name, kind, _, size in os.ilistdir(d):
        if kind == 0x4000:
            print(prefix + name, 'dir', 0)
            walk(d + '/' + name, prefix + name + '/')
        else:
            print(prefix + name, 'file', size)
walk('/rom', '')
"""
    result = micropython(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{p} {k} {s}" for p, k, s in entries(build(TREE))]


# --- mpremote's builder -------------------------------------------------------------------

needs_mpremote = pytest.mark.skipif(importlib.util.find_spec("mpremote") is None,
                                    reason="mpremote is not installed")


def mpremote_build(source: Path, output: Path, *options: str) -> bytes:
    # Options go before the word "build": mpremote hands what follows the
    # positionals to its next command.
    result = subprocess.run(
        [sys.executable, "-m", "mpremote", "romfs", *options, "-o", str(output), "build",
         str(source)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return output.read_bytes()


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


@needs_mpremote
def test_same_bytes_as_mpremote_without_repeats(tmp_path: Path) -> None:
    write_tree(tmp_path / "tree", TREE)
    theirs = mpremote_build(tmp_path / "tree", tmp_path / "theirs.romfs", "--no-mpy")
    assert build(TREE) == theirs
    assert extract(theirs) == TREE


@needs_mpremote
def test_no_larger_than_mpremote_and_reads_its_mpy_images(tmp_path: Path) -> None:
    files = dict(TREE)
    files["lib/pkg/copy.bin"] = BINARY
    files["lib/vendored/LICENSE"] = BINARY[:500]
    files["lib/other/LICENSE"] = BINARY[:500]
    write_tree(tmp_path / "tree", files)
    plain = mpremote_build(tmp_path / "tree", tmp_path / "plain.romfs", "--no-mpy")
    ours = build(files)
    assert extract(plain) == files
    assert len(ours) <= len(plain) - len(BINARY)
    assert build(files, dedupe=False) == plain

    compiled = mpremote_build(tmp_path / "tree", tmp_path / "mpy.romfs")  # .py -> .mpy
    got = extract(compiled)
    assert "lib/pkg/core.mpy" in got and "lib/pkg/core.py" not in got
    assert got["lib/pkg/core.mpy"][:1] == b"M"
    assert build(got, dedupe=False) == compiled
    assert len(build(got)) <= len(compiled)


def test_reads_micropythons_test_asset_format() -> None:
    # The layout of micropython/tests/assets/random_romfs.bin (made by mpremote):
    # a 3-byte image length and 3-byte file record lengths.
    files = {f"0x{i:08x}.bin": bytes([i]) * 16384 for i in range(6)}
    files["romfs_sentinel.txt"] = b"s" * 103
    image = build(files, dedupe=False)
    assert image[:6] == bytes.fromhex("d2 cd 31 86 82 08")
    assert image[6:10] == bytes.fromhex("05 81 80 13")
    assert extract(image) == files


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", [
    "/abs.py", "a/../b", "../up", "./a", "a/./b", "a//b", "a/", "", "nul\0name", "x" * 256,
    "/".join(["d" * 100] * 6), "lone\udcffsurrogate",
])
def test_bad_names_are_rejected(path: str) -> None:
    with pytest.raises(RomfsError) as info:
        build({"ok.py": b"", path: b"data"})
    assert isinstance(info.value, UpipError) and isinstance(info.value, ValueError)
    assert info.value.path == path
    assert repr(path) in str(info.value)
    assert "\n" not in str(info.value)


def test_longest_allowed_names() -> None:
    name = "n" * romfs.MAX_NAME
    path = "/".join([name, "m" * (romfs.MAX_PATH - romfs.MAX_NAME - 1)])
    assert extract(build({path: b"x"})) == {path: b"x"}


@pytest.mark.parametrize("files", [
    {"a": b"file", "a/b": b"inside"},
    {"a/b/c": b"deep", "a/b": b"file"},
])
def test_a_path_cannot_be_file_and_directory(files: dict[str, bytes]) -> None:
    with pytest.raises(RomfsError, match=r"'a/b?'.*(file|directory)"):
        build(files)


def test_non_str_path_is_rejected() -> None:
    with pytest.raises(RomfsError, match="must be str"):
        build({b"bytes.py": b""})  # type: ignore[dict-item]


def _image(payload: bytes) -> bytes:
    return b"\xd2\xcd\x31" + bytes([len(payload)]) + payload


GOOD = build({"d/f": b"abc"})


@pytest.mark.parametrize(("image", "message"), [
    (b"", "bad magic"),
    (b"\xd2\xcd", "bad magic"),
    (b"PK\x03\x04" + GOOD, "bad magic"),
    (b"\xd2\xcd\x31", "image length at byte 3 is truncated"),
    (b"\xd2\xcd\x31\x80", "image length at byte 3 is truncated"),
    (GOOD[:-1], "truncated"),
    (GOOD[:10], "truncated"),
    (_image(b"\x05\x09\x01f\x02\x05ab"), "runs past the end"),  # data longer than its file
    (_image(b"\x04\x09\x01d\x05\x06\x01f\x02\x01a"), "runs past the end of directory 'd'"),
    (_image(b"\x00\x00"), "kind 0"),
    (_image(b"\x05\x02\x01f"), "no data record"),
    (_image(b"\x05\x05\x01f\x01\x01#"), "no data record"),
    (_image(b"\x05\x06\x01f\x03\x02\x20\x00"), "points past the end"),
    (_image(b"\x05\x05\x01f\x03\x01\x85"), "size at byte 10 is truncated"),
    (_image(b"\x05\x04\x05f\x02\x00"), "name at byte .* runs past"),
    (_image(b"\x05\x04\x01f\x02\x00\x05\x04\x01f\x02\x00"), "appears twice"),
    (_image(b"\x05\x05\x02..\x02\x00"), "not allowed"),
    (_image(b"\x05\x05\x02a/\x02\x00"), "contains '/'"),
    (_image(b"\x05\x04\x00\x02\x00\x00"), "empty path component"),
    (_image(b"\x05\x05\x02\xff\xfe\x02\x00"), "not valid UTF-8"),
    (_image(b"\x85"), "record kind at byte 4 is truncated"),
])
def test_malformed_images_are_rejected(image: bytes, message: str) -> None:
    with pytest.raises(RomfsError, match=message) as info:
        extract(image)
    assert str(info.value).startswith("ROMFS image")
    assert "\n" not in str(info.value)


def test_error_names_the_bad_path_inside_the_image() -> None:
    image = _image(b"\x04\x08\x03lib\x05\x03\x01f\x01")  # file record cut short
    with pytest.raises(RomfsError, match="runs past"):
        read(image)
    image = _image(b"\x04\x0a\x03lib\x05\x04\x01f\x07\x00")
    with pytest.raises(RomfsError) as info:
        read(image)
    assert info.value.path == "lib/f"
    assert str(info.value) == "ROMFS image, at 'lib/f': file has no data record"


def test_deep_nesting_is_bounded() -> None:
    payload = b""
    for _ in range(400):  # 800 bytes of path, deeper than MAX_PATH allows
        inner = b"\x01d" + payload
        payload = b"\x04" + romfs._uint(len(inner)) + inner
    image = b"\xd2\xcd\x31" + romfs._uint(len(payload)) + payload
    with pytest.raises(RomfsError, match="longer than"):
        read(image)
