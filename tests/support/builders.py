"""Build fixture distributions: upip-format sdists, standard sdists, wheels, and
malicious archives. Everything is built from code, byte-reproducibly."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import tarfile
import time
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path

MTIME = 1_700_000_000

Files = Mapping[str, bytes | str]


def _bytes(data: bytes | str) -> bytes:
    return data.encode() if isinstance(data, str) else data


def gzip_4k(raw: bytes) -> bytes:
    """gzip at level 9 with a 4 KiB window, as upip-format sdists are."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + 12)
    return comp.compress(raw) + comp.flush()


def tar_bytes(members: Iterable[tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]],
              fmt: int = tarfile.GNU_FORMAT, pax_headers: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt, pax_headers=pax_headers) as tar:
        for item in members:
            if isinstance(item, tuple):
                info, data = item
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(item)
    return buf.getvalue()


def file_info(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), MTIME, 0o644
    return info, data


def special_info(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mtime = kind, linkname, MTIME
    return info


def pkg_info(name: str, version: str, requires: Iterable[str] = (),
             metadata_version: str = "1.0", summary: str = "fixture") -> str:
    lines = [f"Metadata-Version: {metadata_version}", f"Name: {name}", f"Version: {version}",
             f"Summary: {summary}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    return "\n".join(lines) + "\n\n"


def egg_name(name: str) -> str:
    return name.replace("-", "_")


def upip_sdist(name: str, version: str, files: Files, requires: Iterable[str] = (),
               extra: Iterable[tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]] = (),
               fmt: int = tarfile.GNU_FORMAT, pax_headers: dict[str, str] | None = None) -> bytes:
    """An upip-format sdist: package files + egg-info PKG-INFO and requires.txt
    (a tar of format ``fmt``, with a pax global header if ``pax_headers``)."""
    top = f"{name}-{version}"
    egg = f"{top}/{egg_name(name)}.egg-info"
    members: list[tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]] = [
        file_info(f"{egg}/PKG-INFO", pkg_info(name, version).encode())]
    reqs = list(requires)
    if reqs:
        members.append(file_info(f"{egg}/requires.txt", ("\n".join(reqs) + "\n").encode()))
    members += [file_info(f"{top}/{path}", _bytes(data)) for path, data in sorted(files.items())]
    members += list(extra)
    return gzip_4k(tar_bytes(members, fmt, pax_headers))


def standard_sdist(name: str, version: str, files: Files, requires: Iterable[str] = (),
                   top_level: Iterable[str] | None = None) -> bytes:
    """A setuptools-style sdist: PKG-INFO with Requires-Dist, setup.py, tests, docs."""
    top = f"{name}-{version}"
    reqs = list(requires)
    members = [
        file_info(f"{top}/PKG-INFO", pkg_info(name, version, reqs, "2.1").encode()),
        file_info(f"{top}/setup.py", b"raise SystemExit('upip must never run setup.py')\n"),
        file_info(f"{top}/pyproject.toml", b"[build-system]\nrequires = ['setuptools']\n"),
        file_info(f"{top}/README.md", b"# readme\n"),
    ]
    if top_level is not None:
        egg = f"{top}/{egg_name(name)}.egg-info"
        members.append(file_info(f"{egg}/top_level.txt", ("\n".join(top_level) + "\n").encode()))
    members += [file_info(f"{top}/{path}", _bytes(data)) for path, data in sorted(files.items())]
    return gzip.compress(tar_bytes(members), compresslevel=6, mtime=0)


def wheel(name: str, version: str, files: Files, requires: Iterable[str] = (),
          tag: str = "py3-none-any", data_files: Files | None = None,
          tamper: str | None = None) -> bytes:
    """A wheel with METADATA, WHEEL and a RECORD of sha256 hashes."""
    dist = f"{egg_name(name)}-{version}"
    info = f"{dist}.dist-info"
    contents: dict[str, bytes] = {p: _bytes(d) for p, d in files.items()}
    for path, data in (data_files or {}).items():
        contents[f"{dist}.data/{path}"] = _bytes(data)
    contents[f"{info}/METADATA"] = pkg_info(name, version, requires, "2.1").encode()
    contents[f"{info}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: upip-tests\n"
                                 f"Root-Is-Purelib: true\nTag: {tag}\n").encode()
    record = []
    for path, data in contents.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    contents[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    if tamper is not None:
        contents[tamper] = contents[tamper] + b"# tampered\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, data in contents.items():
            zi = zipfile.ZipInfo(path, time.gmtime(MTIME)[:6])
            zi.external_attr = 0o644 << 16
            zf.writestr(zi, data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def wheel_filename(name: str, version: str, tag: str = "py3-none-any") -> str:
    return f"{egg_name(name)}-{version}-{tag}.whl"


# -- malicious archives ----------------------------------------------------------

def evil_sdist(name: str, version: str, kind: str) -> bytes:
    """An otherwise valid upip sdist with one bad member of the given kind."""
    top = f"{name}-{version}"
    bad: dict[str, tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]] = {
        "absolute": file_info("/tmp/upip-evil-absolute.py", b"x = 1\n"),
        "dotdot": file_info(f"{top}/../../upip-evil-dotdot.py", b"x = 1\n"),
        "link-outside": special_info(f"{top}/evil/passwd.py", tarfile.SYMTYPE, "/etc/passwd"),
        "link-escape": special_info(f"{top}/evil/up.py", tarfile.SYMTYPE, "../../../../etc/x"),
        "hardlink": special_info(f"{top}/evil/hard.py", tarfile.LNKTYPE, f"{top}/evil/__init__.py"),
        "device": special_info(f"{top}/evil/dev", tarfile.CHRTYPE),
        "fifo": special_info(f"{top}/evil/fifo", tarfile.FIFOTYPE),
        "backslash": file_info(f"{top}/evil\\bad.py", b"x = 1\n"),
        "twice": file_info(f"{top}/evil/__init__.py", b"X = 2\n"),  # listed a second time
        "sparse": special_info(f"{top}/evil/sparse.py", tarfile.GNUTYPE_SPARSE),
    }[kind] if kind != "bomb" else _bomb_member(top)
    return upip_sdist(name, version, {"evil/__init__.py": "X = 1\n"}, extra=[bad])


def _bomb_member(top: str) -> tuple[tarfile.TarInfo, bytes]:
    return file_info(f"{top}/evil/bomb.bin", b"\0" * (65 * 1024 * 1024))


def zip_with_link(name: str, version: str, target: str) -> bytes:
    """A wheel whose package contains a symbolic link."""
    buf = io.BytesIO(wheel(name, version, {"linky/__init__.py": "X = 1\n"}))
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item))
        zi = zipfile.ZipInfo("linky/link.py", time.gmtime(MTIME)[:6])
        zi.external_attr = (0o120777 << 16)
        dst.writestr(zi, target)
    return out.getvalue()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
