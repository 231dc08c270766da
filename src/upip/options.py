"""What an install is asked to do: :class:`Options`, and where it goes by default."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .slotted import Slotted
from .sources.mip import DEFAULT_MIP_INDEX
from .sources.pypi_json import DEFAULT_INDEX

if TYPE_CHECKING:
    from .compile import CompileOptions

DEFAULT_TARGET = Path("~/.micropython/lib")


# Plain slotted classes, not @dataclass (0.5 ms a class at every start): see
# upip.slotted. Each __init__ takes the fields in order, with their defaults;
# list defaults are fresh for each instance.
class Options(Slotted):
    __slots__ = ("index_url", "extra_index_urls", "find_links", "no_deps", "upgrade",
                 "force_reinstall", "force", "pre", "dry_run", "cache_dir", "no_cache",
                 "timeout", "retries", "jobs", "cert", "mpy", "mip_index", "target", "boot_files",
                 "proxy", "offline")
    index_url: str
    extra_index_urls: list[str]
    find_links: list[Path]
    no_deps: bool
    upgrade: bool
    force_reinstall: bool
    force: bool
    pre: bool
    dry_run: bool
    cache_dir: Path | None
    no_cache: bool
    timeout: float
    retries: int
    jobs: int
    cert: str | None  # CA bundle for TLS; default: the system's
    mpy: CompileOptions | None  # compile .py to .mpy on the way in
    mip_index: str | None  # the mip index bare names are looked up on first; None: none
    target: str | None  # the firmware's profile (upip.target); None: the default
    boot_files: bool  # install main.py, boot.py, usetup.py at the image root too
    proxy: str | None  # for every request; None: HTTP(S)_PROXY / NO_PROXY
    offline: bool  # no network: the download cache and the page cache only

    def __init__(self, index_url: str = DEFAULT_INDEX, extra_index_urls: list[str] | None = None,
                 find_links: list[Path] | None = None, no_deps: bool = False,
                 upgrade: bool = False, force_reinstall: bool = False, force: bool = False,
                 pre: bool = False, dry_run: bool = False, cache_dir: Path | None = None,
                 no_cache: bool = False, timeout: float = 15.0, retries: int = 3, jobs: int = 8,
                 cert: str | None = None, mpy: CompileOptions | None = None,
                 mip_index: str | None = "", target: str | None = None,
                 boot_files: bool = False, proxy: str | None = None,
                 offline: bool = False) -> None:
        self.index_url = index_url
        self.extra_index_urls = [] if extra_index_urls is None else extra_index_urls
        self.find_links = [] if find_links is None else find_links
        self.no_deps, self.upgrade, self.force_reinstall = no_deps, upgrade, force_reinstall
        self.force, self.pre, self.dry_run = force, pre, dry_run
        self.cache_dir, self.no_cache = cache_dir, no_cache
        self.timeout, self.retries, self.jobs = timeout, retries, jobs
        self.cert, self.mpy = cert, mpy
        self.mip_index = default_mip_index() if mip_index == "" else mip_index
        self.target, self.boot_files, self.proxy = target, boot_files, proxy
        self.offline = offline


def default_mip_index() -> str | None:
    """``UPIP_MIP_INDEX`` (``none`` or empty: no mip index), else micropython-lib's."""
    value = os.environ.get("UPIP_MIP_INDEX")
    if value is None:
        return DEFAULT_MIP_INDEX
    return None if value.strip().lower() in ("", "none", "off") else value.strip()
