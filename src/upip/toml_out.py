"""A small, deterministic TOML writer for the documents upip writes (pylock.toml).

Python reads TOML (tomllib) but does not write it. The documents upip writes
are plain: tables, arrays of tables, and values that are strings, integers,
booleans, arrays and inline tables. Keys are written in the order given (the
caller sorts what should be sorted), so the same document gives the same bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Sequence):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} in TOML")


def _is_table_array(value: Any) -> bool:
    return (isinstance(value, Sequence) and not isinstance(value, str) and bool(value)
            and all(isinstance(v, Mapping) for v in value))


def dumps(document: Mapping[str, Any]) -> str:
    """``document`` as TOML text: scalar keys first, then sub-tables and
    arrays of tables, each under its dotted header."""
    lines: list[str] = []
    _table(document, [], lines)
    return "\n".join(lines).strip() + "\n"


def _table(table: Mapping[str, Any], path: list[str], lines: list[str],
           array: bool = False) -> None:
    header = ".".join(_key(p) for p in path)
    nested = []
    scalars = []
    for key, value in table.items():
        if value is None:
            continue
        if (isinstance(value, Mapping) and not _inline(value)) or _is_table_array(value):
            nested.append((key, value))
        else:
            scalars.append(f"{_key(key)} = {_value(value)}")
    # (a table of tables only needs no header of its own: TOML makes it)
    if path and (array or scalars or not nested):
        lines.append("")
        lines.append(f"[[{header}]]" if array else f"[{header}]")
    lines += scalars
    for key, value in nested:
        if isinstance(value, Mapping):
            _table(value, [*path, key], lines)
        else:
            for item in value:
                _table(item, [*path, key], lines, array=True)


def _inline(table: Mapping[str, Any]) -> bool:
    """Small flat tables (``hashes = {sha256 = "..."}``) stay inline."""
    return all(not isinstance(v, (Mapping, list, tuple)) for v in table.values()) and len(
        table) <= 3
