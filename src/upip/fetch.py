"""Get a candidate's bytes: from the content-addressed cache, a local file, or
HTTP, and always check them against the index's sha256 before returning.

The cache (``~/.cache/upip/sha256/ab/abcd...``) is keyed by content, so an
entry can only be used for a download whose hash the index states; entries
are re-hashed on read, so a damaged cache file is dropped, never installed.
"""

from __future__ import annotations

import hashlib
import os
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from .atomic import replace
from .errors import DownloadTooLarge, HashMismatch, HTTPStatusError, IndexUnreachable
from .http import HttpClient
from .report import Reporter
from .sources import Candidate
from .sources.package_json import FileRef

MAX_DOWNLOAD = 64 * 1024 * 1024  # the cap for a file whose index declares no size


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "upip"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


STORE_NAME = ".upip-cache"  # a cache carried in a folder (upip download -d DIR)


class Cache:
    """The download cache; ``extra`` roots are read, never written (the cache
    that ``upip download`` leaves in a folder for an air-gapped machine)."""

    def __init__(self, root: Path, reporter: Reporter | None = None,
                 extra: list[Path] | None = None) -> None:
        self.root = root
        self.roots = [root, *(extra or [])]
        self.reporter = reporter or Reporter()
        self._warned = False

    def _path(self, sha256: str, root: Path | None = None) -> Path:
        return (root or self.root) / "sha256" / sha256[:2] / sha256

    def get(self, sha256: str) -> bytes | None:
        for root in self.roots:
            path = self._path(sha256, root)
            try:
                data = path.read_bytes()
            except OSError:
                continue
            if sha256_hex(data) == sha256:
                return data
            if root == self.root:
                path.unlink(missing_ok=True)
        return None

    def _document_path(self, url: str, root: Path | None = None) -> Path:
        key = sha256_hex(url.encode())
        return (root or self.root) / "documents" / key[:2] / key

    def document(self, url: str) -> bytes | None:
        """A document kept by its URL (see Fetcher.document)."""
        for root in self.roots:
            try:
                return self._document_path(url, root).read_bytes()
            except OSError:
                continue
        return None

    def put_document(self, url: str, data: bytes) -> None:
        self._write(self._document_path(url), data)

    def find(self, prefix: str) -> tuple[bytes, str] | None:
        """A cached file whose sha256 starts with ``prefix`` (a mip index's short
        hash), re-hashed on read; with its full sha256."""
        for root in self.roots:
            try:
                names = [p for p in os.listdir(root / "sha256" / prefix[:2])
                         if p.startswith(prefix)]
            except OSError:
                continue
            for name in names:
                data = self.get(name)
                if data is not None:
                    return data, name
        return None

    def put(self, sha256: str, data: bytes) -> None:
        self._write(self._path(sha256), data)

    def _write(self, path: Path, data: bytes) -> None:
        try:
            replace(path, data)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                self.reporter.warn(f"cannot write the cache {self.root}: {exc.strerror or exc}")


def expected_hash(cand: Candidate) -> str | None:
    """The index's sha256, or one given as a ``#sha256=`` URL fragment."""
    if cand.sha256:
        return cand.sha256.lower()
    fragment = urllib.parse.urlparse(cand.url).fragment
    if fragment.startswith("sha256="):
        return fragment[len("sha256="):].lower()
    return None


def is_local(url: str) -> bool:
    return "://" not in url


class Fetcher:
    def __init__(
        self,
        http: HttpClient,
        cache: Cache | None,
        reporter: Reporter | None = None,
        max_bytes: int = MAX_DOWNLOAD,
    ) -> None:
        self.http, self.cache = http, cache
        self.reporter = reporter or Reporter()
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._unverified: set[str] = set()

    def fetch(self, cand: Candidate) -> tuple[bytes, str]:
        """The verified bytes of ``cand`` and their sha256."""
        want = expected_hash(cand)
        if is_local(cand.url):
            data = self._read_local(cand.url)
        else:
            cached = self.cache.get(want) if (want and self.cache) else None
            if cached is not None:
                return cached, want  # type: ignore[return-value]
            data = self._download(cand.url, cand.filename, cand.size)
        got = sha256_hex(data)
        if want is not None and got != want:
            raise HashMismatch(cand.filename, want, got)
        if want is None and not is_local(cand.url):
            with self._lock:
                first = cand.url not in self._unverified
                self._unverified.add(cand.url)
            if first:
                self.reporter.warn(
                    f"{cand.source} gives no sha256 for {cand.filename}: installed unverified"
                )
        if self.cache is not None and want is not None and not is_local(cand.url):
            self.cache.put(got, data)
        return data, got

    def document(self, url: str, immutable: bool = False, sha256: str | None = None) -> bytes:
        """A package document (mip or package.json), from a path or a URL. An
        index states no hash for one (its files have theirs); a lock does
        (``sha256``): then it is checked, and kept in the cache by it. Every
        one is also kept by its URL: an ``immutable`` one (a mip index's
        ``{version}.json``, which its builder never rewrites) is taken from
        there; any other only when offline."""
        if sha256 and self.cache is not None:
            cached = self.cache.get(sha256)
            if cached is not None:
                return cached
        if is_local(url):
            body = self._read_local(url)
        else:
            body = self._by_url(url, immutable, lambda: self._get_document(url))
        if sha256:
            got = sha256_hex(body)
            if got != sha256:
                raise HashMismatch(url, sha256, got)
            if self.cache is not None:
                self.cache.put(got, body)
        return body

    def _get_document(self, url: str) -> bytes:
        resp = self.http.get(url, {"Accept": "application/json"})
        if resp.status != 200:
            raise HTTPStatusError(url, resp.status, "not found" if resp.status == 404 else "")
        return resp.body

    def _by_url(self, url: str, immutable: bool, get: Callable[[], bytes]) -> bytes:
        """What ``url`` answers: from the cache when it never changes or when
        offline, else fetched (and kept for then)."""
        if self.cache is not None and (immutable or self.http.offline):
            kept = self.cache.document(url)
            if kept is not None:
                return kept
        body = get()
        if self.cache is not None:
            self.cache.put_document(url, body)
        return body

    def file(self, ref: FileRef, label: str) -> tuple[bytes, str]:
        """One file of a package document and its sha256: checked against the
        short hash the index gives, when it gives one (a package.json gives
        none: its files are kept by URL, for offline use)."""
        if ref.short_hash and self.cache is not None:
            cached = self.cache.find(ref.short_hash)
            if cached is not None:
                return cached
        if is_local(ref.url):
            data = self._read_local(ref.url)
        elif ref.short_hash:
            data = self._download(ref.url, f"{label}: {ref.dest}", None)
        else:
            data = self._by_url(ref.url, False, lambda: self._download(
                ref.url, f"{label}: {ref.dest}", None))
        got = sha256_hex(data)
        if ref.short_hash:
            if not got.startswith(ref.short_hash):
                raise HashMismatch(f"{ref.dest} of {label}", ref.short_hash, got)
            if self.cache is not None:
                self.cache.put(got, data)
        return data, got

    def _read_local(self, path: str) -> bytes:
        try:
            size = os.path.getsize(path)
            if size > self.max_bytes:
                raise DownloadTooLarge(path, self.max_bytes)
            with open(path, "rb") as f:
                return f.read()
        except OSError as exc:
            raise IndexUnreachable(path, exc.strerror or str(exc)) from None

    def _download(self, url: str, label: str, size: int | None) -> bytes:
        buf = bytearray()
        key = url
        self.reporter.download_started(key, label, size)
        try:
            self.http.download(
                url.split("#", 1)[0],
                buf.extend,
                restart=buf.clear,
                progress=lambda done, total: self.reporter.download_progress(key, done, total),
                # the size the index declares, where it declares one (PyPI's "size")
                max_bytes=min(size, self.max_bytes) if size else self.max_bytes,
            )
        finally:
            self.reporter.download_finished(key)
        return bytes(buf)
