"""The TOML writer: what tomllib reads back is what was written, byte for byte stable."""

from __future__ import annotations

import tomllib

from upip.toml_out import dumps

DOC = {
    "lock-version": "1.0",
    "created-by": "upip",
    "requires-python": None,  # (dropped)
    "packages": [
        {"name": "a", "version": "1.0", "index": "https://pypi.org/simple",
         "sdist": {"name": "a-1.0.tar.gz", "url": "https://h/a-1.0.tar.gz",
                   "hashes": {"sha256": "ab" * 32}},
         "dependencies": [{"name": "b"}]},
        {"name": "b", "version": "2.0",
         "wheels": [{"name": "b-2.0-py3-none-any.whl", "url": "https://h/b.whl",
                     "hashes": {"sha256": "cd" * 32}}],
         "tool": {"upip": {"kind": "mip", "files": [
             {"path": "b/__init__.py", "url": "https://h/f/1", "sha256": "ef" * 32},
             {"path": "weird \"name\".py", "url": "https://h/f/2", "sha256": "01" * 32}]}}},
    ],
    "tool": {"upip": {"target": "generic", "requested": ["a", "b>=1"], "mpy": False,
                      "count": 3}},
}


def test_round_trip_and_determinism() -> None:
    text = dumps(DOC)
    back = tomllib.loads(text)
    expected = {k: v for k, v in DOC.items() if v is not None}
    assert back == expected
    assert dumps(back) == text
    assert '[[packages.tool.upip.files]]' in text and 'hashes = {sha256 = ' in text
