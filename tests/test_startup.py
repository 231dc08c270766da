"""What an install loads: a run that needs no network never imports urllib3,
and only a run with a lock imports packaging.pylock (each some 10-45 ms of
every run that does)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.builders import upip_sdist, write

PROBE = """
import sys
from upip.cli import main
code = main(sys.argv[1:])
print(code, " ".join(m for m in ("urllib3", "packaging.pylock") if m in sys.modules))
"""


def loaded(*argv: str) -> tuple[str, set[str]]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True,
                          text=True, check=True)
    code, _, modules = proc.stdout.strip().splitlines()[-1].partition(" ")
    return code, set(modules.split())


def test_an_install_from_a_folder_loads_neither_urllib3_nor_pylock(tmp_path: Path) -> None:
    dists = tmp_path / "dists"
    dists.mkdir()
    write(dists / "micropython-fxone-1.0.tar.gz",
          upip_sdist("micropython-fxone", "1.0", {"fxone.py": "X = 1\n"}))
    lib = tmp_path / "lib"
    code, modules = loaded("install", "-q", "-p", str(lib), "-i", str(dists),
                           "--no-mip-index", "fxone")
    assert code == "0" and (lib / "fxone.py").is_file()
    assert modules == set()
    code, modules = loaded("lock", "-q", "-o", str(tmp_path / "pylock.toml"), "-i",
                           str(dists), "--no-mip-index", "fxone")
    assert code == "0" and modules == {"packaging.pylock"}
    code, modules = loaded("install", "-q", "-p", str(tmp_path / "again"),
                           "--lock", str(tmp_path / "pylock.toml"))
    assert code == "0" and modules == {"packaging.pylock"}
