"""A synthetic dependency graph for the resolver benchmark, reproducible by seed.

Each project has 3 to 5 versions; dependencies carry ranges the newest
versions satisfy; a root project needs 50 of them; a chain 30 deep; diamonds
(later projects depended on by several earlier ones); and one *conflict
gadget* per 50 projects that forces the resolver to backtrack:

    root -> gN, hN
    gN 2.0 -> kN>=2        gN 1.x -> kN>=1,<2
    hN (every version) -> kN<2

The newest gN is the first a resolver tries, and hN rules out what it needs:
the only answer takes gN 1.x (the newest 1.x), kN 1.x (the newest). The
expected answer is computed here by construction, so every tool's result can
be checked against it.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field

VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4")


@dataclass
class Graph:
    projects: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # name -> version -> deps
    root: str = "root"
    expected: dict[str, str] = field(default_factory=dict)  # name -> the version to pick


def graph(size: int, gadgets: int | None = None, seed: int = 1) -> Graph:
    rng = random.Random(seed)
    g = Graph()
    gadgets = size // 50 if gadgets is None else gadgets
    plain = size - 3 * gadgets - 1
    names = [f"p{i:04d}" for i in range(plain)]
    versions = {n: list(VERSIONS[:rng.randint(3, 5)]) for n in names}
    deps: dict[str, list[str]] = {n: [] for n in names}
    chain = names[:30]
    for a, b in itertools.pairwise(chain):
        deps[a].append(f"{b}>=1.0")
    for i, name in enumerate(names[30:], 30):  # diamonds: later projects, shared
        for j in rng.sample(range(i + 1, plain), min(plain - i - 1, rng.randint(0, 3))):
            newest = versions[names[j]][-1]
            deps[name].append(f"{names[j]}>={VERSIONS[0]},<={newest}")
    for name in names:
        g.projects[name] = {v: list(deps[name]) for v in versions[name]}
        g.expected[name] = versions[name][-1]
    root_deps = [f"{n}>=1.0" for n in rng.sample(names, min(50, plain))]
    root_deps.append(f"{chain[0]}>=1.0")
    for k in range(gadgets):
        gname, hname, kname = f"g{k:03d}", f"h{k:03d}", f"k{k:03d}"
        g.projects[gname] = {**{v: [f"{kname}>=1.0,<2"] for v in VERSIONS[:3]},
                             "2.0": [f"{kname}>=2"]}
        g.projects[hname] = {v: [f"{kname}<2"] for v in VERSIONS[:3]}
        g.projects[kname] = {v: [] for v in (*VERSIONS[:3], "2.0", "2.1")}
        g.expected.update({gname: VERSIONS[2], hname: VERSIONS[2], kname: VERSIONS[2]})
        root_deps += [gname, hname]
    reached = _reached(g, sorted(set(root_deps)))
    g.expected = {n: v for n, v in g.expected.items() if n in reached}
    g.projects[g.root] = {"1.0": sorted(set(root_deps))}
    return g


def _reached(g: Graph, roots: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = [r.split(">")[0].split("<")[0].split("=")[0] for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for dep in g.projects[name][g.expected[name]]:
            todo.append(dep.split(">")[0].split("<")[0].split("=")[0])
    return seen
