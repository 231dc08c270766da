"""A mip index v2, as micropython-lib's ``tools/build.py`` writes it (the one
``mip`` installs from, default https://micropython.org/pi/v2).

``index.json`` lists every package with its versions per variant (``"py"``
for source, ``"6"`` for .mpy version 6); a version's document is
``package/{variant}/{name}/{version}.json`` (never rewritten; ``latest.json``
is). An index without ``index.json`` (some third-party ones: mip never asks
for it) still answers ``latest.json``, which gives one version.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Mapping
from typing import Any

from ..errors import CorruptMetadata, HTTPStatusError
from ..http import HttpClient
from ..specs import normalize
from . import Candidate, parse_version
from .package_json import parse_document

DEFAULT_MIP_INDEX = "https://micropython.org/pi/v2"
SOURCE_VARIANT = "py"


class MipSource:
    """Candidates from a mip index; ``variant`` is the bytecode variant
    (``"6"``) to prefer over source, or None for source only."""

    def __init__(self, location: str, http: HttpClient, variant: str | None = None) -> None:
        self.location = location.rstrip("/")
        self.http = http
        self.variant = variant
        self._lock = threading.Lock()
        self._index: dict[str, tuple[str, dict[str, list[str]]]] | None = None
        self._loaded = False

    def _get(self, url: str) -> bytes | None:
        resp = self.http.get(url, {"Accept": "application/json"})
        if resp.status == 404:
            return None
        if resp.status != 200:
            raise HTTPStatusError(url, resp.status)
        return resp.body

    def packages(self) -> dict[str, tuple[str, dict[str, list[str]]]] | None:
        """``index.json`` as key -> (name, {variant: [versions]}); None without one."""
        with self._lock:
            if not self._loaded:
                url = f"{self.location}/index.json"
                body = self._get(url)
                self._index = None if body is None else parse_index(body, url)
                self._loaded = True
            return self._index

    def candidates(self, name: str) -> list[Candidate] | None:
        index = self.packages()
        if index is None:
            return self._latest_only(name)
        entry = index.get(normalize(name))
        if entry is None:
            return None
        real, versions = entry
        found: dict[str, Candidate] = {}
        for variant in filter(None, (SOURCE_VARIANT, self.variant)):  # bytecode wins
            for text in versions.get(variant, []):
                version = parse_version(text)
                if version is not None:
                    found[text] = self._candidate(real, text, version, variant)
        if not found:  # listed without a version: only latest.json can say
            return self._latest_only(real) or []
        return sorted(found.values(), key=lambda c: c.version, reverse=True)

    def _candidate(self, name: str, text: str, version: Any, variant: str,
                   document: str | None = None) -> Candidate:
        url = document or f"{self.location}/package/{variant}/{urllib.parse.quote(name)}/{text}.json"
        return Candidate(name, version, text, "mip", url, f"{name}-{text}.json", self.location)

    def _latest_only(self, name: str) -> list[Candidate] | None:
        for variant in (self.variant, SOURCE_VARIANT):
            if variant is None:
                continue
            url = f"{self.location}/package/{variant}/{urllib.parse.quote(name)}/latest.json"
            body = self._get(url)
            if body is None:
                continue
            doc = parse_document(body, url, self.location, url)
            version = parse_version(doc.version or "0")
            if version is None:
                raise CorruptMetadata(url, f"version {doc.version!r} is not a version")
            return [self._candidate(name, doc.version or "0", version, variant, url)]
        return None


def parse_index(body: bytes, url: str) -> dict[str, tuple[str, dict[str, list[str]]]]:
    """``index.json``: key -> (name, {variant: [version, ...]})."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        start = body.lstrip()[:15].decode("ascii", "replace")
        raise CorruptMetadata(url, f"not JSON (it starts {start!r}); is this a mip index "
                                   "(micropython-lib's layout)?") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("packages"), list):
        raise CorruptMetadata(url, "no 'packages' list; is this a mip index?")
    out: dict[str, tuple[str, dict[str, list[str]]]] = {}
    for entry in data["packages"]:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise CorruptMetadata(url, "a package without a name")
        versions = entry.get("versions") or {}
        if not isinstance(versions, Mapping):
            raise CorruptMetadata(url, f"{entry['name']}: 'versions' is not an object")
        out[normalize(entry["name"])] = (entry["name"], {
            str(k): [str(v) for v in vs] for k, vs in versions.items() if isinstance(vs, list)})
    return out
