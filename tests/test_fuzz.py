"""Seeded fuzzing of the readers of untrusted bytes: every mutant of a real
archive either reads, or fails with one of upip's own errors in words (never
another exception, never a class name)."""

from __future__ import annotations

import random

import pytest

from tests.support.builders import standard_sdist, upip_sdist, wheel
from upip.dists import read_distribution
from upip.errors import UpipError

FILES = {"fxfuzz/__init__.py": b"from .core import run\n" * 20,
         "fxfuzz/core.py": b"def run():\n    return 42\n" * 40,
         "fxfuzz/data.txt": bytes(range(256)) * 4}
SEEDS = {"wheel": 1, "upip-sdist": 2, "sdist": 3}
MUTANTS = 1500


def originals() -> dict[str, tuple[str, bytes]]:
    return {
        "wheel": ("fxfuzz-1.0-py3-none-any.whl", wheel("fxfuzz", "1.0", FILES)),
        "upip-sdist": ("fxfuzz-1.0.tar.gz", upip_sdist("fxfuzz", "1.0", FILES)),
        "sdist": ("fxfuzz-1.0.tar.gz", standard_sdist("fxfuzz", "1.0", FILES)),
    }


def mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.random()
        i = rng.randrange(len(out))
        if kind < 0.5:
            out[i] = rng.randrange(256)  # a byte changed
        elif kind < 0.7:
            del out[i:i + rng.randint(1, 64)]  # bytes lost
        elif kind < 0.85:
            out[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        else:
            out = out[:i]  # cut short
        if not out:
            break
    return bytes(out)


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_mutated_archives_fail_in_words(kind: str) -> None:
    name, data = originals()[kind]
    rng = random.Random(SEEDS[kind])
    failures = 0
    for n in range(MUTANTS):
        mutant = mutate(data, rng)
        try:
            read_distribution(name, mutant)
        except UpipError as exc:
            failures += 1
            text = str(exc)
            assert "\n" not in text, (n, text)
            for internal in ("Error:", "Exception", "BadZipFile", "ReadError", "Traceback"):
                assert internal not in text, (n, text)
        except Exception as exc:
            raise AssertionError(f"mutant {n} of the {kind}: {type(exc).__name__}: {exc}") from exc
    assert failures > MUTANTS // 10  # the mutants do break things


def json_documents() -> dict[str, bytes]:
    import json

    pypi = {"info": {"name": "fxfuzz", "version": "1.0", "requires_dist": None},
            "releases": {"1.0": [{"filename": "fxfuzz-1.0.tar.gz", "url": "../f/fxfuzz-1.0.tar.gz",
                                  "digests": {"sha256": "ab" * 32}, "size": 10, "yanked": False}],
                         "0.9": [{"filename": "fxfuzz-0.9-py3-none-any.whl",
                                  "url": "https://h/f.whl", "digests": {"sha256": "cd" * 32}}]}}
    index = {"v": 2, "updated": 1, "packages": [
        {"name": "fxfuzz", "version": "1.0", "versions": {"py": ["0.9", "1.0"], "6": ["1.0"]}}]}
    doc = {"v": 1, "version": "1.0", "hashes": [["fxfuzz.py", "abcdef12"]],
           "urls": [["extra.py", "extra.py"], ["x/y.py", "github:o/r/y.py"]],
           "deps": [["fxdep", "latest"], ["github:o/dep", "v1"]]}
    return {"pypi": json.dumps(pypi).encode(), "mip-index": json.dumps(index).encode(),
            "package": json.dumps(doc).encode()}


@pytest.mark.parametrize("kind", ["pypi", "mip-index", "package"])
def test_mutated_json_fails_in_words(kind: str) -> None:
    import json

    from upip.sources.mip import parse_index
    from upip.sources.package_json import parse_document
    from upip.sources.pypi_json import parse_project

    def read(data: bytes) -> object:
        if kind == "pypi":
            try:
                doc = json.loads(data)
            except ValueError:
                return None  # (the source says "not JSON" itself)
            return parse_project(doc, "https://h/pypi/fxfuzz/json", "https://h/pypi")
        if kind == "mip-index":
            return parse_index(data, "https://h/index.json")
        return parse_document(data, "https://h/p.json", "https://h", "https://h/p.json")

    data = json_documents()[kind]
    read(data)  # the original reads
    rng = random.Random(7)
    for n in range(MUTANTS):
        # half the mutants are bytes changed; half valid JSON with a value of another type
        mutant = mutate(data, rng) if n % 2 else json.dumps(
            swap_a_value(json.loads(data), rng)).encode()
        try:
            read(mutant)
        except UpipError as exc:
            assert "\n" not in str(exc) and "Error:" not in str(exc), (n, str(exc))
        except Exception as exc:
            raise AssertionError(f"mutant {n} of the {kind} JSON: {type(exc).__name__}: {exc}"
                                 ) from exc


ODD_VALUES: list[object] = [None, 0, -1, 1.5, "", "x", "../..", [], {}, [1, 2], ["a", "b", "c"],
                            {"a": 1}, True]


def swap_a_value(tree: object, rng: random.Random) -> object:
    """``tree`` with one value (or key's value) somewhere replaced by an odd one."""
    if isinstance(tree, dict) and tree and rng.random() < 0.8:
        key = rng.choice(sorted(tree))
        return {**tree, key: swap_a_value(tree[key], rng)}
    if isinstance(tree, list) and tree and rng.random() < 0.8:
        i = rng.randrange(len(tree))
        return [*tree[:i], swap_a_value(tree[i], rng), *tree[i + 1:]]
    return rng.choice(ODD_VALUES)
