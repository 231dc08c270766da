"""The original upip 1.2.6 from PyPI, run unmodified on today's unix port.

Its code is downloaded at run time (never committed) and run with two shim
modules: ``uzlib`` (on top of ``deflate``) and ``ussl``. Its index is
hard-coded to https://pypi.org, so for a local index the ``ussl`` shim hands
it a plain socket to 127.0.0.1 instead of TLS to pypi.org, and the local
index names every file ``https://pypi.org/...`` (see ``write_index``).
Needs the network (PyPI for the code, DNS for pypi.org).
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import urllib.parse
import urllib.request
from pathlib import Path

PYPI = "https://pypi.org/pypi"

SHIM_UZLIB = """\
import deflate
def DecompIO(stream, wbits):
    return deflate.DeflateIO(stream, deflate.GZIP, wbits - 16)
"""
SHIM_USSL = """\
LOCAL = {local!r}
def wrap_socket(s, server_hostname=None):
    if LOCAL:
        import socket
        s.close()
        ai = socket.getaddrinfo(LOCAL[0], LOCAL[1])[0]
        s = socket.socket(ai[0], socket.SOCK_STREAM, ai[2])
        s.connect(ai[-1])
        return s
    import tls
    c = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
    c.verify_mode = tls.CERT_NONE
    return c.wrap_socket(s, server_hostname=server_hostname)
"""


def fetch_pypi(name: str, version: str | None = None) -> tuple[str, bytes] | None:
    """(version, sdist bytes) of a project on live PyPI, or None offline."""
    try:
        with urllib.request.urlopen(f"{PYPI}/{name}/json", timeout=20) as resp:
            data = json.load(resp)
        version = version or data["info"]["version"]
        (url,) = [u["url"] for u in data["releases"][version] if u["packagetype"] == "sdist"]
        url = urllib.parse.urljoin(f"{PYPI}/{name}/json", url)  # mirrors may give relative URLs
        with urllib.request.urlopen(url, timeout=20) as resp:
            return version, resp.read()
    except (OSError, ValueError, KeyError):
        return None


def fetch_old_upip(folder: Path) -> Path | None:
    """upip.py and upip_utarfile.py of upip 1.2.6, plus the uzlib shim, in ``folder``."""
    got = fetch_pypi("micropython-upip", "1.2.6")
    if not got:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(got[1])) as tar:
        for member in ("upip.py", "upip_utarfile.py"):
            f = tar.extractfile(f"micropython-upip-1.2.6/{member}")
            assert f is not None
            (folder / member).write_bytes(f.read())
    (folder / "uzlib.py").write_text(SHIM_UZLIB)
    return folder


def old_upip_env(code: Path, shims: Path, local: tuple[str, int] | None) -> dict[str, str]:
    """Environment for ``micropython -m upip ...`` running 1.2.6 from ``code``;
    ``local``: (host, port) of a plain-HTTP index standing in for pypi.org."""
    shims.mkdir(parents=True, exist_ok=True)
    (shims / "ussl.py").write_text(SHIM_USSL.format(local=local))
    return {**os.environ,
            "MICROPYPATH": os.pathsep.join([str(shims), str(code), ".frozen"])}
