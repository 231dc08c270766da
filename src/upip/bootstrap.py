"""``upip bootstrap``: put the device client into an image.

The client's sources ship inside this package (``upip/device/upip``); they are
compiled with mpy-cross (or copied as ``.py``) and committed into the image
like any distribution, under the name ``upip``, so ``upip list`` shows it and
``upip uninstall upip`` removes it. An optional CA certificate (PEM or DER)
is stored as ``upip/ca.der``, where the device client looks for it.
"""

from __future__ import annotations

import ssl
from importlib import resources
from pathlib import Path

from packaging.version import Version

from . import __version__
from .dists import Distribution
from .errors import UpipError
from .image import Image
from .installer import apply
from .mpy import compile_source, mpy_name
from .options import Options
from .report import Reporter
from .resolve import Resolved
from .results import InstallReport
from .session import Loaded, tree_sha256
from .sources import Candidate

SOURCE = "upip bootstrap"


def device_sources() -> dict[str, bytes]:
    """``upip/<module>.py`` -> source, for every module of the device client."""
    folder = resources.files("upip") / "device" / "upip"
    found = {f"upip/{item.name}": item.read_bytes() for item in folder.iterdir()
             if item.name.endswith(".py")}
    if "upip/__init__.py" not in found:
        raise UpipError("the device client's sources are missing from this upip install")
    return found


def ca_to_der(data: bytes, name: str) -> bytes:
    """One CA certificate as DER (the device's TLS library reads DER only)."""
    if data[:1] == b"\x30":
        return data
    text = data.decode("ascii", "replace")
    count = text.count("-----BEGIN CERTIFICATE-----")
    if count != 1:
        raise UpipError(f"{name}: give exactly one PEM or DER certificate (found {count}); "
                        "the device checks TLS against one root CA")
    try:
        return ssl.PEM_cert_to_DER_cert(text[text.index("-----BEGIN"):])
    except ValueError as exc:
        raise UpipError(f"{name}: not a PEM certificate ({exc})") from None


def _compile(source: bytes, path: str) -> bytes:
    """One client module as .mpy, named by its module name ("_tar", "upip"),
    which the device interns anyway, instead of a path that would cost a qstr
    of its own: every qstr stays on the heap for good."""
    name = path[len("upip/"):-len(".py")]
    # -O3: no line numbers (a device error is one line naming the package
    # and the cause, never a traceback), which makes the code ~7% smaller.
    return compile_source(source, "upip" if name == "__init__" else name, options=["-O3"])


def client_files(*, mpy: bool = True, ca: Path | None = None) -> dict[str, bytes]:
    files = {}
    for path, source in sorted(device_sources().items()):
        if mpy:
            files[mpy_name(path)] = _compile(source, path)
        else:
            files[path] = source
    if ca is not None:
        try:
            files["upip/ca.der"] = ca_to_der(ca.read_bytes(), str(ca))
        except OSError as exc:
            raise UpipError(f"cannot read {ca}: {exc.strerror or exc}") from None
    return files


def bootstrap(target: Path, *, mpy: bool = True, ca: Path | None = None,
              reporter: Reporter | None = None) -> InstallReport:
    files = client_files(mpy=mpy, ca=ca)
    sha = tree_sha256(files)
    cand = Candidate("upip", Version(__version__), __version__, "dir", SOURCE, "upip",
                     SOURCE, sha)
    loaded = Loaded(Distribution("upip", __version__, [], files, [], "bootstrap"), sha)
    with Image.locked(target, reporter) as image:
        return apply(image, [Resolved(cand, True)], lambda c: loaded, Options(),
                     reporter or Reporter())
