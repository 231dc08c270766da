"""Write one file so that it is either complete or not there at all."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

from .errors import ImageError, UpipError


def replace(path: Path, data: bytes) -> None:
    """Write ``data`` to a temp file beside ``path`` (named for this process
    and thread, so parallel writers never share one), then rename it over
    ``path``; its folder is made when missing. Raises OSError, leaving no
    temp file behind."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        try:
            tmp.write_bytes(data)
        except FileNotFoundError:  # (the folder: made once, not checked each write)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_atomic(path: Path, data: bytes,
                 error: Callable[[str, str], UpipError] = ImageError,
                 mkdir: bool = False) -> None:
    """:func:`replace`, with a failure raised as ``error(path, reason)``; the
    folder is made only with ``mkdir``."""
    if not mkdir and not path.parent.is_dir():
        raise error(str(path), f"cannot write it (no folder {path.parent})")
    try:
        replace(path, data)
    except OSError as exc:
        raise error(str(path), f"cannot write it ({exc.strerror or exc})") from None
