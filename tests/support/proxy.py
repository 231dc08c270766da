"""A small forward proxy on 127.0.0.1, as a corporate network puts in the way:
plain requests by absolute URL (``GET http://host/path``) and tunnels for
https (``CONNECT host:port``). It can ask for credentials (407), and logs
what went through it, so tests can tell what went over the proxy."""

from __future__ import annotations

import base64
import select
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ForwardProxy:
    def __init__(self, credentials: tuple[str, str] | None = None) -> None:
        self.log: list[str] = []  # "GET http://..." or "CONNECT host:port"
        self.credentials = credentials
        handler = type("Handler", (_Handler,), {"proxy": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,),
                                       daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ForwardProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy: ForwardProxy

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _allowed(self) -> bool:
        if self.proxy.credentials is None:
            return True
        want = base64.b64encode(":".join(self.proxy.credentials).encode()).decode()
        if self.headers.get("Proxy-Authorization", "") == f"Basic {want}":
            return True
        self.send_response(407)
        self.send_header("Proxy-Authenticate", 'Basic realm="proxy"')
        self.send_header("Content-Length", "0")
        self.end_headers()
        return False

    def do_CONNECT(self) -> None:
        self.proxy.log.append(f"CONNECT {self.path}")
        if not self._allowed():
            return
        host, _, port = self.path.rpartition(":")
        try:
            upstream = socket.create_connection((host, int(port)), timeout=10)
        except OSError:
            self.send_error(502)
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self._pipe(self.connection, upstream)
        self.close_connection = True

    def do_GET(self) -> None:
        self.proxy.log.append(f"GET {self.path}")
        if not self._allowed():
            return
        url = urllib.parse.urlsplit(self.path)
        if url.scheme != "http" or not url.hostname:
            self.send_error(400, "a proxy wants an absolute http URL")
            return
        with socket.create_connection((url.hostname, url.port or 80), timeout=10) as upstream:
            target = url.path + (f"?{url.query}" if url.query else "")
            headers = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items()
                              if k.lower() not in ("proxy-authorization", "proxy-connection",
                                                   "connection"))
            upstream.sendall(f"GET {target} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n"
                             .encode("latin-1"))
            while chunk := upstream.recv(65536):
                self.wfile.write(chunk)
        self.close_connection = True

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        with b:
            while True:
                ready, _, _ = select.select([a, b], [], [], 10)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (b if sock is a else a).sendall(data)
