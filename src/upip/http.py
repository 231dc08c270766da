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
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util import Retry, Timeout

from . import __version__
from .errors import DownloadTooLarge, HTTPStatusError, IndexUnreachable

USER_AGENT = f"upip/{__version__}"
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
MAX_DOCUMENT = 64 * 1024 * 1024
MIN_RATE = 2048  # bytes a second a body must average once `timeout` seconds have passed


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
    if "too many redirects" in text.lower():
        return "it redirects in a loop"
    if "BadStatusLine" in text or "RemoteDisconnected" in text:
        return "the server did not answer in HTTP"
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


class HttpClient:
    """GET with bounds: every request ends within a documented time.

    * each connect and each read waits at most ``timeout`` seconds;
    * once ``timeout`` seconds have passed since a body began, it must keep
      coming at ``MIN_RATE`` bytes a second on average (a server trickling a
      byte at a time is cut off, not waited for);
    * a request, retries included, ends by its deadline: ``4 * timeout`` for a
      document, plus ``size / MIN_RATE`` for a download of ``size`` bytes;
    * transient failures (refused or reset connections, timeouts, 408, 429,
      5xx, a body cut short) are retried ``retries`` times with backoff, in
      one place: urllib3 itself only follows redirects (one retry layer, not
      urllib3's retries inside upip's);
    * a body larger than allowed is refused as soon as its Content-Length, or
      its bytes, say so.
    """

    def __init__(
        self,
        *,
        timeout: float = 15.0,
        retries: int = 3,
        backoff: float = 0.25,
        ca_file: str | None = None,
    ) -> None:
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        retry = Retry(total=None, connect=0, read=0, status=0, other=0, redirect=10,
                      raise_on_status=False, raise_on_redirect=True)
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
        """GET a small document; a final HTTP status is returned, not raised."""
        if url.startswith("file:"):
            return _get_file(url)
        body = bytearray()
        resp = self._request(url, dict(headers or {}), body.extend, body.clear, None,
                             MAX_DOCUMENT, statuses=True)
        return Response(resp[0], resp[1], resp[2], bytes(body))

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
        self._request(url, {}, sink, restart, progress, max_bytes, statuses=False)

    # -- the one retry loop ----------------------------------------------------

    def _request(self, url: str, headers: dict[str, str], sink: Callable[[bytes], None],
                 restart: Callable[[], None], progress: Callable[[int, int | None], None] | None,
                 max_bytes: int, statuses: bool) -> tuple[str, int, dict[str, str]]:
        """Fetch ``url`` into ``sink``: (final URL, status, headers). A status
        other than 200 is returned when ``statuses`` (documents), else raised."""
        start = time.monotonic()
        deadline = start + 4 * self.timeout + (max_bytes / MIN_RATE if not statuses else 0)
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                resp = self.pool.request("GET", url, headers=headers, preload_content=False)
            except MaxRetryError as exc:
                if last or not _transient(exc) or time.monotonic() > deadline:
                    raise IndexUnreachable(url, _reason(exc)) from exc
                self._pause(attempt, deadline)
                continue
            read = False
            try:
                final = urllib.parse.urljoin(url, resp.geturl() or url)
                if resp.status in TRANSIENT_STATUS and not last and (
                        time.monotonic() < deadline):
                    self._pause(attempt, deadline)
                    continue
                if resp.status != 200:
                    if statuses:
                        return final, resp.status, _headers(resp)
                    raise HTTPStatusError(url, resp.status, resp.reason or "")
                self._stream(url, resp, sink, progress, max_bytes, deadline)
                read = True
                return final, resp.status, _headers(resp)
            except Urllib3Error as exc:  # body cut short, protocol error, read timeout
                if last or time.monotonic() > deadline:
                    what = "the download broke off: " if not statuses else ""
                    raise IndexUnreachable(url, what + _reason(exc)) from exc
                restart()
                self._pause(attempt, deadline)
            finally:
                if not read:  # a body left unread must not reach the next request
                    resp.close()
                resp.release_conn()
        raise AssertionError("unreachable")

    def _stream(self, url: str, resp: urllib3.BaseHTTPResponse, sink: Callable[[bytes], None],
                progress: Callable[[int, int | None], None] | None, max_bytes: int,
                deadline: float) -> None:
        length = resp.headers.get("content-length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > max_bytes:
            raise DownloadTooLarge(url, max_bytes)
        began = time.monotonic()
        done = 0
        # read1: what has arrived, at once (stream() waits to fill each chunk,
        # so a trickle would only be noticed at its end)
        while chunk := resp.read1(64 * 1024):
            done += len(chunk)
            if done > max_bytes:
                raise DownloadTooLarge(url, max_bytes)
            sink(chunk)
            if progress:
                progress(done, total)
            now = time.monotonic()
            if now > deadline or (now - began > self.timeout
                                  and done / (now - began) < MIN_RATE):
                raise IndexUnreachable(url, f"too slow: {done} bytes in {now - began:.0f} s "
                                            f"(upip needs {MIN_RATE} bytes a second)")

    def _pause(self, attempt: int, deadline: float) -> None:
        time.sleep(max(0.0, min(self.backoff * 2**attempt, deadline - time.monotonic())))


def _transient(exc: MaxRetryError) -> bool:
    """A connection that failed (worth another try), not a redirect loop."""
    return not isinstance(exc.reason, ResponseError)


def _headers(resp: urllib3.BaseHTTPResponse) -> dict[str, str]:
    return {k.lower(): v for k, v in resp.headers.items()}


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
