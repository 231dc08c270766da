"""A real HTTP server on 127.0.0.1 that serves an index tree, with faults.

Routes like pypi.org (``/pypi/<name>/json``), pypiserver (``/simple/<name>/``
with PEP 691 content negotiation) and micropython.org (``/mip/...``); any other
path is a file under the tree. Faults make one path misbehave for the next N
requests: a status code, a body cut short, a stall, a chunked body, a redirect,
or other bytes. Every request is logged, so tests can tell what went over the
wire.
"""

from __future__ import annotations

import hashlib
import json
import re
import ssl
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

JSON_691 = "application/vnd.pypi.simple.v1+json"


@dataclass
class Fault:
    kind: str  # status | drop | stall | chunked | redirect | body | trickle | length | raw
    arg: Any = None
    times: int = 1_000_000


class IndexServer:
    def __init__(self, root: Path, ssl_context: ssl.SSLContext | None = None,
                 require_http11: bool = False) -> None:
        self.root = root
        self.faults: dict[str, Fault] = {}
        self.max_age: int | None = None  # Cache-Control: max-age for pages (PyPI: 600)
        self.delay = 0.0  # seconds before every answer: a far server's round trip
        self.not_modified = 0  # 304 answers given
        self.log: list[tuple[str, str]] = []  # (method+version, path)
        self.hosts: list[str] = []  # the Host header of each request
        self.require_http11 = require_http11
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"index": self})
        self.httpd = _Server(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.scheme = "http"
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.port = self.httpd.server_address[1]
        # Poll often, so that stop() takes milliseconds, not half a second.
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,),
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def json_url(self) -> str:
        return f"{self.url}/pypi"

    @property
    def simple_url(self) -> str:
        return f"{self.url}/simple"

    @property
    def mip_url(self) -> str:
        return f"{self.url}/mip"

    def start(self) -> IndexServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def fault(self, path: str, kind: str, arg: Any = None, times: int = 1_000_000) -> None:
        self.faults[path] = Fault(kind, arg, times)

    def take_fault(self, path: str) -> Fault | None:
        with self._lock:
            fault = self.faults.get(path)
            if fault is None or fault.times <= 0:
                return None
            fault.times -= 1
            return fault

    def requests(self, prefix: str = "/") -> list[str]:
        return [p for _, p in self.log if p.startswith(prefix)]


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-response is what several tests provoke.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle
    # plus the client's delayed ACK stalls every keep-alive request by ~40 ms.
    disable_nagle_algorithm = True
    index: IndexServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.index.delay:
            time.sleep(self.index.delay)
        path = self.path.split("?", 1)[0]
        with self.index._lock:
            self.index.log.append((f"GET {self.request_version}", path))
            self.index.hosts.append(self.headers.get("Host", ""))
        if self.index.require_http11 and self.request_version != "HTTP/1.1":
            return self._send(426, b"Upgrade Required: use HTTP/1.1\n", "text/plain")
        fault = self.index.take_fault(path)
        if fault is not None and fault.kind == "status":
            return self._send(int(fault.arg), b"fault\n", "text/plain")
        if fault is not None and fault.kind == "redirect":
            code, location = fault.arg
            self.send_response(code)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if fault is not None and fault.kind == "stall":
            time.sleep(float(fault.arg))
        if fault is not None and fault.kind == "raw":  # not HTTP at all
            self.wfile.write(fault.arg)
            self.wfile.flush()
            self.close_connection = True
            return None
        found = self._resolve(path)
        if found is None:
            return self._send(404, b"not found\n", "text/plain")
        body, ctype = found
        if fault is not None and fault.kind == "body":
            body = fault.arg
        if fault is not None and fault.kind == "drop":
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: int(fault.arg)])
            self.wfile.flush()
            self.close_connection = True
            return None
        if fault is not None and fault.kind in ("trickle", "length"):
            # trickle: a byte every `arg` seconds; length: a Content-Length of
            # `arg`, and the body as it is (short of it), the connection held
            declared = len(body) if fault.kind == "trickle" else int(fault.arg)
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(declared))
            self.end_headers()
            try:
                for i in range(len(body)) if fault.kind == "trickle" else ():
                    self.wfile.write(body[i:i + 1])
                    self.wfile.flush()
                    time.sleep(float(fault.arg))
                if fault.kind == "length":
                    self.wfile.write(body)
                    self.wfile.flush()
                    time.sleep(30)  # as a server that promised more and went quiet
            except OSError:  # the client gave up, as it should
                pass
            self.close_connection = True
            return None
        if fault is not None and fault.kind == "chunked":
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            size = int(fault.arg or 100)
            for i in range(0, len(body), size):
                chunk = body[i:i + size]
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return None
        return self._send(200, body, ctype)

    def _send(self, status: int, body: bytes, ctype: str) -> None:
        # Validators on every answer, as real index servers give them
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if status == 200 and self.headers.get("If-None-Match") == etag:
            with self.index._lock:
                self.index.not_modified += 1
            self.send_response(304)
            self.send_header("ETag", etag)
            self._cache_control()
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if status == 200:
            self.send_header("ETag", etag)
            self._cache_control()
        self.end_headers()
        self.wfile.write(body)

    def _cache_control(self) -> None:
        if self.index.max_age is not None:
            self.send_header("Cache-Control", f"max-age={self.index.max_age}")

    def _resolve(self, path: str) -> tuple[bytes, str] | None:
        root = self.index.root
        m = re.fullmatch(r"/pypi/([^/]+)/(?:([^/]+)/)?json/?", path)
        if m:
            name, version = m.groups()
            folder = root / "pypi" / str(canonicalize_name(name))
            target = folder / version / "json" if version else folder / "json"
            return _read(target, "application/json")
        m = re.fullmatch(r"/simple/([^/]+)/?", path)
        if m:
            folder = root / "simple" / str(canonicalize_name(m.group(1)))
            if JSON_691 in self.headers.get("Accept", ""):
                return _read(folder / "index.json", JSON_691)
            return _read(folder / "index.html", "text/html")
        target = (root / path.lstrip("/")).resolve()
        if not str(target).startswith(str(root.resolve())):
            return None
        if target.is_dir():
            target = target / "index.html"
        ctype = "application/json" if target.suffix == ".json" else "application/octet-stream"
        return _read(target, ctype)


def _read(path: Path, ctype: str) -> tuple[bytes, str] | None:
    try:
        return path.read_bytes(), ctype
    except OSError:
        return None


def dumps(data: object) -> bytes:
    return json.dumps(data).encode()
