"""``upip check``: every import of an image, against the target's firmware."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Upip
from tests.support.mipindex import MipPackage, write_mip_index
from tests.support.server import IndexServer


def image(tmp_path: Path, files: dict[str, str]) -> Path:
    lib = tmp_path / "lib"
    for path, text in files.items():
        (lib / path).parent.mkdir(parents=True, exist_ok=True)
        (lib / path).write_text(text)
    return lib


APP = {
    "app/__init__.py": "from .net import connect\nimport fxlog\n",
    "app/net.py": "import network\ntry:\n    import ujson as json\nexcept ImportError:\n"
                  "    import json\n\ndef connect():\n    from umqtt.simple import MQTTClient\n"
                  "    return MQTTClient\n",
}


def test_missing_imports_are_named_with_a_suggestion(upip: Upip, tmp_path: Path) -> None:
    mip_root = tmp_path / "mip"
    write_mip_index(mip_root, [MipPackage("umqtt.simple", "1.3.4", {"umqtt/simple.py": b""})])
    server = IndexServer(mip_root).start()
    lib = image(tmp_path, APP)
    code, out, err = upip("check", "-p", str(lib), "--target", "unix-1.29",
                          "--mip-index", server.url)
    server.stop()
    assert code == 1, err
    assert out.splitlines() == [
        "app/__init__.py:2: imports fxlog, which neither the image nor the firmware "
        "(unix-1.29) has",
        "app/net.py:1: imports network, which neither the image nor the firmware "
        "(unix-1.29) has",
        "app/net.py:8: imports umqtt.simple, which neither the image nor the firmware "
        "(unix-1.29) has; upip install umqtt.simple",
        "Checked 2 files of " + str(lib) + " against unix-1.29: 3 missing import(s), 0 file(s) "
        "that do not parse"]


def test_the_target_decides_what_the_firmware_has(upip: Upip, tmp_path: Path) -> None:
    lib = image(tmp_path, {"net.py": "import network, machine\nimport esp32\n"})
    assert upip("check", "-p", str(lib), "--target", "esp32-1.24")[0] == 0
    code, out, _ = upip("check", "-p", str(lib), "--target", "rp2-1.24", "--json")
    assert code == 1
    report = json.loads(out)
    assert report["target"] == "rp2-1.24" and not report["ok"]
    assert [m["module"] for m in report["missing"]] == ["network", "esp32"]


def test_a_sound_image(upip: Upip, tmp_path: Path) -> None:
    lib = image(tmp_path, {"a.py": "import b, os, asyncio\n", "b.py": "from a import x\n"})
    code, out, _ = upip("check", "-p", str(lib))
    assert code == 0
    assert out.strip() == f"Checked 2 files of {lib} against generic: every import resolves"


def test_an_unreachable_index_only_costs_the_suggestions(upip: Upip, tmp_path: Path) -> None:
    lib = image(tmp_path, {"a.py": "import nosuchthing\n"})
    code, out, err = upip("check", "-p", str(lib), "--mip-index", "http://127.0.0.1:9/pi")
    assert code == 1
    assert "a.py:1: imports nosuchthing, which neither" in out
    assert "note: no install suggestions: cannot reach http://127.0.0.1:9/pi/index.json" in err


def test_no_such_image(upip: Upip, tmp_path: Path) -> None:
    code, _, err = upip("check", "-p", str(tmp_path / "nope"))
    assert code == 1
    assert err.strip() == f"error: {tmp_path / 'nope'} is not a directory; give the image with -p DIR"
