"""PEP 503 (HTML) and PEP 691 (JSON) simple indexes, as pypiserver and devpi serve."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import CorruptMetadata, HTTPStatusError
from ..http import HttpClient
from ..specs import normalize
from . import Candidate, best_per_version, parse_version, split_filename

ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
)
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


class SimpleSource:
    def __init__(self, location: str, http: HttpClient) -> None:
        self.location = location.rstrip("/")
        self.http = http

    def candidates(self, name: str) -> list[Candidate] | None:
        url = f"{self.location}/{normalize(name)}/"
        resp = self.http.get(url, {"Accept": ACCEPT})
        if resp.status == 404:
            return None
        if resp.status != 200:
            raise HTTPStatusError(url, resp.status)
        if resp.content_type == JSON_TYPE or resp.body.lstrip().startswith(b"{"):
            try:
                data = json.loads(resp.body)
            except (ValueError, UnicodeDecodeError) as exc:
                raise CorruptMetadata(url, f"not JSON ({exc})") from None
            links = list(parse_json_page(data, resp.url))
        else:
            links = list(parse_html_page(resp.body.decode("utf-8", "replace"), resp.url))
        return to_candidates(name, links, self.location)


Link = tuple[str, str, str | None, bool]  # filename, absolute url, sha256, yanked


def parse_json_page(data: Any, url: str) -> Iterable[Link]:
    if not isinstance(data, Mapping) or not isinstance(data.get("files"), list):
        raise CorruptMetadata(url, "no 'files' list")
    for entry in data["files"]:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("url"), str):
            raise CorruptMetadata(url, "a file entry without url")
        filename = entry.get("filename") or _filename(entry["url"])
        hashes = entry.get("hashes")
        sha = hashes.get("sha256") if isinstance(hashes, Mapping) else None
        yanked = entry.get("yanked", False)
        href = entry["url"]
        absolute = href if href.startswith(("https://", "http://")) else \
            urllib.parse.urljoin(url, href)  # (some 50 us a file: only when needed)
        yield str(filename), absolute, sha if isinstance(sha, str) else None, bool(yanked)


def parse_html_page(text: str, url: str) -> Iterable[Link]:
    from html.parser import HTMLParser

    class _Anchors(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.anchors: list[dict[str, str | None]] = []
            self.base: str | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "a":
                self.anchors.append(dict(attrs))
            elif tag == "base" and self.base is None:
                self.base = dict(attrs).get("href")

    parser = _Anchors()
    parser.feed(text)
    base = urllib.parse.urljoin(url, parser.base) if parser.base else url
    for attrs in parser.anchors:
        href = attrs.get("href")
        if not href:
            continue
        absolute = urllib.parse.urljoin(base, href)
        clean, _, fragment = absolute.partition("#")
        sha = None
        if fragment.startswith("sha256="):
            sha = fragment[len("sha256="):]
        yield _filename(clean), clean, sha, "data-yanked" in attrs


def _filename(url: str) -> str:
    return urllib.parse.unquote(urllib.parse.urlparse(url).path.rsplit("/", 1)[-1])


def to_candidates(name: str, links: Iterable[Link], source: str) -> list[Candidate]:
    found = []
    for filename, url, sha, yanked in links:
        split = split_filename(filename, name)
        if split is None:
            continue
        version_text, kind = split
        version = parse_version(version_text)
        if version is None:
            continue
        found.append(Candidate(name, version, version_text, kind, url, filename, source,
                               sha.lower() if sha else None, yanked))
    return best_per_version(found)
