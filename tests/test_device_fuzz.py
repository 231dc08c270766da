"""Seeded fuzzing of the device client's readers of untrusted bytes, on the real
MicroPython: its JSON scanners (PyPI's JSON API, a mip index's index.json and
package documents), its tar unpacker (deflate, unpack, update) and its
inflater in Python. Every mutant either reads, or fails with one of upip's own
errors in words (never another exception, never a class name), and nothing is
written outside the stage.

One ``micropython`` process runs all the mutants of a kind (a few hundred each,
about two thousand in all), each in a fresh stage.
"""

from __future__ import annotations

import gzip
import json
import random
import re
from pathlib import Path

import pytest

from tests.support.builders import standard_sdist, upip_sdist
from tests.support.device import Device, lines
from tests.test_fuzz import json_documents, mutate, swap_a_value

FILES = {"fxfuzz/__init__.py": b"from .core import run\n" * 20,
         "fxfuzz/core.py": b"def run():\n    return 42\n" * 40}

# kind -> (the stage file the mutant goes to, the steps that read it, mutants)
KINDS = {
    "pypi": ("j", ["json"], 400),
    "pypi-range": ("j", ["json", "range"], 200),
    "mip-index": ("j", ["index"], 250),
    "package": ("j", ["mip"], 250),
    "upip-sdist": ("a", ["deflate", "unpack", "update"], 350),
    "sdist": ("a", ["deflate", "unpack", "update"], 350),
    "inflate": ("a", ["inflate", "unpack"], 200),
}

HARNESS = r"""
import os, sys, upip
from upip import UpipError
DIR = {lib!r}
T = DIR + "/.upip-tx"

def clean():
    for e in os.listdir(T):
        os.remove(T + "/" + e)

def state():
    o = upip.Opts()
    o.path, o.mkdir, o.name, o.index = DIR, [], "fxfuzz", "https://h/pypi"
    o.target = o.version = o.url = o.sha256 = o.context = o.zip = None
    o.range = {range!r}
    o.state = {state!r}
    o.src = {src!r}
    o.modules, o.main, o.force, o.flags, o.count, o.pos = "https://h/mip", False, False, 1, 0, 0
    return o

out = []
for n in range({count}):
    clean()
    with open({mutants!r} + "/" + str(n), "rb") as f:
        data = f.read()
    with open(T + "/" + {stage!r}, "wb") as f:
        f.write(data)
    if {stage!r} == "j":  # (get's list of URLs, which index reads after it)
        with open(T + "/u", "wb") as f:
            f.write(b"i\thttps://h/mip/index.json\np\thttps://h/pypi/fxfuzz/json\n")
    o = state()
    what = "ok"
    try:
        for step in {steps!r}:
            upip.run(step, o)
    except UpipError as e:
        what = "error " + str(upip.run("throw", o, e))
    except Exception as e:
        what = "BUG {{}}: {{}}".format(type(e).__name__, e)
    outside = [e for e in os.listdir(DIR) if e != ".upip-tx"]
    if outside:
        what = "BUG wrote outside the stage: {{}}".format(outside)
    print(n, what)
"""


def originals() -> dict[str, bytes]:
    docs = json_documents()
    tar = upip_sdist("fxfuzz", "1.0", FILES)
    return {"pypi": docs["pypi"], "pypi-range": docs["pypi"], "mip-index": docs["mip-index"],
            "package": docs["package"], "upip-sdist": tar,
            "sdist": standard_sdist("fxfuzz", "1.0", FILES),
            # (a stream the firmware's inflate would read: here the Python one does)
            "inflate": gzip.compress(gzip.decompress(tar), compresslevel=6, mtime=0)}


def mutants(kind: str, data: bytes, count: int, rng: random.Random) -> list[bytes]:
    """Half bytes changed; for the JSON, half valid JSON with a value of another type."""
    out = []
    for n in range(count):
        if kind in ("pypi", "pypi-range", "mip-index", "package") and n % 2 == 0:
            out.append(json.dumps(swap_a_value(json.loads(data), rng)).encode())
        else:
            out.append(mutate(data, rng))
    return out


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_mutants_fail_in_words_and_stay_in_the_stage(device: Device, tmp_path: Path,
                                                    kind: str) -> None:
    stage_file, steps, count = KINDS[kind]
    folder = tmp_path / "mutants"
    folder.mkdir()
    rng = random.Random(sorted(KINDS).index(kind) + 101)
    for n, mutant in enumerate(mutants(kind, originals()[kind], count, rng)):
        (folder / str(n)).write_bytes(mutant)
    lib = tmp_path / "lib"
    (lib / ".upip-tx").mkdir(parents=True)
    src = {"mip-index": "https://h/mip/index.json",
           "package": "https://h/mip/package/py/fxfuzz/1.0.json"}.get(
        kind, "https://h/pypi/fxfuzz/json")
    code = HARNESS.format(lib=str(lib), mutants=str(folder), count=count, stage=stage_file,
                          steps=steps, src=src, range=">=0.1" if kind in ("pypi-range",
                                                                         "mip-index") else None,
                          state={"mip-index": b"ip", "package": b"m"}.get(kind, b"p"))
    result = device.run(code, timeout=120)
    out = lines(result)
    assert result.returncode == 0, out[-10:]
    # one line a mutant (besides what the steps say: "Installing ...", warnings)
    said = [line.split(" ", 2) for line in out if re.match(r"\d+ (ok|error|BUG)", line)]
    assert [int(n) for n, *_ in said] == list(range(count)), out[-10:]
    bugs = [" ".join(line) for line in said if line[1] == "BUG"]
    assert not bugs, bugs[:10]
    errors = [line[2] for line in said if line[1] == "error"]
    for text in errors:
        for internal in ("Error:", "Exception", "Traceback", "invalid syntax"):
            assert internal not in text, text
    assert len(errors) > count // 10, out[:10]  # (the mutants do break things)
