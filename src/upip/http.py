"""HTTP for indexes and downloads: urllib3 underneath, verified TLS, retries.

One :class:`HttpClient` is shared by every source and the fetcher; urllib3's
pool is thread-safe, so parallel downloads reuse connections. Transient
failures (connection refused or reset, timeouts, 429/5xx, a body cut short)
are retried with exponential backoff; what remains is raised as an
:class:`~upip.errors.UpipError` naming the URL.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import MaxRetryError
from urllib3.util import Retry, Timeout

from . import __version__
from .errors import DownloadTooLarge, HTTPStatusError, IndexUnreachable

USER_AGENT = f"upip/{__version__}"
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
MAX_DOCUMENT = 64 * 1024 * 1024


class Response(NamedTuple):
    """A small document as fetched: final URL, status, lower-cased headers, body."""

    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def _reason(exc: BaseException) -> str:
    """A short human reason for a urllib3 failure."""
    while isinstance(exc, MaxRetryError) and exc.reason is not None:
        exc = exc.reason
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out",
                   "certificate verify failed", "Connection reset", "Temporary failure"):
        if marker.lower() in text.lower():
            return marker.lower()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


class HttpClient:
    def __init__(
        self,
        *,
        timeout: float = 15.0,
        retries: int = 3,
        backoff: float = 0.25,
        ca_file: str | None = None,
    ) -> None:
        self.retries = retries
        self.backoff = backoff
        retry = Retry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=backoff,
            status_forcelist=TRANSIENT_STATUS,
            allowed_methods=frozenset({"GET"}),
            raise_on_status=False,
            redirect=10,
        )
        self.pool = urllib3.PoolManager(
            num_pools=16,
            maxsize=8,
            retries=retry,
            timeout=Timeout(connect=timeout, read=timeout),
            headers={"User-Agent": USER_AGENT},
            ca_certs=ca_file,
            cert_reqs="CERT_REQUIRED",
        )

    # -- documents (index pages, JSON) -------------------------------------

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Response:
        """GET a small document; any HTTP status is returned, not raised."""
        if url.startswith("file:"):
            return _get_file(url)
        for attempt in range(self.retries + 1):
            try:
                resp = self.pool.request("GET", url, headers=dict(headers or {}),
                                         preload_content=False)
                try:
                    body = resp.read(MAX_DOCUMENT + 1)
                finally:
                    resp.release_conn()
                if len(body) > MAX_DOCUMENT:
                    raise DownloadTooLarge(url, MAX_DOCUMENT)
                # geturl() may be a bare path (urllib3 keeps the request target)
                final = urllib.parse.urljoin(url, resp.geturl() or url)
                return Response(final, resp.status, {k.lower(): v for k, v in resp.headers.items()}, body)
            except MaxRetryError as exc:
                raise IndexUnreachable(url, _reason(exc)) from exc
            except Urllib3Error as exc:  # body cut short, protocol error
                if attempt == self.retries:
                    raise IndexUnreachable(url, _reason(exc)) from exc
                time.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    # -- archives ------------------------------------------------------------

    def download(
        self,
        url: str,
        sink: Callable[[bytes], None],
        *,
        restart: Callable[[], None],
        progress: Callable[[int, int | None], None] | None = None,
        max_bytes: int,
    ) -> None:
        """Stream ``url`` into ``sink``; ``restart`` is called before a retry."""
        if url.startswith("file:"):
            data = _get_file(url)
            if data.status != 200:
                raise HTTPStatusError(url, data.status, "not found")
            sink(data.body)
            return
        for attempt in range(self.retries + 1):
            try:
                resp = self.pool.request("GET", url, preload_content=False)
            except MaxRetryError as exc:
                raise IndexUnreachable(url, _reason(exc)) from exc
            try:
                if resp.status != 200:
                    raise HTTPStatusError(url, resp.status, resp.reason or "")
                length = resp.headers.get("content-length")
                total = int(length) if length and length.isdigit() else None
                if total is not None and total > max_bytes:
                    raise DownloadTooLarge(url, max_bytes)
                done = 0
                for chunk in resp.stream(64 * 1024):
                    done += len(chunk)
                    if done > max_bytes:
                        raise DownloadTooLarge(url, max_bytes)
                    sink(chunk)
                    if progress:
                        progress(done, total)
                return
            except Urllib3Error as exc:
                if attempt == self.retries:
                    raise IndexUnreachable(url, "the download broke off: " + _reason(exc)) from exc
                restart()
                time.sleep(self.backoff * 2**attempt)
            finally:
                resp.release_conn()


def _get_file(url: str) -> Response:
    path = Path(urllib.parse.unquote(urllib.parse.urlparse(url).path))
    if path.is_dir():
        path = path / "index.html"
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        return Response(url, 404, {}, b"")
    except OSError as exc:
        raise IndexUnreachable(url, str(exc)) from exc
    ctype = "application/json" if path.suffix == ".json" or path.name == "json" else "text/html"
    return Response(url, 200, {"content-type": ctype}, body)
