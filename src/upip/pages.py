"""Index pages kept between runs, with the validators their servers gave.

An index page (a simple-index page, a JSON API document, a mip index.json)
is stored with its ``ETag``, ``Last-Modified`` and freshness
(``Cache-Control: max-age``, as PyPI sends 600 s for its simple pages). The
next run serves a fresh page from here without asking; a stale one is asked
for again with ``If-None-Match`` / ``If-Modified-Since``, and a ``304 Not
Modified`` answer costs no body. ``no-store`` pages are never kept,
``no-cache`` ones always revalidated. Offline, any page kept here is used,
however old.

Layout: ``{cache}/pages/{sha256 of URL and Accept}``: one JSON line of
metadata, a newline, then the body.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from .atomic import replace


class Page(NamedTuple):
    url: str  # the final URL (after redirects)
    headers: dict[str, str]  # lower-cased
    body: bytes
    expires: float  # wall-clock time until which it is fresh

    @property
    def fresh(self) -> bool:
        return time.time() < self.expires

    def validators(self) -> dict[str, str]:
        out = {}
        if "etag" in self.headers:
            out["If-None-Match"] = self.headers["etag"]
        if "last-modified" in self.headers:
            out["If-Modified-Since"] = self.headers["last-modified"]
        return out


def _directives(headers: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for part in headers.get("cache-control", "").lower().split(","):
        key, _, value = part.strip().partition("=")
        if key:
            out[key] = value.strip('"')
    return out


def _expires(headers: Mapping[str, str]) -> float:
    directives = _directives(headers)
    if "no-cache" in directives:
        return 0.0
    try:
        return time.time() + max(0, int(directives.get("max-age", "0")))
    except ValueError:
        return 0.0


class PageCache:
    """Pages under ``root``, and read-only ones under ``extra`` roots (the
    cache a folder from upip download carries)."""

    def __init__(self, root: Path, extra: list[Path] | None = None) -> None:
        self.root = root / "pages"
        self.roots = [self.root, *(r / "pages" for r in extra or [])]

    def _path(self, url: str, accept: str, root: Path | None = None) -> Path:
        return (root or self.root) / hashlib.sha256(f"{url}\n{accept}".encode()).hexdigest()

    def get(self, url: str, accept: str) -> Page | None:
        for root in self.roots:
            try:
                with open(self._path(url, accept, root), "rb") as f:
                    meta = json.loads(f.readline())
                    body = f.read()
                return Page(str(meta["url"]), dict(meta["headers"]), body,
                            float(meta["expires"]))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return None

    def put(self, url: str, accept: str, page: Page) -> Page:
        """Keep ``page`` (unless its server said no-store); return it with
        its freshness worked out."""
        page = page._replace(expires=_expires(page.headers))
        if "no-store" in _directives(page.headers) or not (
                page.validators() or page.expires > time.time()):
            return page  # nothing would make it worth keeping
        keep = {k: v for k, v in page.headers.items()
                if k in ("etag", "last-modified", "content-type", "cache-control")}
        meta = json.dumps({"url": page.url, "headers": keep, "expires": page.expires})
        path = self._path(url, accept)
        with contextlib.suppress(OSError):  # a cache: a failed write costs a request next time
            replace(path, meta.encode() + b"\n" + page.body)
        return page

    def revalidated(self, url: str, accept: str, page: Page, headers: Mapping[str, str]
                    ) -> Page:
        """``page`` after a 304: the same body, with the freshness just given."""
        merged = {**page.headers, **{k: v for k, v in headers.items()
                                     if k in ("etag", "last-modified", "cache-control")}}
        if merged == page.headers and _expires(merged) <= time.time():
            return page  # the same validators and still no freshness: nothing to write
        return self.put(url, accept, page._replace(headers=merged))
