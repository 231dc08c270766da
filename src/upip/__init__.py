"""upip: the package manager and deployment toolkit for MicroPython.

    import upip
    upip.install("micropython-umqtt.simple", "build/lib")
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["__version__", "help", "install"]


def install(package_or_list: str | list[str] | tuple[str, ...], path: str | None = None,
            **options: Any) -> Any:
    """Cross-install one spec or a list of them into ``path`` (``~/.micropython/lib``).

    ``options`` are those of :class:`upip.options.Options` (``index_url``,
    ``upgrade``, ``no_deps``, ...; ``index`` is accepted for ``index_url``).
    Returns an :class:`upip.results.InstallReport`; raises
    :class:`upip.errors.UpipError` on failure, leaving ``path`` untouched.
    """
    from pathlib import Path

    from .installer import install as _install
    from .options import DEFAULT_TARGET, Options
    from .specs import parse_spec

    if "index" in options:
        options["index_url"] = options.pop("index")
    items = [package_or_list] if isinstance(package_or_list, str) else list(package_or_list)
    specs = [parse_spec(item, "upip.install()") for item in items]
    return _install(specs, Path(path) if path else DEFAULT_TARGET, Options(**options))


def help() -> None:
    """Print how to use upip (as ``upip.help()`` always did)."""
    from .cli import build_parser

    print(build_parser().format_help())
