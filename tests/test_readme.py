"""The README's commands, in order, as a newcomer runs them on a fresh machine
(opt-in: they install from live PyPI and micropython-lib's index)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.network

README = Path(__file__).resolve().parents[1] / "README.md"
SECTIONS = ("## Try it", "## Today's packages", "## Reproducible images",
            "## Bytecode, freezing and ROMFS")


def commands() -> list[str]:
    """The shell lines of the README's sections a newcomer runs in order, less
    the setup (a venv exists here) and what needs more than a fresh machine."""
    text = README.read_text()
    lines: list[str] = []
    for heading in SECTIONS:
        section = text.split(heading, 1)[1].split("\n## ", 1)[0]
        blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
        assert blocks, heading
        for block in blocks:
            for line in block.splitlines():
                lines += [c.strip() for c in line.split("  #")[0].split("&&")]
    setup = ("python3 -m venv", ".venv/bin/pip", "make ", "upip freeze")
    return [c for c in lines if c and not c.startswith(setup)]


def test_the_readme_commands_work_in_order(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "HOME": str(tmp_path / "home")}
    env.pop("UPIP_MIP_INDEX", None)  # the real micropython-lib index, as a user has it
    for command in commands():
        command = command.replace(".venv/bin/", "")
        assignments = dict(w.split("=", 1) for w in shlex.split(command)
                           if re.match(r"^[A-Z_]+=", w))
        argv = [w for w in shlex.split(command) if not re.match(r"^[A-Z_]+=", w)]
        result = subprocess.run(argv, cwd=tmp_path, env={**env, **assignments},
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    assert (tmp_path / "app.romfs").is_file()
