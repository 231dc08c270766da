"""Kill -9 at random moments, and writers at the same time: what is left?

    python benchmarks/stress.py [--runs-host 100] [--runs-uninstall 100]
                                [--runs-device 50] [--pairs 20] [--seed 1] [--json]
                                [--only host|device]

Serves benchmarks/packages.py (40 packages, three releases each) on 127.0.0.1
and, for each scenario, starts from the same image, runs one command as a
user would, and SIGKILLs it after a delay drawn uniformly from [0, T], T being
how long the command takes when left alone. The next writer then recovers the
image (for the host, the lock taken by ``Image.locked``; for the device, its
next writer, ``micropython -m upip uninstall`` of a package that is not there:
a list reads, and never touches a stage) and the image is compared, file by
file and with its records, with the image before and the image after:

* host upgrade: 30 packages from 1.0.0 to 1.2.0 (``upip install -U``);
* host uninstall: 30 packages;
* device upgrade: 5 packages, by the device client on the unix port;
* concurrent pairs: two host installs of different packages into one image at
  once, and two device installs; each pair ends with both in the image, or one
  refused in one line naming the other, or something else (data lost).

Prints a table of outcomes: "before", "after", "other" (anything else is a
failure of the project's atomicity promise).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.index import write_index
from tests.support.mpy import micropython_command
from tests.support.server import IndexServer

from benchmarks.packages import packages
from upip.image import Image

DEVICE = Path(__file__).resolve().parents[1] / "src" / "upip" / "device"


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder of an image with its content's hash (the stage aside)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(".upip-tx"):
            out[rel] = "stage"  # a stage left behind is "other" too
        elif path.is_dir():
            out[rel] = "dir"
        else:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


class Stress:
    def __init__(self, work: Path, seed: int) -> None:
        self.work = work
        self.rng = random.Random(seed)
        dists, _ = packages()
        self.names = sorted({d.name for d in dists})
        root = work / "index"
        root.mkdir()
        self.server = IndexServer(root)
        write_index(root, dists, self.server.url, absolute=True)
        self.server.start()
        self.env = {**os.environ, "HOME": str(work / "home"),
                    "XDG_CACHE_HOME": str(work / "cache"), "UPIP_MIP_INDEX": "none"}

    def upip(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "upip", *args]

    def run(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        proc = subprocess.run(argv, capture_output=True, text=True, env=env or self.env)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stdout}{proc.stderr}")

    def template(self, name: str, *specs: str) -> Path:
        target = self.work / name
        self.run(self.upip("install", "-q", "-p", str(target), "-i", self.server.json_url,
                           *specs))
        return target

    def timed(self, argv: list[str], env: dict[str, str]) -> float:
        start = time.perf_counter()
        self.run(argv, env)
        return time.perf_counter() - start

    def killed(self, argv: list[str], env: dict[str, str], delay: float) -> None:
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env=env)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    def scenario(self, before_dir: Path, make: object, runs: int,
                 recover: object) -> Counter[str]:
        """Outcomes of ``runs`` kills of ``make(target) -> (argv, env)`` on copies of
        ``before_dir``; ``recover(target)`` is the next writer."""
        make_cmd = make  # (typed loosely: the lambdas below)
        before = snapshot(before_dir)
        reference = self.work / "reference"
        shutil.rmtree(reference, ignore_errors=True)
        shutil.copytree(before_dir, reference)
        argv, env = make_cmd(reference)  # type: ignore[operator]
        duration = self.timed(argv, env)
        after = snapshot(reference)
        if after == before:
            raise SystemExit(f"{' '.join(argv)} changed nothing: no scenario to stress")
        outcomes: Counter[str] = Counter()
        for n in range(runs):
            target = self.work / f"run{n}"
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(before_dir, target)
            argv, env = make_cmd(target)  # type: ignore[operator]
            self.killed(argv, env, self.rng.uniform(0, duration))
            recover(target)  # type: ignore[operator]
            state = snapshot(target)
            outcomes["before" if state == before else "after" if state == after
                     else "other"] += 1
            shutil.rmtree(target, ignore_errors=True)
        outcomes["(seconds a run)"] = 0
        self.last_duration = duration
        return outcomes

    # -- the scenarios ------------------------------------------------------

    def host_upgrade(self, runs: int) -> Counter[str]:
        old = self.template("old", *(f"{n}==1.0.0" for n in self.names))
        chosen = self.names[:30]
        return self.scenario(old, lambda t: (self.upip(
            "install", "-q", "-p", str(t), "-i", self.server.json_url, "-U", *chosen),
            self.env), runs, self.host_recover)

    def host_uninstall(self, runs: int) -> Counter[str]:
        old = self.work / "old"
        chosen = self.names[:30]
        return self.scenario(old, lambda t: (self.upip("uninstall", "-q", "-p", str(t),
                                                       *chosen), self.env),
                             runs, self.host_recover)

    def device_upgrade(self, runs: int) -> Counter[str]:
        chosen = self.names[:5]
        old = self.template("old-device", *(f"{n}==1.0.0" for n in chosen))
        env = {**self.env, "MICROPYPATH": os.pathsep.join([str(DEVICE), ".frozen"])}
        mp = micropython_command() or "micropython"
        return self.scenario(old, lambda t: (
            [mp, "-m", "upip", "install", "-p", str(t), "-i", self.server.json_url,
             "--no-mip-index", *(f"{n}==1.2.0" for n in chosen)], env), runs,
            lambda t: subprocess.run([mp, "-m", "upip", "uninstall", "-p", str(t),
                                      "micropython-not-installed"], env=env,
                                     capture_output=True))

    def host_recover(self, target: Path) -> None:
        with Image.locked(target):
            pass

    def pairs(self, runs: int, device: bool = False) -> Counter[str]:
        outcomes: Counter[str] = Counter()
        first, second = self.names[:3], self.names[20:23]
        env = self.env
        if device:
            env = {**self.env, "MICROPYPATH": os.pathsep.join([str(DEVICE), ".frozen"])}
        for n in range(runs):
            target = self.work / f"pair{n}"

            def command(names: list[str], target: Path = target) -> list[str]:
                if device:
                    return [micropython_command() or "micropython", "-m", "upip", "install",
                            "-p", str(target), "-i", self.server.json_url, "--no-mip-index",
                            *names]
                return self.upip("install", "-q", "-p", str(target), "-i",
                                 self.server.json_url, *names)
            procs = [subprocess.Popen(command(names), stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, env=env)
                     for names in (first, second)]
            results = [(p.wait(), p.stdout.read() if p.stdout else "") for p in procs]
            records = set(Image.open(target).records)
            wanted = {n.lower() for n in first + second}
            if all(code == 0 for code, _ in results) and wanted <= records:
                outcomes["both installed"] += 1
            elif any(code == 1 and "is changing this image" in err for code, err in results):
                outcomes["one refused, naming the other"] += 1
            else:
                outcomes["other"] += 1
            shutil.rmtree(target, ignore_errors=True)
        return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs-host", type=int, default=100)
    parser.add_argument("--runs-uninstall", type=int, default=100)
    parser.add_argument("--runs-device", type=int, default=50)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--only", choices=["host", "device"], default=None,
                        help="run only the host's or only the device's scenarios")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="upip-stress-") as tmp:
        stress = Stress(Path(tmp), args.seed)
        results: dict[str, dict[str, int]] = {}
        seconds: dict[str, float] = {}
        for label, run, count in (
                ("host upgrade, 30 packages", stress.host_upgrade, args.runs_host),
                ("host uninstall, 30 packages", stress.host_uninstall, args.runs_uninstall),
                ("device upgrade, 5 packages", stress.device_upgrade, args.runs_device)):
            if args.only and not label.startswith(args.only):
                continue
            outcome = run(count)
            outcome.pop("(seconds a run)", None)
            results[label] = dict(outcome)
            seconds[label] = stress.last_duration
        if args.only != "device":
            results["concurrent host installs (pairs)"] = dict(stress.pairs(args.pairs))
        if args.only != "host":
            results["concurrent device installs (pairs)"] = dict(
                stress.pairs(args.pairs, device=True))
        stress.server.stop()
    if args.json:
        print(json.dumps({"outcomes": results, "seconds_a_run": seconds}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="kill -9 at a random moment, then the next writer recovers")
    for col in ("scenario", "runs", "before", "after", "other", "seconds a run"):
        table.add_column(col, justify="left" if col == "scenario" else "right")
    for label, outcome in results.items():
        if label.startswith("concurrent"):
            continue
        table.add_row(label, str(sum(outcome.values())), str(outcome.get("before", 0)),
                      str(outcome.get("after", 0)), str(outcome.get("other", 0)),
                      f"{seconds[label]:.2f}")
    console = Console(width=max(Console().width, 100))
    console.print(table)
    for label, pairs in results.items():
        if label.startswith("concurrent"):
            console.print(f"{label.replace(' (pairs)', '')}, {sum(pairs.values())} pairs: " +
                          ", ".join(f"{k}: {v}" for k, v in sorted(pairs.items())),
                          highlight=False)


if __name__ == "__main__":
    main()
