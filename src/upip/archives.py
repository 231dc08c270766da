"""Safe reading of .tar.gz and .zip (wheel) archives into memory.

The rules, the same on the host and on the device:

* absolute member paths, ``..`` components, backslashes and NULs are refused;
* hard links, device nodes, FIFOs and unknown member types are refused;
* a symbolic link whose target is absolute or climbs above the archive's root
  is refused; one that stays inside the archive is never followed nor written
  (it would become an empty or overwritten file, as old upip did with
  ``micropython-umqtt.robust 1.0``): it is skipped and reported;
* a member listed twice is refused;
* the unpacked size and the member count are bounded (decompression bombs).

Nothing is written to disk here: the caller gets member paths and bytes.
"""

from __future__ import annotations

import io
import posixpath
import stat
import tarfile
import zlib
from typing import NamedTuple

from .errors import CorruptArchive, UnsafeArchive, UpipError
from .fields import Record, field


class Limits(NamedTuple):
    """Bounds on what reading one archive may unpack (against decompression bombs)."""

    max_total: int = 64 * 1024 * 1024
    max_member: int = 32 * 1024 * 1024
    max_members: int = 20000


class ArchiveContents(Record):
    files: dict[str, bytes] = field(default_factory=dict)  # member path -> bytes
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (member, why)


def clean_member_path(archive: str, name: str) -> str | None:
    """The member's path as ``a/b/c``; None for the archive root itself."""
    if any(ch in name for ch in "\\\x00\t\n\r"):
        raise UnsafeArchive(archive, name, "backslash or control character in the path")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchive(archive, name, "absolute path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchive(archive, name, "path with '..' escapes the target")
    return "/".join(parts) or None


def _check_link(archive: str, member: str, target: str) -> None:
    """Raise for a link that leaves the archive; return if it stays inside."""
    if not target or target.startswith("/") or "\\" in target or (
        len(target) > 1 and target[1] == ":"
    ):
        raise UnsafeArchive(archive, member, f"link to absolute path {target!r}")
    depth = 0
    for part in posixpath.dirname(member).split("/") + target.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                raise UnsafeArchive(archive, member, f"link to {target!r} points outside the archive")
        elif part not in ("", "."):
            depth += 1


class _Collector:
    def __init__(self, archive: str, limits: Limits) -> None:
        self.archive, self.limits = archive, limits
        self.contents = ArchiveContents()
        self.total = 0
        self.seen: set[str] = set()

    def admit(self, raw_name: str, size: int) -> str | None:
        path = clean_member_path(self.archive, raw_name)
        if path is None:
            return None
        if path in self.seen:
            raise UnsafeArchive(self.archive, raw_name, "listed twice")
        self.seen.add(path)
        if len(self.seen) > self.limits.max_members:
            raise UnsafeArchive(self.archive, raw_name,
                                f"more than {self.limits.max_members} members")
        if size > self.limits.max_member:
            raise UnsafeArchive(self.archive, raw_name,
                                f"unpacks to {size} bytes, over the {self.limits.max_member} limit")
        self.total += size
        if self.total > self.limits.max_total:
            raise UnsafeArchive(self.archive, raw_name,
                                f"archive unpacks to over {self.limits.max_total} bytes")
        return path

    def link(self, raw_name: str, target: str) -> None:
        path = self.admit(raw_name, 0)
        if path is None:
            return
        _check_link(self.archive, path, target)
        self.contents.skipped.append((path, f"symbolic link to {target}"))


def gunzip(archive: str, data: bytes, limit: int) -> bytes:
    """Inflate a whole gzip stream, checking its CRC and length; bounded."""
    out = bytearray()
    while data:
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += inflater.decompress(data, limit + 1 - len(out))
        except zlib.error as exc:  # "Error -3 while decompressing data: invalid ..."
            why = str(exc).rpartition(": ")[2]
            raise CorruptArchive(archive, f"its gzip data is damaged ({why})") from None
        if len(out) > limit:
            raise UnsafeArchive(archive, "(gzip stream)", f"inflates to over {limit} bytes")
        if not inflater.eof:
            raise CorruptArchive(archive, "the gzip stream is truncated")
        data = inflater.unused_data  # another gzip member may follow
        if data and not data.startswith(b"\x1f\x8b"):
            raise CorruptArchive(archive, "junk after the gzip stream")
    return bytes(out)


def read_tar(archive: str, data: bytes, limits: Limits | None = None) -> ArchiveContents:
    lim = limits or Limits()
    collect = _Collector(archive, lim)
    if data[:2] == b"\x1f\x8b":
        # tarfile stops at the end-of-archive blocks and never checks the gzip
        # trailer, so inflate (and verify) the whole stream first. The tar
        # headers add at most 1 KiB per member on top of the content limit.
        data = gunzip(archive, data, lim.max_total + 1024 * (lim.max_members + 2))
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            for member in tar:
                if member.isdir():
                    collect.admit(member.name, 0)
                elif member.issym():
                    collect.link(member.name, member.linkname)
                elif member.islnk():
                    raise UnsafeArchive(archive, member.name, "hard link")
                elif member.ischr() or member.isblk():
                    raise UnsafeArchive(archive, member.name, "device node")
                elif member.isfifo():
                    raise UnsafeArchive(archive, member.name, "FIFO")
                elif member.isreg():
                    path = collect.admit(member.name, member.size)
                    if path is None:
                        raise UnsafeArchive(archive, member.name, "a file at the archive root path")
                    collect.contents.files[path] = _member_data(archive, tar, member, data)
                else:
                    raise UnsafeArchive(archive, member.name, "unsupported member type")
    except UpipError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError, ValueError, IndexError,
            UnicodeError) as exc:
        raise CorruptArchive(archive, _in_words("tar", exc)) from None
    return collect.contents


def _member_data(archive: str, tar: tarfile.TarFile, member: tarfile.TarInfo,
                 data: bytes) -> bytes:
    """A regular member's bytes: the slice of the tar stream (in memory, already
    inflated) at ``offset_data``, as extractfile would read them without the
    file object it builds per member; sparse members go through extractfile."""
    if member.issparse():
        stream = tar.extractfile(member)
        assert stream is not None
        return stream.read()
    body = data[member.offset_data:member.offset_data + member.size]
    if len(body) != member.size:
        raise CorruptArchive(archive, f"{member.name} is cut short (unexpected end of data)")
    return body


def read_zip(archive: str, data: bytes, limits: Limits | None = None) -> ArchiveContents:
    import zipfile

    lim = limits or Limits()
    collect = _Collector(archive, lim)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                mode = info.external_attr >> 16
                if info.is_dir():
                    collect.admit(info.filename, 0)
                elif stat.S_ISLNK(mode):
                    if info.file_size > 4096:
                        raise UnsafeArchive(archive, info.filename, "oversized link")
                    collect.link(info.filename, zf.read(info).decode("utf-8", "replace"))
                elif stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # type bits absent: a file
                    raise UnsafeArchive(archive, info.filename, "not a regular file")
                else:
                    path = collect.admit(info.filename, info.file_size)
                    if path is None:
                        raise UnsafeArchive(archive, info.filename, "a file at the archive root path")
                    with zf.open(info) as stream:
                        body = stream.read(lim.max_member + 1)
                    if len(body) != info.file_size:
                        raise CorruptArchive(archive, f"{info.filename} has the wrong size")
                    collect.contents.files[path] = body
    except UpipError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError,
            IndexError, RuntimeError, UnicodeError) as exc:
        raise CorruptArchive(archive, _in_words("zip", exc)) from None
    return collect.contents


def _in_words(kind: str, exc: BaseException) -> str:
    """What a reader's failure means, without its exception class: the
    standard library's readers raise many kinds for a damaged archive."""
    text = str(exc).strip().rstrip(".") or "damaged"
    if isinstance(exc, zlib.error):
        return "its compressed data is damaged"
    if isinstance(exc, EOFError) or "unexpected end" in text.lower():
        return "it is cut short"
    if isinstance(exc, RuntimeError) and "encrypted" in text.lower():
        return "it is encrypted"
    if isinstance(exc, NotImplementedError):
        return f"it uses what a {kind} reader here cannot read ({text})"
    return f"a damaged {kind} archive ({text[:80]})"


def read_archive(archive: str, data: bytes, limits: Limits | None = None) -> ArchiveContents:
    """Read a distribution archive by its file name (``.whl`` is zip, else tar)."""
    if archive.endswith((".whl", ".zip")):
        return read_zip(archive, data, limits)
    return read_tar(archive, data, limits)
