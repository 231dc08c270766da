"""What an install is asked to do: :class:`Options`, and where it goes by default."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .fields import Record, field
from .sources.mip import DEFAULT_MIP_INDEX
from .sources.pypi_json import DEFAULT_INDEX

if TYPE_CHECKING:
    from .compile import CompileOptions

DEFAULT_TARGET = Path("~/.micropython/lib")


class Options(Record):
    """What an install is asked to do (the command line's options)."""

    index_url: str = DEFAULT_INDEX
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[Path] = field(default_factory=list)
    no_deps: bool = False
    upgrade: bool = False
    force_reinstall: bool = False
    force: bool = False
    pre: bool = False
    dry_run: bool = False
    cache_dir: Path | None = None
    no_cache: bool = False
    timeout: float = 15.0
    retries: int = 3
    jobs: int = 16  # requests in flight at once, at most
    cert: str | None = None  # CA bundle for TLS; default: the system's
    mpy: CompileOptions | None = None  # compile .py to .mpy on the way in
    # the mip index bare names are looked up on first; None: none; "": UPIP_MIP_INDEX's
    mip_index: str | None = ""
    target: str | None = None  # the firmware's profile (upip.target); None: the default
    boot_files: bool = False  # install main.py, boot.py, usetup.py at the image root too
    proxy: str | None = None  # for every request; None: HTTP(S)_PROXY / NO_PROXY
    offline: bool = False  # no network: the download cache and the page cache only

    def __post_init__(self) -> None:
        if self.mip_index == "":
            self.mip_index = default_mip_index()


def default_mip_index() -> str | None:
    """``UPIP_MIP_INDEX`` (``none`` or empty: no mip index), else micropython-lib's."""
    value = os.environ.get("UPIP_MIP_INDEX")
    if value is None:
        return DEFAULT_MIP_INDEX
    return None if value.strip().lower() in ("", "none", "off") else value.strip()
