"""The PyPI JSON API: ``GET {index}/{name}/json`` (default https://pypi.org/pypi)."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Mapping
from typing import Any

from packaging.version import Version

from ..errors import CorruptMetadata, HTTPStatusError
from ..http import HttpClient
from . import Candidate, Kind, best_per_version, is_pure_wheel, parse_version

DEFAULT_INDEX = "https://pypi.org/pypi"


class PyPIJSONSource:
    def __init__(self, location: str, http: HttpClient) -> None:
        self.location = location.rstrip("/")
        self.http = http

    def candidates(self, name: str) -> list[Candidate] | None:
        url = f"{self.location}/{urllib.parse.quote(name)}/json"
        resp = self.http.get(url, {"Accept": "application/json"})
        if resp.status == 404:
            return None
        if resp.status != 200:
            raise HTTPStatusError(url, resp.status)
        try:
            data = json.loads(resp.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise CorruptMetadata(url, f"not JSON ({exc})") from None
        return parse_project(data, url, self.location)


def parse_project(data: Any, url: str, source: str) -> list[Candidate]:
    """Candidates from a decoded ``/{name}/json`` document."""
    if not isinstance(data, Mapping) or not isinstance(data.get("info"), Mapping):
        raise CorruptMetadata(url, "no 'info' object")
    name = data["info"].get("name")
    releases = data.get("releases")
    if not isinstance(name, str) or not isinstance(releases, Mapping):
        raise CorruptMetadata(url, "no project name or no 'releases' object")
    found: list[Candidate] = []
    for version_text, files in releases.items():
        version = parse_version(str(version_text))
        if version is None or not isinstance(files, list):
            continue  # legacy, unparseable version: never installable by a PEP 440 tool
        for entry in files:
            cand = _candidate(name, version, version_text, entry, url, source)
            if cand is not None:
                found.append(cand)
    return best_per_version(found)


def _candidate(
    name: str, version: Version, version_text: str, entry: Any, url: str, source: str
) -> Candidate | None:
    if not isinstance(entry, Mapping):
        raise CorruptMetadata(url, f"release {version_text} has a file that is not an object")
    filename, file_url = entry.get("filename"), entry.get("url")
    if not isinstance(filename, str) or not isinstance(file_url, str):
        raise CorruptMetadata(url, f"release {version_text} has a file without name or url")
    kind: Kind
    if filename.endswith(".whl"):
        if not is_pure_wheel(filename):
            return None
        kind = "wheel"
    elif filename.endswith((".tar.gz", ".tgz")):
        kind = "sdist"
    else:
        return None
    digests = entry.get("digests")
    sha256 = digests.get("sha256") if isinstance(digests, Mapping) else None
    size = entry.get("size")
    return Candidate(
        name=name,
        version=version,
        version_text=version_text,
        kind=kind,
        url=urllib.parse.urljoin(url, file_url),
        filename=filename,
        source=source,
        sha256=sha256.lower() if isinstance(sha256, str) else None,
        yanked=bool(entry.get("yanked", False)),
        size=size if isinstance(size, int) else None,
    )
