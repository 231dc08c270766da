"""One connection to a board: mpremote's serial transport in the raw REPL, and
which port to open."""

from __future__ import annotations

import contextlib
import io
import os
from types import TracebackType
from typing import Any

from ..errors import UpipError
from ..report import Reporter

#: seconds to wait for a raw REPL after Ctrl-C (a board busy in main.py may take a moment)
CONNECT_TIMEOUT = 10.0


#: seconds a board may stay silent while it runs one exec (hashing a big image, say)
EXEC_TIMEOUT = 60.0


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
