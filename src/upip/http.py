"""HTTP for indexes and downloads: urllib3 underneath, verified TLS, retries,
proxies and credentials as pip users expect them.

One :class:`HttpClient` is shared by every source and the fetcher; urllib3's
pool is thread-safe, so parallel downloads reuse connections. Transient
failures (connection refused or reset, timeouts, 429/5xx, a body cut short)
are retried with exponential backoff; what remains is raised as an
:class:`~upip.errors.UpipError` naming the URL, with any password in it
replaced by ``****``.

Proxies: ``--proxy URL`` for every request, else ``HTTP_PROXY`` /
``HTTPS_PROXY`` by the request's scheme, minus the hosts ``NO_PROXY`` names;
https goes through the proxy in a CONNECT tunnel, checked against ``--cert``
as without one. Credentials: ``USER:PASSWORD@`` in an index or archive URL
(for that host and port only), else the host's entry in ``~/.netrc``
(``NETRC`` names another file); sent as HTTP Basic auth, never printed.
"""

from __future__ import annotations

import base64
import os
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from . import __version__
from .errors import DownloadTooLarge, HTTPStatusError, IndexUnreachable
from .pages import Page, PageCache
from .workers import waiting

if TYPE_CHECKING:  # (imported when the first request is made: a run the cache
    import urllib3  # answers, or an offline one, never loads urllib3: 45 ms)
    from urllib3.exceptions import MaxRetryError

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
    from urllib3.exceptions import MaxRetryError

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


def _no_proxy(host: str) -> bool:
    """Whether ``NO_PROXY`` (or ``no_proxy``) exempts ``host``: ``*``, the host
    itself, or a domain it is in (``example.com`` and ``.example.com`` alike)."""
    value = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
    host = host.lower().rstrip(".")
    for entry in (e.strip().lower() for e in value.split(",")):
        entry = entry.rpartition(":")[0] if entry.count(":") == 1 else entry  # host:port
        entry = entry.lstrip(".")
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
            return True
    return False


def redact(url: str) -> str:
    """``url`` with the password of its user info replaced by ``****``."""
    if "@" not in url:
        return url
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:****@{parts.netloc.rpartition('@')[2]}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class Credentials:
    """Who upip is on which host: user and password from a URL it was given,
    else from ``~/.netrc``."""

    def __init__(self) -> None:
        self._given: dict[str, tuple[str, str]] = {}  # netloc -> (user, password)
        self._lock = threading.Lock()
        self._netrc: object | None = None
        self._netrc_read = False

    def strip(self, url: str) -> str:
        """``url`` without its user info, which is kept for its host and port."""
        if "@" not in url:
            return url
        parts = urllib.parse.urlsplit(url)
        if parts.username is None:
            return url
        host = parts.netloc.rpartition("@")[2]
        with self._lock:
            self._given[host] = (urllib.parse.unquote(parts.username),
                                 urllib.parse.unquote(parts.password or ""))
        return urllib.parse.urlunsplit(parts._replace(netloc=host))

    def header(self, url: str) -> dict[str, str]:
        parts = urllib.parse.urlsplit(url)
        found = self._given.get(parts.netloc) or self._from_netrc(parts.hostname or "")
        if found is None:
            return {}
        token = base64.b64encode(f"{found[0]}:{found[1]}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def _from_netrc(self, host: str) -> tuple[str, str] | None:
        import netrc

        with self._lock:
            if not self._netrc_read:
                self._netrc_read = True
                path = os.environ.get("NETRC") or os.path.join(os.path.expanduser("~"),
                                                               ".netrc")
                try:
                    self._netrc = netrc.netrc(path)
                except (OSError, netrc.NetrcParseError):
                    self._netrc = None
        entry = self._netrc.authenticators(host) if isinstance(self._netrc, netrc.netrc) \
            else None
        return (entry[0], entry[2] or "") if entry else None


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
        proxy: str | None = None,
        cache_dir: Path | None = None,
        offline: bool = False,
        extra_caches: list[Path] | None = None,
        connections: int = 16,
    ) -> None:
        self.timeout = timeout
        self.connections = connections  # kept open per host: as many as requests at once
        self.pages = PageCache(cache_dir, extra_caches) if cache_dir is not None else None
        self.offline = offline  # nothing but what the cache has
        self.retries = retries
        self.backoff = backoff
        self.proxy = proxy  # for every request; else the environment's
        self.credentials = Credentials()
        self.ca_file = ca_file
        self._pool: urllib3.PoolManager | None = None
        self._proxied: dict[str, urllib3.ProxyManager] = {}
        self._routes: dict[tuple[str, str], urllib3.PoolManager] = {}  # (scheme, host)
        self._pools_lock = threading.Lock()

    @property
    def _settings(self) -> dict[str, object]:
        from urllib3.util import Retry, Timeout

        return dict(
            num_pools=16, maxsize=self.connections,
            retries=Retry(total=None, connect=0, read=0, status=0, other=0, redirect=10,
                          raise_on_status=False, raise_on_redirect=True),
            timeout=Timeout(connect=self.timeout, read=self.timeout),
            headers={"User-Agent": USER_AGENT}, ca_certs=self.ca_file,
            cert_reqs="CERT_REQUIRED")

    @property
    def pool(self) -> urllib3.PoolManager:
        """The direct pool, made at the first request."""
        with self._pools_lock:
            if self._pool is None:
                import urllib3

                self._pool = urllib3.PoolManager(**self._settings)  # type: ignore[arg-type]
            return self._pool

    def _pool_for(self, url: str) -> urllib3.PoolManager:
        """The direct pool, or the one through the proxy that applies to
        ``url``: worked out once a scheme and host (reading the environment's
        proxies costs more than a request to a local index)."""
        parts = urllib.parse.urlsplit(url)
        route = (parts.scheme, parts.hostname or "")
        manager = self._routes.get(route)
        if manager is None:
            manager = self._routes[route] = self._route(*route)
        return manager

    def _route(self, scheme: str, host: str) -> urllib3.PoolManager:
        import urllib.request

        proxy = self.proxy or urllib.request.getproxies_environment().get(scheme)
        if not proxy or _no_proxy(host):
            return self.pool
        import urllib3

        with self._pools_lock:
            manager = self._proxied.get(proxy)
            if manager is None:
                given = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
                headers = {}
                if given.username is not None:
                    token = base64.b64encode(
                        f"{urllib.parse.unquote(given.username)}:"
                        f"{urllib.parse.unquote(given.password or '')}".encode()).decode()
                    headers["Proxy-Authorization"] = f"Basic {token}"
                bare = urllib.parse.urlunsplit(given._replace(
                    netloc=given.netloc.rpartition("@")[2]))
                manager = urllib3.ProxyManager(bare, proxy_headers=headers,
                                               **self._settings)  # type: ignore[arg-type]
                self._proxied[proxy] = manager
            return manager

    # -- documents (index pages, JSON) -------------------------------------

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> Response:
        """GET a small document; a final HTTP status is returned, not raised.
        A page kept from an earlier run (upip.pages) is used while fresh, and
        asked for again with its validators when not."""
        if url.startswith("file:"):
            return _get_file(url)
        headers = dict(headers or {})
        accept = headers.get("Accept", "")
        kept = self.pages.get(url, accept) if self.pages is not None else None
        if kept is not None and (kept.fresh or self.offline):
            return Response(kept.url, 200, kept.headers, kept.body)
        if self.offline:
            raise IndexUnreachable(redact(url), "not in the cache, and --offline asks for no "
                                                "network")
        if kept is not None:
            headers.update(kept.validators())
        body = bytearray()
        final, status, got = self._request(url, headers, body.extend, body.clear, None,
                                           MAX_DOCUMENT, statuses=True)
        if status == 304 and kept is not None and self.pages is not None:
            kept = self.pages.revalidated(url, accept, kept, got)
            return Response(kept.url, 200, kept.headers, kept.body)
        if status == 200 and self.pages is not None:
            self.pages.put(url, accept, Page(final, got, bytes(body), 0.0))
        return Response(final, status, got, bytes(body))

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
        if self.offline:
            raise IndexUnreachable(redact(url), "not in the cache, and --offline asks for no "
                                                "network")
        self._request(url, {}, sink, restart, progress, max_bytes, statuses=False)

    # -- the one retry loop ----------------------------------------------------

    def _request(self, url: str, headers: dict[str, str], sink: Callable[[bytes], None],
                 restart: Callable[[], None], progress: Callable[[int, int | None], None] | None,
                 max_bytes: int, statuses: bool) -> tuple[str, int, dict[str, str]]:
        """Fetch ``url`` into ``sink``: (final URL, status, headers). A status
        other than 200 is returned when ``statuses`` (documents), else raised."""
        from urllib3.exceptions import HTTPError as Urllib3Error
        from urllib3.exceptions import MaxRetryError

        url = self.credentials.strip(url)
        shown = redact(url)
        headers = {**headers, **self.credentials.header(url)}
        pool = self._pool_for(url)
        start = time.monotonic()
        deadline = start + 4 * self.timeout + (max_bytes / MIN_RATE if not statuses else 0)
        with waiting():  # (on the wire: the pool may start another worker meanwhile)
            for attempt in range(self.retries + 1):
                last = attempt == self.retries
                try:
                    resp = pool.request("GET", url, headers=headers, preload_content=False)
                except MaxRetryError as exc:
                    if last or not _transient(exc) or time.monotonic() > deadline:
                        raise IndexUnreachable(shown, _reason(exc)) from exc
                    self._pause(attempt, deadline)
                    continue
                read = False
                try:
                    got = resp.geturl()  # (after redirects; relative ones made absolute)
                    final = url if got in (None, url) else urllib.parse.urljoin(url, got)
                    if resp.status in TRANSIENT_STATUS and not last and (
                            time.monotonic() < deadline):
                        self._pause(attempt, deadline)
                        continue
                    if resp.status != 200:
                        if statuses:
                            return final, resp.status, _headers(resp)
                        raise HTTPStatusError(shown, resp.status, resp.reason or "")
                    self._stream(shown, resp, sink, progress, max_bytes, deadline)
                    read = True
                    return final, resp.status, _headers(resp)
                except Urllib3Error as exc:  # body cut short, protocol error, read timeout
                    if last or time.monotonic() > deadline:
                        what = "the download broke off: " if not statuses else ""
                        raise IndexUnreachable(shown, what + _reason(exc)) from exc
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
    from urllib3.exceptions import ResponseError

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
