"""Packages straight onto a board: upip --device vs mpremote mip vs mpremote cp -r.

    python benchmarks/bench_board.py [--index-dir DIR] [--packages NAME...] [--repeat N]

The board is the real MicroPython unix port behind a pseudo-terminal
(tests/support/ptyboard.py), reached as a USB board is: through a symlink
that is not under /dev/pts/, so mpremote waits 10 ms whenever no reply byte is
there yet, as it does with a board over USB (on a /dev/pts/ path it never
waits, which would hide what round trips cost).

The same packages, from the same mip index served on 127.0.0.1 by the tests'
IndexServer, each tool as a user types it, onto a fresh board, then again as
a no-op rerun:

* ``upip install -d PORT --mip-index URL mip:NAME...`` (compiles .mpy for the
  board's version, as mip takes the index's .mpy form); its download cache
  starts empty;
* ``mpremote connect PORT mip install --index URL NAME...``;
* ``mpremote connect PORT cp -r lib :PARENT`` of an image upip made on the PC
  (``upip install -p lib --mpy``, not timed), which copies every file, and
  on a rerun hashes each on the board to skip it.

The index: micropython-lib's, built by its tools/build.py, when ``--index-dir``
(default ``benchmarks/_work/mip-index``, as bench_mip_lib.py leaves it)
holds one; else a small one of the same layout written here. For each run:
the wall time (median of ``--repeat``), the execs the board ran (round
trips), its soft resets, and the bytes the PC sent.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.mipindex import MipPackage, write_mip_index
from tests.support.ptyboard import PtyBoard
from tests.support.server import IndexServer

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
# Ten packages people install on boards (aioble pulls in its parts)
PACKAGES = ["aioble", "logging", "datetime", "base64", "functools", "itertools", "contextlib",
            "copy", "pathlib", "hmac"]


def synthetic_index(root: Path) -> list[str]:
    """Ten packages of micropython-lib's shape (a module or a package of a few
    files, a few KB, some with dependencies), with their .mpy form."""
    def module(name: str, size: int) -> bytes:
        body = "".join(f"def f{i}(x):\n    return x * {i} + len('{name}')\n\n"
                       for i in range(size // 40))
        return f'"""{name}"""\n\n{body}'.encode()

    pkgs = [MipPackage("ble-core", "0.1", {f"ble/core{i}.py": module(f"core{i}", 3000)
                                           for i in range(4)}, mpy=True),
            MipPackage("ble", "0.4", {"ble/__init__.py": module("ble", 1500),
                                      "ble/central.py": module("central", 4000),
                                      "ble/server.py": module("server", 4000)},
                       deps=[["ble-core", "latest"]], mpy=True)]
    pkgs += [MipPackage(f"lib{i}", "1.0", {f"lib{i}.py": module(f"lib{i}", 2000 + 500 * i)},
                        mpy=True) for i in range(8)]
    write_mip_index(root, pkgs)
    return ["ble"] + [f"lib{i}" for i in range(8)]


def run(argv: list[str], env: dict[str, str]) -> float:
    start = time.monotonic()
    result = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    took = time.monotonic() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}")
    return took


class Row:
    def __init__(self, tool: str) -> None:
        self.tool = tool
        self.times: dict[str, list[float]] = {"fresh": [], "rerun": []}
        self.execs: dict[str, int] = {}
        self.resets: dict[str, int] = {}
        self.sent: dict[str, int] = {}


def measure(tool: str, names: list[str], url: str, work: Path, repeat: int) -> Row:
    row = Row(tool)
    for n in range(repeat):
        home = work / f"{tool}-{n}"
        env = dict(os.environ, HOME=str(work / f"pc-{tool}-{n}"),
                   XDG_CACHE_HOME=str(work / f"pc-{tool}-{n}" / ".cache"), UPIP_MIP_INDEX="none")
        board = PtyBoard(home, realistic=True).start()
        try:
            if tool == "upip --device":
                argv = [str(BIN / "upip"), "install", "-q", "-d", board.port, "--mip-index", url,
                        *[f"mip:{name}" for name in names]]
            elif tool == "mpremote mip":
                argv = [str(BIN / "mpremote"), "connect", board.port, "mip", "install",
                        "--index", url, *names]
            else:  # mpremote cp -r of an upip image
                image = work / f"image-{n}" / "lib"
                run([str(BIN / "upip"), "install", "-q", "-p", str(image), "--mpy",
                     "--mip-index", url, *[f"mip:{name}" for name in names]], env)
                argv = [str(BIN / "mpremote"), "connect", board.port, "cp", "-r", str(image),
                        f":{board.lib.parent}/"]
            for phase in ("fresh", "rerun"):
                board.clear_log()
                sent = board.sent
                row.times[phase].append(run(argv, env))
                execs = board.execs()
                row.execs[phase] = sum(1 for e in execs if e >= 0)
                row.resets[phase] = execs.count(-1)
                row.sent[phase] = board.sent - sent
        finally:
            board.stop()
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-dir", type=Path, default=HERE / "_work" / "mip-index")
    parser.add_argument("--packages", nargs="*", default=None)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-board-"))
    try:
        if (args.index_dir / "index.json").exists():
            root, names, which = args.index_dir, args.packages or PACKAGES, "micropython-lib's"
        else:
            root = work / "index"
            names = synthetic_index(root)
            which = "a synthetic"
        server = IndexServer(root).start()
        try:
            rows = [measure(tool, names, server.url, work, args.repeat)
                    for tool in ("upip --device", "mpremote mip", "mpremote cp -r")]
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(names)} packages ({' '.join(names)}) from {which} mip index on 127.0.0.1, "
          f"onto the unix port behind a pty (as over USB), median of {args.repeat}\n")
    print(f"{'tool':<16} {'fresh s':>8} {'execs':>6} {'resets':>6} {'sent B':>8}   "
          f"{'rerun s':>8} {'execs':>6} {'resets':>6} {'sent B':>8}")
    for row in rows:
        cells = []
        for phase in ("fresh", "rerun"):
            cells.append(f"{statistics.median(row.times[phase]):>8.2f} {row.execs[phase]:>6} "
                         f"{row.resets[phase]:>6} {row.sent[phase]:>8}")
        print(f"{row.tool:<16} {cells[0]}   {cells[1]}")
    upip, mip = rows[0], rows[1]
    ratio = statistics.median(upip.times["fresh"]) / statistics.median(mip.times["fresh"])
    print(f"\nupip / mpremote mip, fresh: {ratio:.2f}x (target <= 0.5x); upip's no-op rerun: "
          f"{upip.execs['rerun']} exec(s) (target 1)")


if __name__ == "__main__":
    main()
