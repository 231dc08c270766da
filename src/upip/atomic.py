"""Write one output file so that it is either complete or not there at all."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

from .errors import ImageError, UpipError


def write_atomic(path: Path, data: bytes,
                 error: Callable[[str, str], UpipError] = ImageError,
                 mkdir: bool = False) -> None:
    """Write ``data`` to a temp file beside ``path``, then rename it over ``path``
    (creating the folder first with ``mkdir``); on failure nothing is left and
    ``error(path, reason)`` is raised."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        if mkdir:
            path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise error(str(path), f"cannot write it ({exc.strerror or exc})") from None
