"""The command line as a user meets it: help, entry points, output forms,
progress on a terminal, quiet in pipes."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Upip, run_cli
from tests.support.server import IndexServer


def test_help_explains_every_command() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("install", "uninstall", "list", "show"):
        assert command in result.stdout
    install = run_cli("install", "--help")
    assert install.returncode == 0
    for option in ("--index-url", "--extra-index-url", "--find-links", "--no-deps", "--upgrade",
                   "--dry-run", "--requirement", "--no-cache", "--cache-dir", "--json",
                   "name@1.2", "~/.micropython/lib"):
        assert option in install.stdout, option


def test_console_script_and_module_agree(tmp_path: Path) -> None:
    exe = Path(sys.executable).parent / "upip"
    a = subprocess.run([str(exe), "--version"], capture_output=True, text=True)
    b = run_cli("--version")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout and a.stdout.startswith("upip ")


def test_no_command_prints_help_and_fails() -> None:
    result = run_cli()
    assert result.returncode == 2 and "usage: upip" in result.stdout


def test_bad_option_is_a_usage_error(upip: Upip) -> None:
    code, _, err = upip("install", "--no-such-option", "x")
    assert code == 2 and "unrecognized arguments: --no-such-option" in err


@pytest.mark.parametrize(("args", "expected"), [
    (["--timeout", "-1"], "argument --timeout: '-1': give a number of seconds above 0"),
    (["--timeout", "inf"], "argument --timeout: 'inf': give a number of seconds above 0"),
    (["--timeout", "soon"], "argument --timeout: 'soon' is not a number of seconds"),
    (["--retries", "-2"], "argument --retries: '-2': give 0 or more"),
    (["-j", "0"], "argument -j/--jobs: '0': give 1 or more"),
])
def test_bad_numbers_are_usage_errors(upip: Upip, tmp_path: Path, args: list[str],
                                      expected: str) -> None:
    """Was: --timeout -1 ended in urllib3's traceback; -j 0 was taken."""
    code, _, err = upip("install", "-p", str(tmp_path / "lib"), *args, "fx")
    assert code == 2 and err.strip().endswith(expected)
    assert not (tmp_path / "lib").exists()


def test_plain_list_in_a_pipe(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app")[0] == 0
    code, out, _ = upip("list", "-p", str(lib))
    assert code == 0
    assert out.splitlines() == ["Package              Version  Source",
                                f"micropython-fx-app   1.0      pypi {index.url}",
                                f"micropython-fx-base  1.1      pypi {index.url}"]


def test_list_of_an_empty_or_missing_image(upip: Upip, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, out, _ = upip("list", "-p", str(tmp_path / "empty"), "--json")
    assert code == 0 and out.strip() == "[]"
    for command in (["list"], ["show", "x"], ["manifest", "-o", "-"], ["check"]):
        code, out, err = upip(*command, "-p", str(tmp_path / "nothing"))
        assert code == 1, command
        assert err.strip().startswith(f"error: {tmp_path / 'nothing'}"), command
    assert not (tmp_path / "nothing").exists()


def test_uninstall_and_show_unknown_names(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "-i", index.json_url, "fxalias")[0] == 0
    code, _, err = upip("show", "-p", str(lib), "nope")
    assert code == 1 and err == f"error: 'nope' is not installed in {lib}; see `upip list -p {lib}`\n"
    code, _, err = upip("uninstall", "-p", str(lib), "nope")
    assert code == 1 and "'nope' is not installed" in err
    # The short name finds the micropython- package, as install did.
    code, out, err = upip("uninstall", "-p", str(lib), "fxalias")
    assert code == 0, err
    assert out.startswith("Removed micropython-fxalias 0.1")
    assert not (lib / "fxalias.py").exists()


def test_uninstall_warns_about_dependents(upip: Upip, index: IndexServer, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "-i", index.json_url, "micropython-fx-app")[0] == 0
    code, _, err = upip("uninstall", "-p", str(lib), "micropython-fx-base")
    assert code == 0
    assert "warning: micropython-fx-app 1.0 requires micropython-fx-base>=1.1,<2" in err


def test_progress_bars_on_a_terminal_and_not_in_a_pipe(index: IndexServer, tmp_path: Path) -> None:
    big = tmp_path / "lib"
    main, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "upip", "install", "-p", str(big), "-i",
                             index.json_url, "micropython-fx-app"],
                            stdout=subprocess.PIPE, stderr=secondary,
                            env={**os.environ, "COLUMNS": "100", "TERM": "xterm"})
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(60)
    os.close(main)
    terminal = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "micropython-fx-app-1.0.tar.gz" in terminal  # the bar's label, drawn on the tty
    piped = run_cli("install", "-p", str(tmp_path / "other"), "-i", index.json_url,
                    "micropython-fx-app")
    assert piped.returncode == 0 and piped.stderr == ""


def test_quiet_prints_nothing_on_success(index: IndexServer, tmp_path: Path) -> None:
    result = run_cli("install", "-q", "-p", str(tmp_path / "lib"), "-i", index.json_url,
                     "micropython-fx-app")
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""


def test_a_closed_pipe_ends_quietly(index: IndexServer, tmp_path: Path) -> None:
    """`upip list | head -1`: the reader is gone; no traceback, SIGPIPE's status."""
    lib = tmp_path / "lib"
    assert run_cli("install", "-q", "-p", str(lib), "-i", index.json_url,
                   "micropython-fx-app").returncode == 0
    read, write = os.pipe()
    os.close(read)  # every write to the pipe now fails with EPIPE
    proc = subprocess.run([sys.executable, "-m", "upip", "list", "-p", str(lib)], stdout=write,
                          stderr=subprocess.PIPE, text=True, timeout=60)
    os.close(write)
    assert proc.returncode == 141 and proc.stderr == ""


def test_requirements_that_all_exclude_micropython(upip: Upip, tmp_path: Path) -> None:
    reqs = tmp_path / "requirements.txt"
    reqs.write_text("cpython-only; implementation_name == 'cpython'\n")
    code, out, err = upip("install", "-p", str(tmp_path / "lib"), "-r", str(reqs))
    assert code == 0, err
    assert out.strip() == "Nothing to install: the marker of every requirement excludes MicroPython"
    assert not (tmp_path / "lib").exists()
