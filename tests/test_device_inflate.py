"""The device's inflate step (gzip in Python, its history read back from the
output file), run on the real MicroPython against streams CPython's zlib made.

The install tests reach it only where the heap is too small for the firmware's
window; here every kind of deflate block and gzip header is fed to it directly,
and its output compared byte for byte with CPython's.
"""

from __future__ import annotations

import gzip
import random
import struct
import zlib
from pathlib import Path

import pytest

from tests.support.builders import file_info, tar_bytes
from tests.support.device import Device, lines

RUN = """
import upip.inflate
from upip import UpipError
class O: pass
o = O()
o.path = {path!r}
try:
    upip.inflate.run(o)
    print("step", o.step)
except UpipError as e:
    print("error", e.args)
"""


def inflate(dev: Device, tmp_path: Path, archive: bytes, heapsize: str | None = None
            ) -> tuple[str, bytes | None]:
    stage = tmp_path / ".upip-tx"
    stage.mkdir()
    (stage / "a").write_bytes(archive)
    result = dev.run(RUN.format(path=str(tmp_path)), heapsize=heapsize)
    out = lines(result)
    assert result.returncode == 0 and len(out) == 1, out
    tar = stage / "t"
    return out[0], tar.read_bytes() if tar.exists() and out[0].startswith("step") else None


def raw_deflate(data: bytes, level: int = 9, wbits: int = 15, strategy: int = 0) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, -wbits, 9, strategy)
    return c.compress(data) + c.flush()


def gzip_of(body: bytes, data: bytes, header: bytes = b"\x1f\x8b\x08\x00\0\0\0\0\x02\xff"
            ) -> bytes:
    return header + body + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def tar_of(files: dict[str, bytes]) -> bytes:
    return tar_bytes(file_info(f"pkg-1.0/{name}", data) for name, data in files.items())


RNG = random.Random(7)
NOISE = bytes(RNG.getrandbits(8) for _ in range(20000))
FAR = "".join(f"{(i * 2654435761) % 65521:05d}" for i in range(2400)).encode()  # 12 KB
TEXT = b"def f(x):\n    return x * 2\n" * 400


def streams() -> dict[str, bytes]:
    """Name -> a gzip stream; each inflates to a tar."""
    small = tar_of({"a.py": b"print(1)\n"})
    far = tar_of({"far.py": b"A = '" + FAR + b"'\nB = '" + FAR + b"'\n"})
    mixed = tar_of({"noise.bin": NOISE, "text.py": TEXT, "far.py": FAR + FAR})
    return {
        # one fixed-code block (zlib's choice for tiny input)
        "fixed": gzip.compress(small, mtime=0),
        # dynamic-code blocks, references up to 12 KB back (past a 4 KiB window)
        "dynamic-32k": gzip.compress(far, mtime=0),
        # stored blocks only
        "stored": gzip.compress(mixed, compresslevel=0, mtime=0),
        # every kind in one stream: stored for the noise, codes for the rest
        "mixed": gzip.compress(mixed, mtime=0),
        # fixed codes forced for long input (Z_FIXED), back-references included
        "forced-fixed": gzip_of(raw_deflate(mixed, strategy=zlib.Z_FIXED), mixed),
        # runs: distance 1, length 258, overlapping copies
        "runs": gzip_of(raw_deflate(tar_of({"zeros.bin": b"\0" * 50000, "ab.txt": b"ab" * 9000})),
                        tar_of({"zeros.bin": b"\0" * 50000, "ab.txt": b"ab" * 9000})),
        # a 4 KiB window, as upip's own sdists
        "window-4k": gzip_of(raw_deflate(mixed, wbits=12), mixed),
        # a header with every optional field: extra, name, comment, header CRC
        "header-fields": gzip_of(raw_deflate(small), small,
                                 b"\x1f\x8b\x08\x1e\0\0\0\0\x02\xff" + b"\x04\0abcd" +
                                 b"pkg-1.0.tar\0" + b"a comment\0" + b"\x12\x34"),
    }


@pytest.mark.parametrize("kind", list(streams()))
def test_inflate_matches_zlib(any_device: Device, tmp_path: Path, kind: str) -> None:
    archive = streams()[kind]
    out, tar = inflate(any_device, tmp_path, archive)
    assert out == "step unpack"
    assert tar == gzip.decompress(archive)
    assert not (tmp_path / ".upip-tx" / "a").exists()  # done with: removed


def test_inflate_needs_no_window_on_the_heap(mpy_device: Device, tmp_path: Path) -> None:
    # 12 KB back-references in a 12 KiB heap (this script, the client and the
    # step): the firmware's inflate would need a 32 KiB window for them
    archive = streams()["dynamic-32k"]
    out, tar = inflate(mpy_device, tmp_path, archive, heapsize="12k")
    assert out == "step unpack"
    assert tar == gzip.decompress(archive)


@pytest.mark.parametrize(("kind", "error"), [
    ("not-gzip", "(11,)"),
    ("bad-block-type", "(11,)"),
    ("reference-before-start", "(11,)"),
    ("truncated", "(22,)"),
    ("empty", "(22,)"),
])
def test_inflate_refuses_a_broken_stream(any_device: Device, tmp_path: Path, kind: str,
                                         error: str) -> None:
    good = streams()["mixed"]
    header = b"\x1f\x8b\x08\x00\0\0\0\0\x02\xff"
    archive = {
        "not-gzip": b"PK\x03\x04 not a gzip stream" * 10,
        "bad-block-type": header + b"\x07\0\0\0",  # BFINAL=1, BTYPE=3 (reserved)
        # fixed code: a length 3 at distance 1 as the very first symbol
        "reference-before-start": header + b"\x03\x02\x00\x00\0\0\0\0\0\0\0\0",
        "truncated": good[:len(good) // 2],
        "empty": b"",
    }[kind]
    out, _ = inflate(any_device, tmp_path, archive)
    assert out == f"error {error}"  # 11: the archive is corrupt, 22: truncated (throw)


def test_inflate_refuses_a_bomb_before_it_lands(any_device: Device, tmp_path: Path) -> None:
    # a 33 MB member: refused at its header, before any of it is written
    data = b"\0" * (33 * 1024 * 1024)
    archive = gzip.compress(tar_of({"bomb.bin": data}), mtime=0)
    out, _ = inflate(any_device, tmp_path, archive)
    assert out == "error (10, 'pkg-1.0/bomb.bin')"
    assert (tmp_path / ".upip-tx" / "t").stat().st_size == 0
