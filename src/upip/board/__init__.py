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

import contextlib
from collections.abc import Iterator

from ..report import Reporter
from .connection import Board, BoardError, choose_port, resolve_port
from .image import BoardImage, open_image
from .info import BoardInfo

__all__ = ["BoardError", "BoardImage", "BoardInfo", "choose_port", "open_board",
           "resolve_port"]


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
        yield open_image(board, path.rstrip("/") or "/" if path else None, write=write, scan=scan,
                         reporter=reporter)
    finally:
        board.close()
