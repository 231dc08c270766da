"""A real pypiserver on 127.0.0.1, serving (and, with ``upload=True``, accepting)
the archives of a folder."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def pypiserver(packages: Path, upload: bool = False,
               htpasswd: Path | None = None) -> Iterator[str]:
    """Yields the server's base URL (``/simple/`` is the index, ``/`` the upload API).

    ``upload``: accept uploads without authentication (``-a . -P .``).
    ``htpasswd``: every download and listing needs a user of that file."""
    exe = shutil.which("pypi-server", path=str(Path(sys.executable).parent))
    assert exe, "pypiserver is a test dependency"
    port = free_port()
    auth = ["-a", ".", "-P", "."] if upload else []
    if htpasswd is not None:
        auth = ["-a", "download,list,update", "-P", str(htpasswd)]
    proc = subprocess.Popen([exe, "run", "-i", "127.0.0.1", "-p", str(port), *auth,
                             "--backend", "simple-dir", str(packages)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(10)
