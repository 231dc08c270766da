"""The resolver at scale: upip against pip on a synthetic graph, one run.

    python benchmarks/bench_resolve.py [--sizes 100,300,1000] [--gadgets-1000 20]
                                       [--repeat 3] [--latency MS] [--json] [--only-upip]

The graph (benchmarks/resolve_graph.py: 3-5 versions a project, ranged
dependencies, a root needing 50 projects, a 30-deep chain, diamonds, one
conflict gadget per 50 projects, plus a 1,000-project run with 20 gadgets) is
written as pure wheels and served on 127.0.0.1 as a PEP 503/691 simple index
with PEP 658 metadata (``core-metadata``), ETags and ``Cache-Control:
max-age=600`` as PyPI sends them. upip's modules are byte-compiled first, as
pip's are. Each tool resolves ``root`` and
reports what it would install:

* upip: ``upip lock -o FILE -i URL/simple --no-mip-index root``;
* pip: ``pip install --dry-run --target DIR --report FILE -i URL/simple root``.

``--latency MS`` makes the server wait that long before every answer, as an
index across the internet does (PyPI's CDN is some 10-50 ms away): what a
request costs then is its round trip, not the client's CPU.

Cold: an empty cache for each run; warm: a cache filled by an unmeasured run.
For each cold row, "requests alone" is upip's requests of that row made by
nothing but urllib3 (upip's transport) in a fresh Python, all at once on as
many threads as upip's default -j (16): no parsing, no resolving, no cache. pip / requests alone is then the most any
client on that transport could beat pip by, cold, on this machine.
Every answer is checked against the one the graph was built to have; a tool
that gives another answer is reported as wrong, not timed. The table has the
median wall time and ratio pip/upip, and the requests each warm run made
(those a cache validator could have answered are what a warm run should not
make).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.builders import wheel, wheel_filename
from tests.support.index import Dist, write_index
from tests.support.server import IndexServer

from benchmarks.resolve_graph import Graph, graph


def dists(g: Graph) -> list[Dist]:
    out = []
    for name, versions in g.projects.items():
        for version, deps in versions.items():
            data = wheel(name, version, {f"{name}.py": f"V = {version!r}\n"}, deps)
            out.append(Dist(name, version, wheel_filename(name, version), data))
    return out


class Bench:
    def __init__(self, work: Path, g: Graph) -> None:
        self.work, self.g = work, g
        root = work / "index"
        root.mkdir()
        self.server = IndexServer(root)
        self.server.max_age = 600  # as PyPI's simple pages
        write_index(root, dists(g), self.server.url, metadata=True)
        self.server.start()
        self.upip_bin = [sys.executable, "-m", "upip"]
        self.paths: list[str] = []  # what upip's last run asked the server for

    def upip(self, cache: Path) -> dict[str, str]:
        out = self.work / "pylock.toml"
        out.unlink(missing_ok=True)
        env = {**os.environ, "XDG_CACHE_HOME": str(cache), "UPIP_MIP_INDEX": "none"}
        proc = subprocess.run([*self.upip_bin, "lock", "-o", str(out), "-i",
                               self.server.simple_url, "pypi:root"], capture_output=True,
                              text=True, env=env)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed")
        import tomllib

        lock = tomllib.loads(out.read_text())
        return {p["name"]: p["version"] for p in lock["packages"]}

    def pip(self, cache: Path) -> dict[str, str]:
        report = self.work / "report.json"
        target = self.work / "pip-target"
        shutil.rmtree(target, ignore_errors=True)
        proc = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "-q",
                               "--disable-pip-version-check", "--target", str(target),
                               "--report", str(report), "--cache-dir", str(cache),
                               "--index-url", self.server.simple_url + "/", "root"],
                              capture_output=True, text=True, env={**os.environ,
                                                                    "PIP_CONFIG_FILE": os.devnull})
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed")
        data = json.loads(report.read_text())
        return {i["metadata"]["name"]: i["metadata"]["version"] for i in data["install"]}

    def measure(self, tool: str, warm: bool, repeat: int) -> tuple[float | None, str, int]:
        """(median seconds or None, verdict, requests of the last run)."""
        run = getattr(self, tool)
        times = []
        verdict = "right"
        requests = 0
        for i in range(repeat):
            cache = self.work / f"cache-{tool}-{'warm' if warm else i}"
            if warm and i == 0:
                shutil.rmtree(cache, ignore_errors=True)
                try:
                    run(cache)
                except RuntimeError as exc:
                    return None, f"failed: {exc}", 0
            elif not warm:
                shutil.rmtree(cache, ignore_errors=True)
            self.server.log.clear()
            start = time.perf_counter()
            try:
                answer = run(cache)
            except RuntimeError as exc:
                return None, f"failed: {exc}", 0
            times.append(time.perf_counter() - start)
            requests = len(self.server.log)
            self.paths = [path for _, path in self.server.log]
            got = {k.lower(): v for k, v in answer.items() if k.lower() != "root"}
            if got != self.g.expected:
                wrong = sorted(k for k in set(got) | set(self.g.expected)
                               if got.get(k) != self.g.expected.get(k))
                return None, f"wrong answer ({len(wrong)} projects, e.g. {wrong[:3]})", requests
        return statistics.median(times), verdict, requests


# The same requests with nothing else: a fresh Python that imports urllib3 and
# GETs each path (pages with upip's Accept header) on as many threads as
# upip's default -j.
REQUESTS_ALONE = r"""
import sys, urllib3
from concurrent.futures import ThreadPoolExecutor
base, accept = sys.argv[1], sys.argv[2]
pool = urllib3.PoolManager(maxsize=16)
def get(path):
    headers = {"Accept": accept} if path.startswith("/simple/") else {}
    return pool.request("GET", base + path, headers=headers).data
with ThreadPoolExecutor(16) as workers:
    list(workers.map(get, sys.stdin.read().split()))
"""


def requests_alone(bench: Bench, repeat: int) -> float:
    """Median seconds for upip's last run's requests made by bare urllib3:
    what any client on upip's transport pays before it parses or resolves."""
    from upip.sources.simple import ACCEPT

    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", REQUESTS_ALONE, bench.server.url, ACCEPT],
                       input="\n".join(bench.paths), text=True, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,300,1000")
    parser.add_argument("--gadgets-1000", type=int, default=0,
                        help="an extra 1,000-project run with this many gadgets (0: none)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.0, metavar="MS",
                        help="wait this long before every answer (default: 0)")
    parser.add_argument("--only-upip", action="store_true", help="leave pip out")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    runs = [(int(s), None) for s in args.sizes.split(",") if s]
    if args.gadgets_1000:
        runs.append((1000, args.gadgets_1000))
    tools = ["upip"] if args.only_upip else ["upip", "pip"]
    import compileall

    import upip

    # as a regular pip install does, and as pip's own modules are: an editable
    # install under PYTHONDONTWRITEBYTECODE would otherwise recompile upip's
    # modules on every run (some 50 ms of each)
    compileall.compile_dir(str(Path(upip.__file__).parent), quiet=1)
    rows = []
    for size, gadgets in runs:
        with tempfile.TemporaryDirectory(prefix="upip-resolve-") as tmp:
            g = graph(size, gadgets)
            bench = Bench(Path(tmp), g)
            bench.server.delay = args.latency / 1000
            for warm in (False, True):
                row: dict[str, object] = {"projects": size, "gadgets": gadgets or size // 50,
                                          "solution": len(g.expected),
                                          "cache": "warm" if warm else "cold"}
                for tool in tools:
                    seconds, verdict, requests = bench.measure(tool, warm, args.repeat)
                    row[tool] = {"seconds": seconds, "verdict": verdict, "requests": requests}
                    if tool == "upip" and not warm and seconds is not None:
                        row["requests alone"] = requests_alone(bench, args.repeat)
                rows.append(row)
            bench.server.stop()
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    title = "resolve a synthetic graph: median wall time"
    if args.latency:
        title += f", {args.latency:g} ms before every answer"
    table = Table(title=title)
    for col in ("projects", "gadgets", "cache", *tools, *(["pip / upip"] if "pip" in tools
                                                          else []), "upip requests",
                "requests alone", *(["pip / requests alone"] if "pip" in tools else [])):
        table.add_column(col, justify="right")
    for row in rows:
        cells = [str(row["projects"]), str(row["gadgets"]), str(row["cache"])]
        secs = {}
        for tool in tools:
            info = row[tool]
            assert isinstance(info, dict)
            secs[tool] = info["seconds"]
            cells.append(f"{info['seconds']:.2f} s" if info["seconds"] is not None
                         else str(info["verdict"]))
        if "pip" in tools:
            cells.append(f"{secs['pip'] / secs['upip']:.1f}x" if secs["pip"] and secs["upip"]
                         else "")
        upip_info = row["upip"]
        assert isinstance(upip_info, dict)
        cells.append(str(upip_info["requests"]))
        alone = row.get("requests alone")
        cells.append(f"{alone:.2f} s" if isinstance(alone, float) else "")
        if "pip" in tools:
            cells.append(f"{secs['pip'] / alone:.1f}x" if isinstance(alone, float)
                         and secs["pip"] else "")
        table.add_row(*cells)
    Console(width=max(Console().width, 140)).print(table)


if __name__ == "__main__":
    main()
