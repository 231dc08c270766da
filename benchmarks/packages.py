"""A reproducible set of 40 MicroPython packages with a dependency graph.

Shaped like micropython-lib on PyPI: upip-format sdists (4 KiB gzip window),
one module or a small package each, 2-9 KB of code, three releases per
project, dependencies with version ranges. Ten "apps" at the top pull in all
40 projects.
"""

from __future__ import annotations

import random

from tests.support.builders import upip_sdist
from tests.support.index import Dist

N_PACKAGES = 40
N_APPS = 10
VERSIONS = ("1.0.0", "1.1.0", "1.2.0")


def _code(name: str, rng: random.Random, size: int) -> str:
    lines = [f'"""{name}: generated benchmark module."""', "", f'NAME = "{name}"', ""]
    i = 0
    while sum(len(line) + 1 for line in lines) < size:
        lines += [f"def f{i}(x, y={rng.randint(0, 99)}):",
                  f"    # step {i}: {rng.random():.12f}",
                  f"    return (x * {rng.randint(2, 9)} + y) % {rng.randint(100, 999)}", ""]
        i += 1
    return "\n".join(lines) + "\n"


def packages(seed: int = 2026) -> tuple[list[Dist], list[str]]:
    """All dists, and the names of the top-level apps to install."""
    rng = random.Random(seed)
    names = [f"micropython-bench-{'app' if i < N_APPS else 'lib'}{i:02d}"
             for i in range(N_PACKAGES)]
    libs = names[N_APPS:]
    deps: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        if i < N_APPS:
            # Each app takes three libraries; together they cover all of them.
            chosen = {libs[(3 * i + k) % len(libs)] for k in range(3)}
        else:
            later = libs[libs.index(name) + 1:]
            chosen = set(rng.sample(later, min(len(later), rng.randint(0, 2))))
        deps[name] = sorted(chosen)
    dists = []
    for name in names:
        module = name.removeprefix("micropython-").replace("-", "_")
        for version in VERSIONS:
            files = {f"{module}/__init__.py": _code(name, rng, rng.randint(2000, 9000)),
                     f"{module}/util.py": _code(name + ".util", rng, 800)}
            requires = [f"{d}>=1.0,<2" for d in deps[name]]
            dists.append(Dist(name, version, f"{name}-{version}.tar.gz",
                              upip_sdist(name, version, files, requires)))
    return dists, names[:N_APPS]


def covered(apps: list[str]) -> int:
    """How many projects installing ``apps`` pulls in (sanity check)."""
    dists, _ = packages()
    graph: dict[str, set[str]] = {}
    import io
    import tarfile

    for d in dists:
        with tarfile.open(fileobj=io.BytesIO(d.data)) as tar:
            for m in tar.getmembers():
                if m.name.endswith("requires.txt"):
                    text = tar.extractfile(m).read().decode()  # type: ignore[union-attr]
                    graph[d.name] = {line.split(">")[0] for line in text.split()}
    seen: set[str] = set()
    todo = list(apps)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += graph.get(name, set())
    return len(seen)
