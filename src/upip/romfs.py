"""Writer and reader of MicroPython's ROMFS images (``vfs.VfsRom``, MicroPython >= 1.25).

An image is one record; a record is a varuint kind, a varuint payload length
and the payload. Varuints are big-endian groups of 7 bits, the high bit set on
every byte but the last (leading ``0x80`` bytes are allowed and mean nothing).
The image record has kind ``0x14A6B1`` (bytes ``D2 CD 31``) and holds the top
directory's records. Kinds inside it: 0 unused (a sign of corruption),
1 padding, 2 verbatim data, 3 data pointer (varuint size, varuint offset
counted from the start of the image record's payload), 4 directory (varuint
name length, name, child records), 5 file (varuint name length, name, then a
data record); unknown kinds are skipped. The whole image has an even size.

Layout, chosen to match ``mpremote romfs build`` byte for byte on the same
tree: children sorted by name at each level, directories and files mixed,
file data verbatim right after the file's name, no alignment (bytecode, qstrs
and str/bytes constants of a ``.mpy`` are used in place at any address;
native code is copied to executable RAM anyway), evenness by one ``0x80``
byte in front of the image length. One difference makes ours smaller: a file
whose content already appeared earlier in the image becomes a data pointer to
that copy when the pointer is shorter than the data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, NamedTuple

from .errors import UpipError

__all__ = ["MAX_NAME", "MAX_PATH", "Entry", "RomfsError", "build", "extract", "read"]

HEADER = b"\xd2\xcd\x31"
KIND_UNUSED = 0
KIND_PADDING = 1
KIND_DATA = 2
KIND_POINTER = 3
KIND_DIR = 4
KIND_FILE = 5
KIND_FILESYSTEM = 0x14A6B1

#: Longest name of one file or directory, in UTF-8 bytes (a host's NAME_MAX).
MAX_NAME = 255
#: Longest relative path, in UTF-8 bytes: MicroPython's import path buffer
#: (MICROPY_ALLOC_PATH_MAX) is 512 bytes on most boards and has to hold the
#: mount point ("/rom/") as well.
MAX_PATH = 500


class RomfsError(UpipError, ValueError):
    """A bad path given to :func:`build`, or an image :func:`read` cannot accept."""

    def __init__(self, reason: str, path: str | None = None, *, in_image: bool = False) -> None:
        self.reason, self.path = reason, path
        if path is None:
            where = "ROMFS image"
        else:
            where = f"ROMFS image, at {path!r}" if in_image else f"ROMFS path {path!r}"
        super().__init__(f"{where}: {reason}")


class Entry(NamedTuple):
    """One directory or file of an image, as :func:`read` finds it.

    ``path`` is relative and '/'-separated; ``size`` and ``offset`` (where the
    data starts in the image) are 0 and -1 for directories."""

    path: str
    kind: Literal["dir", "file"]
    size: int = 0
    offset: int = -1


# --- varuints -------------------------------------------------------------------------------


def _uint(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _uint_len(value: int) -> int:
    return max(1, (value.bit_length() + 6) // 7)


def _padded_uint(value: int, width: int) -> bytes:
    encoded = _uint(value)
    return b"\x80" * (width - len(encoded)) + encoded


# --- names ----------------------------------------------------------------------------------


def _check_name(name: bytes, path: str) -> str:
    """The text of one path component, or RomfsError naming ``path``."""
    if not name:
        raise RomfsError("empty path component; use plain relative paths like 'lib/pkg/mod.mpy'",
                         path)
    if name in (b".", b".."):
        raise RomfsError(f"{name.decode()!r} is not allowed as a name; use plain relative paths",
                         path)
    if b"\0" in name:
        raise RomfsError("a name contains a NUL byte", path)
    if b"/" in name:
        raise RomfsError("a name contains '/'", path)
    if len(name) > MAX_NAME:
        raise RomfsError(f"a name is {len(name)} bytes long, more than {MAX_NAME}", path)
    try:
        return name.decode("utf-8")
    except UnicodeDecodeError:
        raise RomfsError("a name is not valid UTF-8", path) from None


def _split(path: str) -> list[bytes]:
    if not isinstance(path, str):
        raise RomfsError("paths must be str", repr(path))
    try:
        raw = path.encode("utf-8")
    except UnicodeEncodeError:
        raise RomfsError("path is not valid Unicode (lone surrogates)", path) from None
    if raw.startswith(b"/"):
        raise RomfsError("absolute paths are not allowed; give it relative to the image root",
                         path)
    if len(raw) > MAX_PATH:
        raise RomfsError(f"path is {len(raw)} bytes long, more than {MAX_PATH}", path)
    parts = raw.split(b"/")
    for part in parts:
        _check_name(part, path)
    return parts


# --- writer ---------------------------------------------------------------------------------

_Tree = dict[bytes, "bytes | _Tree"]  # name -> content, or a directory


def _tree(files: Mapping[str, bytes]) -> _Tree:
    root: _Tree = {}
    for path in sorted(files):  # "a" before "a/b": a clash is always found at a directory
        content = bytes(files[path])
        parts = _split(path)
        node = root
        for depth, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                owner = b"/".join(parts[: depth + 1]).decode()
                raise RomfsError(f"{owner!r} is a file, it cannot also be a directory", path)
            node = child
        if parts[-1] in node:  # only if two keys encode alike, which str keys cannot
            raise RomfsError("given twice", path)
        node[parts[-1]] = content
    return root


def _record_len(payload_len: int) -> int:
    return 1 + _uint_len(payload_len) + payload_len  # kinds 1..5 are one byte


def _names(node: _Tree) -> list[bytes]:
    # mpremote sorts os.listdir() as str; UTF-8 bytes sort in the same (code point) order.
    return sorted(node)


class _Layout:
    """Two passes: sizes first, so that every record's length is known before
    it is written, then the records top-down, so that a data pointer can name
    the absolute offset of the copy it points to."""

    def __init__(self, root: _Tree, dedupe: bool) -> None:
        self.root = root
        self.inner: dict[int, int] = {}  # id(directory) -> size of its child records
        self.pointers: set[int] = set()  # depth-first numbers of files written as pointers
        self.width = 0
        plain = self._measure(dedupe=False)
        # No offset in the (never larger) deduplicated image needs more digits than this.
        self.width = _uint_len(plain)
        self.size = self._measure(dedupe=True) if dedupe else plain

    def _measure(self, dedupe: bool) -> int:
        self.pointers.clear()
        counter = iter(range(1 << 62))
        seen: set[bytes] = set()

        def measure(node: _Tree) -> int:
            total = 0
            for name in _names(node):
                child = node[name]
                head = _uint_len(len(name)) + len(name)
                if isinstance(child, dict):
                    total += _record_len(head + measure(child))
                    continue
                number = next(counter)
                data = _record_len(len(child))
                if dedupe and child in seen:
                    pointer = _record_len(_uint_len(len(child)) + self.width)
                    if pointer < data:
                        self.pointers.add(number)
                        data = pointer
                seen.add(child)
                total += _record_len(head + data)
            self.inner[id(node)] = total
            return total

        return measure(self.root)

    def write(self) -> bytes:
        out = bytearray()
        copies: dict[bytes, int] = {}  # content -> offset of its verbatim data
        counter = iter(range(1 << 62))

        def put(kind: int, payload_len: int) -> None:
            out.extend(_uint(kind) + _uint(payload_len))

        def write(node: _Tree) -> None:
            for name in _names(node):
                child = node[name]
                head = _uint(len(name)) + name
                if isinstance(child, dict):
                    put(KIND_DIR, len(head) + self.inner[id(child)])
                    out.extend(head)
                    write(child)
                elif next(counter) in self.pointers:
                    data = _uint(len(child)) + _padded_uint(copies[child], self.width)
                    put(KIND_FILE, len(head) + _record_len(len(data)))
                    out.extend(head)
                    put(KIND_POINTER, len(data))
                    out.extend(data)
                else:
                    put(KIND_FILE, len(head) + _record_len(len(child)))
                    out.extend(head)
                    put(KIND_DATA, len(child))
                    copies.setdefault(child, len(out))
                    out.extend(child)

        write(self.root)
        assert len(out) == self.size, (len(out), self.size)
        length = _uint(len(out))
        if (len(HEADER) + len(length) + len(out)) % 2:
            length = b"\x80" + length  # a padded varuint: the image must have an even size
        return HEADER + length + bytes(out)


def build(files: Mapping[str, bytes], *, dedupe: bool = True) -> bytes:
    """A ROMFS image of ``files`` (relative '/'-separated path -> content).

    Directories come from the paths. The same mapping always gives the same
    bytes. With ``dedupe`` (the default) a repeated content is stored once.
    """
    return _Layout(_tree(files), dedupe).write()


# --- reader ---------------------------------------------------------------------------------


class _Reader:
    def __init__(self, image: bytes) -> None:
        self.image = image
        if image[:3] != HEADER:
            raise RomfsError(f"bad magic {bytes(image[:3]).hex(' ')!r}, expected 'd2 cd 31'; "
                             "not a ROMFS image")
        pos = len(HEADER)
        size, pos = self.uint(pos, len(image), "the image length")
        self.base = pos  # data pointers count from here
        self.end = pos + size
        if self.end > len(image):
            raise RomfsError(f"truncated: its header asks for {self.end} bytes, "
                             f"only {len(image)} are given")
        self.entries: list[Entry] = []

    def uint(self, pos: int, end: int, what: str, path: str | None = None) -> tuple[int, int]:
        start, value = pos, 0
        while True:
            if pos >= end:
                raise RomfsError(f"{what} at byte {start} is truncated", path, in_image=True)
            byte = self.image[pos]
            pos += 1
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                return value, pos

    def record(self, pos: int, end: int, path: str | None, parent: str) -> tuple[int, int, int]:
        """(kind, payload start, payload end) of the record at ``pos``."""
        start = pos
        kind, pos = self.uint(pos, end, "a record kind", path)
        if kind == KIND_UNUSED:
            raise RomfsError(f"record of kind 0 at byte {start}; the image is corrupt", path,
                             in_image=True)
        length, pos = self.uint(pos, end, "a record length", path)
        if pos + length > end:
            raise RomfsError(f"record at byte {start} ({length} bytes) runs past the end "
                             f"of {parent}", path, in_image=True)
        return kind, pos, pos + length

    def name(self, pos: int, end: int, prefix: str) -> tuple[str, int]:
        length, pos = self.uint(pos, end, "a name length")
        if pos + length > end:
            raise RomfsError(f"name at byte {pos} runs past the end of its record")
        raw = self.image[pos : pos + length]
        path = f"{prefix}{raw.decode('utf-8', 'replace')}"
        try:
            name = _check_name(bytes(raw), path)
        except RomfsError as exc:
            raise RomfsError(exc.reason, path, in_image=True) from None
        full = prefix + name
        if len(full.encode("utf-8")) > MAX_PATH:
            raise RomfsError(f"path is longer than {MAX_PATH} bytes", full, in_image=True)
        return full, pos + length

    def data(self, pos: int, end: int, path: str) -> tuple[int, int]:
        """(offset, size) of a file's data."""
        while pos < end:
            kind, start, stop = self.record(pos, end, path, "its file")
            if kind == KIND_DATA:
                return start, stop - start
            if kind == KIND_POINTER:
                size, at = self.uint(start, stop, "a data pointer's size", path)
                offset, _ = self.uint(at, stop, "a data pointer's offset", path)
                if self.base + offset + size > self.end:
                    raise RomfsError(f"data pointer ({size} bytes at {offset}) points past the "
                                     "end of the image", path, in_image=True)
                return self.base + offset, size
            pos = stop
        raise RomfsError("file has no data record", path, in_image=True)

    def directory(self, pos: int, end: int, prefix: str) -> None:
        names: set[str] = set()
        parent = f"directory {prefix[:-1]!r}" if prefix else "the image"
        while pos < end:
            kind, start, stop = self.record(pos, end, None, parent)
            if kind in (KIND_DIR, KIND_FILE):
                path, start = self.name(start, stop, prefix)
                if path in names:
                    raise RomfsError("appears twice in one directory", path, in_image=True)
                names.add(path)
                if kind == KIND_DIR:
                    self.entries.append(Entry(path, "dir"))
                    self.directory(start, stop, path + "/")
                else:
                    offset, size = self.data(start, stop, path)
                    self.entries.append(Entry(path, "file", size, offset))
            pos = stop  # padding, data at the top level, and unknown kinds are skipped


def read(image: bytes) -> list[Entry]:
    """Every directory and file of ``image``, depth first in image order.

    Bytes after the image (the rest of a flash partition) are ignored, as
    ``vfs.VfsRom`` does.
    """
    reader = _Reader(bytes(image))
    reader.directory(reader.base, reader.end, "")
    return reader.entries


def extract(image: bytes) -> dict[str, bytes]:
    """Path -> content of every file in ``image``."""
    data = bytes(image)
    return {e.path: data[e.offset : e.offset + e.size] for e in read(data) if e.kind == "file"}


def read_file(path: str) -> tuple[bytes, list[Entry]]:
    """The bytes of the ROMFS image at ``path``, and its entries."""
    from .errors import ProjectError

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ProjectError(path, f"cannot read it ({exc.strerror or exc})") from None
    return data, read(data)
