"""The image on a board: a :class:`upip.image.Destination` whose folder is at
the end of a serial cable, and the transaction that commits a plan there."""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING

from ..errors import ImageError
from ..image import RECORDS_NAME, Destination, check_image_path
from ..records import DistRecord, format_records, parse_records
from ..report import Reporter
from .connection import Board, BoardError
from .info import BoardInfo, _parse_probe
from .scripts import _ABORT, _PROBE_END, _READ_END, _TRANSACTION_END, PROBE, READ, TRANSACTION

if TYPE_CHECKING:
    pass


def open_image(board: Board, path: str | None = None, write: bool = False,
           scan: bool = True, reporter: Reporter | None = None) -> BoardImage:
    """The image at ``path`` on the board (default: its first ``/lib`` on
    ``sys.path``), asked in one exec. ``write``: a writer's, whose stage
    a gone writer left is finished or undone first."""
    reporter = reporter or Reporter()
    code = (PROBE + f"\n_probe({(path or '')!r}, {scan!r}, {write!r})\n" + _PROBE_END)
    out = board.run(code, " while upip read its image")
    info, records_text, files, dirs, recovered = _parse_probe(out, board.port)
    if not info.path:
        raise BoardError(board.port, "the board has no .../lib folder on sys.path; give the "
                                    "image's folder on the board with -p PATH")
    where = f"{board.port}:{info.path}"
    if (scan or write) and not info.hashlib:
        raise BoardError(board.port, "the board's firmware has no hashlib, which upip needs "
                                    "to check what is on it and what it writes; use a "
                                    "firmware built with hashlib")
    if info.exists and not info.exists & 0x4000:
        raise ImageError(where, "exists on the board and is not a folder")
    if recovered == "undone":
        reporter.warn(f"{where}: undid an install that was interrupted; the image is as "
                      "before")
    records = (parse_records(records_text, f"{where}/{RECORDS_NAME}")
               if records_text.strip() else {})
    return BoardImage(board, info, records, files, dirs, path is not None)


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

    def head(self, path: str) -> bytes | None:
        there = self.files.get(path)  # (the probe sent each .mpy's first 4 bytes)
        return there[2] if there is not None and len(there[2]) == 4 else None

    def transaction(self) -> BoardTransaction:
        return BoardTransaction(self)

    def read_files(self) -> dict[str, bytes]:
        """Every file of the image (upip's own aside), read in one exec."""
        code = READ + f"\n_read({self.path!r})\n" + _READ_END
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
        blocks = sum(stored_blocks(size, block) for size in sizes)
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
    from ..fetch import sha256_hex

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
    from ..fetch import sha256_hex

    return sha256_hex(data)


def stored_blocks(size: int, block: int) -> int:
    """The blocks a file of ``size`` bytes takes on the board: as littlefs
    (every port's default but stm32's) stores it, each block after the
    first giving its first bytes to the skip list back to those before it
    (4 bytes a pointer, ctz(i) + 1 of them in block i); at least one (FAT,
    where blocks are whole data, needs no more than this)."""
    count, left, i = 1, size - block, 1
    while left > 0:
        left -= block - 4 * (i & -i).bit_length()
        count, i = count + 1, i + 1
    return count
