"""Cross-install benchmark: upip vs pipkin vs mip, same 40 packages, one run.

    python benchmarks/bench_install.py [--repeat N] [--json] [--no-pipkin]
                                       [--baseline CHECKOUT]

Serves the packages of benchmarks/packages.py on 127.0.0.1 as a PyPI JSON API
(for upip), a simple index (for pipkin, which needs pip's protocol) and a mip
index v2 (for ``micropython -m mip`` on the unix port), then installs the ten
apps (40 projects with their dependencies) into a fresh directory:

* cold: empty download cache (pipkin: empty cache, so its private venv is
  created too); warm: cache filled by an earlier run. mip has no cache, so its
  cold and warm figures are the same kind of run.

Each figure is the median wall time of ``--repeat`` runs of the real command
in a subprocess. upip and mip runs alternate (upip first in even rounds, mip
first in odd ones), so both see the same machine: on a shared VM the cost of
creating a file was seen to move between 0.04 and 0.8 ms from one minute to
the next, which is most of an install's wall time for both tools. Every run's image is checked: the same .py files with the
same bytes for every tool. upip's own modules are byte-compiled first, as a
regular ``pip install`` does (an editable install under
PYTHONDONTWRITEBYTECODE would otherwise recompile them on every run).

``--baseline CHECKOUT``: another upip source tree (``git worktree add
/tmp/upip-before REV``), run from its ``src`` beside this one in the same
rounds, so a change's cost shows in one run; with it, a third row times
start-up (``upip list`` of an empty folder) for both.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.index import write_index
from tests.support.mpy import micropython_command
from tests.support.server import IndexServer

from benchmarks.packages import packages


def code_files(root: Path) -> dict[str, str]:
    """The .py files of an image and their hashes (tool bookkeeping ignored)."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*.py") if ".dist-info" not in p.as_posix()}


class Bench:
    def __init__(self, work: Path, repeat: int) -> None:
        self.work, self.repeat = work, repeat
        dists, self.apps = packages()
        root = work / "index"
        root.mkdir()
        self.server = IndexServer(root)
        write_index(root, dists, self.server.url, mip=True, absolute=True)
        self.server.start()
        self.reference: dict[str, str] | None = None
        self.runs = 0

    def run(self, argv: list[str], target: Path, env: dict[str, str]) -> float:
        if target.exists():
            shutil.rmtree(target)
        start = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **env})
        elapsed = time.perf_counter() - start
        if proc.returncode != 0 or "may be partially installed" in proc.stdout:
            raise SystemExit(f"benchmark command failed: {' '.join(argv)}\n{proc.stdout}"
                             f"\n{proc.stderr}")
        files = code_files(target)
        if self.reference is None:
            self.reference = files
        elif files != self.reference:
            missing = set(self.reference) ^ set(files)
            raise SystemExit(f"{argv[0]} produced a different image: {sorted(missing)[:5]}")
        return elapsed

    def measure(self, tools: dict[str, Callable[[Path, Path], tuple[list[str], dict[str, str]]]],
                warm: bool) -> dict[str, float]:
        """Median seconds per tool, the tools' runs interleaved round by round.

        ``make(target, cache)`` gives a tool's argv and env. Warm: each tool's
        cache is filled by one unmeasured run first.
        """
        names = list(tools)
        caches = {}
        for name in names:
            caches[name] = self.work / f"cache-{self.runs}-{name}"
            if warm:
                argv, env = tools[name](self.work / "prime", caches[name])
                self.run(argv, self.work / "prime", env)
        self.runs += 1
        times: dict[str, list[float]] = {name: [] for name in names}
        for i in range(self.repeat):
            for name in names if i % 2 == 0 else reversed(names):
                cache = caches[name] if warm else self.work / f"cache-{self.runs}-{name}-{i}"
                target = self.work / f"target-{self.runs}-{i}-{name}"
                argv, env = tools[name](target, cache)
                times[name].append(self.run(argv, target, env))
        return {name: statistics.median(t) for name, t in times.items()}

    # -- the tools --------------------------------------------------------

    def upip(self, target: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
        return ([sys.executable, "-m", "upip", "install", "-q", "-p", str(target),
                 "-i", self.server.json_url, "--cache-dir", str(cache), *self.apps], {})

    def baseline(self, checkout: Path) -> Callable[[Path, Path], tuple[list[str],
                                                                       dict[str, str]]]:
        """The upip of another source tree, run the same way."""
        def make(target: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
            argv, _ = self.upip(target, cache)
            return argv, {"PYTHONPATH": str(checkout / "src")}
        return make

    def startup(self, env: dict[str, str]) -> float:
        """Median seconds of ``upip list`` of an empty folder."""
        empty = self.work / "empty"
        empty.mkdir(exist_ok=True)
        times = []
        for _ in range(max(5, self.repeat)):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "upip", "list", "-p", str(empty)],
                           capture_output=True, check=True, env={**os.environ, **env})
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    def pipkin(self, target: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
        exe = shutil.which("pipkin", path=str(Path(sys.executable).parent)) or "pipkin"
        return ([exe, "-q", "--dir", str(target), "install", "--no-mp-org",
                 "-i", self.server.simple_url + "/", *self.apps],
                {"XDG_CACHE_HOME": str(cache)})

    def mip(self, target: Path, cache: Path) -> tuple[list[str], dict[str, str]]:
        return ([micropython_command() or "micropython", "-m", "mip", "install",
                 "--target", str(target), "--index", self.server.mip_url, "--no-mpy",
                 *self.apps], {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--json", action="store_true", help="print figures as JSON")
    parser.add_argument("--no-pipkin", action="store_true",
                        help="leave pipkin out (a minute per cold run)")
    parser.add_argument("--baseline", type=Path, metavar="CHECKOUT",
                        help="another upip source tree to time beside this one")
    args = parser.parse_args()
    have_pipkin = not args.no_pipkin and bool(shutil.which("pipkin", path=str(Path(sys.executable).parent))
                       or shutil.which("pipkin"))
    have_mip = micropython_command() is not None
    import compileall

    import upip

    compileall.compile_dir(str(Path(upip.__file__).parent), quiet=1)
    if args.baseline:
        compileall.compile_dir(str(args.baseline / "src" / "upip"), quiet=1)
    with tempfile.TemporaryDirectory(prefix="upip-bench-") as tmp:
        bench = Bench(Path(tmp), args.repeat)
        figures: dict[str, dict[str, float | None]] = {}
        for scenario, warm in (("cold cache", False), ("warm cache", True)):
            Make = Callable[[Path, Path], tuple[list[str], dict[str, str]]]
            fast: dict[str, Make] = {"upip": bench.upip,
                                     **({"mip": bench.mip} if have_mip else {})}
            if args.baseline:
                fast["baseline"] = bench.baseline(args.baseline)
            row: dict[str, float | None] = {"mip": None, "pipkin": None}
            row.update(bench.measure(fast, warm))
            if have_pipkin:  # a minute per cold run: measured on its own
                row.update(bench.measure({"pipkin": bench.pipkin}, warm))
            figures[scenario] = row
        if args.baseline:
            figures["start-up"] = {"upip": bench.startup({}), "mip": None, "pipkin": None,
                                   "baseline": bench.startup(
                                       {"PYTHONPATH": str(args.baseline / "src")})}
        bench.server.stop()
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    report(figures, bench.apps)


def report(figures: dict[str, dict[str, float | None]], apps: list[str]) -> None:
    from rich.console import Console
    from rich.table import Table

    def sec(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.3f} s"

    def ratio(v: float | None, base: float | None) -> str:
        return "n/a" if v is None or not base else f"{v / base:.1f}x"

    table = Table(title=f"Cross-install of {len(apps)} apps = 40 projects from 127.0.0.1 "
                        "(median wall time)")
    baseline = any("baseline" in row for row in figures.values())
    for col in ("", "upip", "mip (unix port)", "pipkin", "mip / upip", "pipkin / upip",
                *(("upip (baseline)", "baseline / upip") if baseline else ())):
        table.add_column(col, justify="right")
    for scenario, row in figures.items():
        extra = (sec(row.get("baseline")), ratio(row.get("baseline"), row["upip"])
                 ) if baseline else ()
        table.add_row(scenario, sec(row["upip"]), sec(row["mip"]), sec(row["pipkin"]),
                      ratio(row["mip"], row["upip"]), ratio(row["pipkin"], row["upip"]), *extra)
    console = Console()
    console.print(table)
    cold, warm = figures["cold cache"], figures["warm cache"]
    checks = [
        ("warm: >= 10x faster than pipkin", warm["pipkin"], warm["upip"],
         lambda: warm["pipkin"] / warm["upip"] >= 10),  # type: ignore[operator]
        ("warm: no slower than mip", warm["mip"], warm["upip"],
         lambda: warm["upip"] <= warm["mip"]),  # type: ignore[operator]
        ("cold: within 2x of mip", cold["mip"], cold["upip"],
         lambda: cold["upip"] <= 2 * cold["mip"]),  # type: ignore[operator]
    ]
    for label, peer, mine, ok in checks:
        verdict = "n/a (peer not installed)" if peer is None or mine is None else (
            "met" if ok() else "NOT met")
        console.print(f"target {label}: {verdict}")


if __name__ == "__main__":
    main()
