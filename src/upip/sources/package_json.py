"""``package.json`` manifests (third-party packages, as mip installs them) and
the package document format they share with a mip index's per-version JSON.

A document is ``{"version", "hashes": [[dest, short_sha256]], "urls": [[dest,
src]], "deps": [[name_or_url, version]]}``, every key optional. ``hashes``
name files on a mip index (``{index}/file/{h[:2]}/{h}``); ``urls`` are
relative to the document's location, absolute http(s), or a forge shorthand:

    github:org/repo/path@ref    https://raw.githubusercontent.com/org/repo/{ref|HEAD}/path
    gitlab:org/repo/path@ref    https://gitlab.com/org/repo/-/raw/{ref|HEAD}/path
    codeberg:org/repo/path@ref  https://codeberg.org/api/v1/repos/org/repo/raw/path?ref={ref|HEAD}

A location not ending in ``.json`` names a folder and gets ``/package.json``;
one ending in ``.py`` or ``.mpy`` is a single file. Relative ``urls`` are
joined to the *unmapped* location and then mapped with the same ref, as mip
does, so they stay on the same branch. Parsing only: nothing is fetched here.
"""

from __future__ import annotations

import json
import os
import posixpath
import urllib.parse
from collections.abc import Mapping
from typing import Any, NamedTuple

from ..errors import CorruptMetadata, InvalidSpec
from ..specs import FORGES, is_forge, is_remote

SINGLE_FILE = (".py", ".mpy")
NO_REF = ("", "latest")  # what a dependency's version says when it names no ref


def expand(location: str, ref: str | None = None) -> str:
    """The URL to fetch for a location (forge shorthands mapped, ``ref`` or HEAD)."""
    for scheme, pattern in FORGES.items():
        if location.startswith(scheme):
            org, repo, *rest = location[len(scheme):].split("/")
            return pattern.format(org=org, repo=repo, ref=ref or "HEAD", path="/".join(rest))
    return location


def join(base: str, url: str) -> str:
    """``url`` from a document at ``base`` (an unmapped location or a path)."""
    if is_remote(url) or url.startswith("file://"):
        return url
    if is_forge(base) or "://" not in base:
        return posixpath.normpath(posixpath.join(posixpath.dirname(base), url))
    return urllib.parse.urljoin(base, url)


def package_name(location: str) -> str:
    """The name a manifest package is recorded under: its folder's (or file's)."""
    path = location.split("?", 1)[0]
    if is_forge(path):
        path = path.split(":", 1)[1]
    elif "://" in path:
        path = urllib.parse.urlparse(path).path
    parts = [p for p in path.replace(os.sep, "/").split("/") if p]
    if parts and parts[-1].endswith(SINGLE_FILE):
        return parts[-1].rsplit(".", 1)[0]
    if parts and parts[-1].endswith(".json"):
        parts.pop()
    if not parts:
        raise InvalidSpec(location, "cannot tell the package's name from this location")
    return parts[-1]


class FileRef(NamedTuple):
    """One file of a package document: where it lands, where it comes from, and
    the short sha256 the index gives (None for ``urls``, which carry none)."""

    dest: str
    url: str
    short_hash: str | None


class PackageDoc(NamedTuple):
    version: str
    files: list[FileRef]
    deps: list[tuple[str, str]]  # (name or location, version or ref)


def _pairs(doc: Mapping[str, Any], key: str, where: str) -> list[tuple[str, str]]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise CorruptMetadata(where, f"{key!r} is not a list")
    out = []
    for item in value:
        if (not isinstance(item, list) or len(item) != 2
                or not all(isinstance(x, str) for x in item)):
            raise CorruptMetadata(where, f"{key!r} holds {json.dumps(item)[:60]}, not a "
                                         "[string, string] pair")
        out.append((item[0], item[1]))
    return out


def parse_document(data: bytes, where: str, index: str | None, base: str) -> PackageDoc:
    """A package document's files and dependencies.

    ``where`` names it in errors; ``index`` is the mip index its ``hashes``
    point into (None: the document may have none); ``base`` is the location
    relative ``urls`` are joined to.
    """
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        start = data.lstrip()[:15].decode("ascii", "replace")
        raise CorruptMetadata(where, f"not JSON (it starts {start!r})") from None
    if not isinstance(doc, Mapping):
        raise CorruptMetadata(where, "not a JSON object")
    version = doc.get("version", "")
    if not isinstance(version, str):
        version = str(version)
    files = []
    hashes = _pairs(doc, "hashes", where)
    if hashes and index is None:
        raise CorruptMetadata(where, "lists 'hashes', which only a mip index can serve; "
                                     "install it from its index with --mip-index")
    for dest, short in hashes:
        short = short.lower()
        if len(short) < 4 or any(c not in "0123456789abcdef" for c in short):
            raise CorruptMetadata(where, f"the hash of {dest!r} is {short!r}, not 4 or more "
                                         "hex digits of a sha256")
        files.append(FileRef(dest, f"{index}/file/{short[:2]}/{short}", short))
    files += [FileRef(dest, join(base, src), None) for dest, src in _pairs(doc, "urls", where)]
    if "hashes" not in doc and "urls" not in doc:
        raise CorruptMetadata(where, "has neither 'urls' nor 'hashes': no files to install")
    return PackageDoc(version, files, _pairs(doc, "deps", where))


def dependency_text(name: str, version: str) -> str:
    """A document's ``[name_or_url, version]`` dependency as an upip spec."""
    if is_remote(name):
        return name if version in NO_REF else f"{name}@{version}"
    return name if version in NO_REF else f"{name}=={version}"
