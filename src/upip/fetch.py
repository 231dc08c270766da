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
from pathlib import Path

from .errors import DownloadTooLarge, HashMismatch, IndexUnreachable
from .http import HttpClient
from .report import Reporter
from .sources import Candidate

MAX_DOWNLOAD = 64 * 1024 * 1024


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "upip"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Cache:
    def __init__(self, root: Path, reporter: Reporter | None = None) -> None:
        self.root = root
        self.reporter = reporter or Reporter()
        self._warned = False

    def _path(self, sha256: str) -> Path:
        return self.root / "sha256" / sha256[:2] / sha256

    def get(self, sha256: str) -> bytes | None:
        path = self._path(sha256)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if sha256_hex(data) != sha256:
            path.unlink(missing_ok=True)
            return None
        return data

    def put(self, sha256: str, data: bytes) -> None:
        import tempfile  # only a cold cache writes: not worth importing on every run

        path = self._path(sha256)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
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
            data = self._read_local(cand)
        else:
            cached = self.cache.get(want) if (want and self.cache) else None
            if cached is not None:
                return cached, want  # type: ignore[return-value]
            data = self._download(cand)
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

    def _read_local(self, cand: Candidate) -> bytes:
        try:
            size = os.path.getsize(cand.url)
            if size > self.max_bytes:
                raise DownloadTooLarge(cand.url, self.max_bytes)
            with open(cand.url, "rb") as f:
                return f.read()
        except OSError as exc:
            raise IndexUnreachable(cand.url, exc.strerror or str(exc)) from None

    def _download(self, cand: Candidate) -> bytes:
        buf = bytearray()
        key = cand.url
        self.reporter.download_started(key, cand.filename, cand.size)
        try:
            self.http.download(
                cand.url.split("#", 1)[0],
                buf.extend,
                restart=buf.clear,
                progress=lambda done, total: self.reporter.download_progress(key, done, total),
                max_bytes=self.max_bytes,
            )
        finally:
            self.reporter.download_finished(key)
        return bytes(buf)
