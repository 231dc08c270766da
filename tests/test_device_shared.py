"""One image for host and device: an image the host made updated on the device
and the other way round, and a bootstrapped client listed on both sides.

Every test runs the client the way a user does, as a ``micropython`` process
against a real HTTP(S) index on 127.0.0.1, then looks at the image directory and
imports what was installed on the same MicroPython. The client is run from its
sources (``py``) and, where the form matters, as the ``.mpy`` image ``upip
bootstrap`` makes (``mpy``). Helpers: tests/support/device_cases.py.
"""

from __future__ import annotations

from pathlib import Path

import upip.image as host_image
from tests.conftest import Upip, snapshot
from tests.support.builders import (
    upip_sdist,
)
from tests.support.catalog import base_module, catalog
from tests.support.device import (
    Device,
    bootstrap_image,
    lines,
)
from tests.support.device_cases import (
    MakeIndex,
    done,
    host_list,
    install,
    listed,
)
from tests.support.index import Dist
from tests.support.server import IndexServer
from upip import __version__ as upip_version

# -- one image for host and device ------------------------------------------------------


def plugin_index(make_index: MakeIndex) -> IndexServer:
    """The catalog plus a plugin that needs fx-base and ships the same fxbase.py as
    fx-base 1.1 (a file two packages own)."""
    plugin = Dist("micropython-fx-plugin", "1.0", "micropython-fx-plugin-1.0.tar.gz",
                  upip_sdist("micropython-fx-plugin", "1.0",
                             {"fxplugin.py": "import fxbase\nNAME = 'plugin'\n",
                              "fxbase.py": base_module("1.1")},
                             requires=["micropython-fx-base"]))
    return make_index([*catalog(), plugin])



def test_host_image_updated_on_the_device(upip: Upip, any_device: Device,
                                          make_index: MakeIndex, tmp_path: Path) -> None:
    server = plugin_index(make_index)
    lib = tmp_path / "lib"
    code, _, err = upip("install", "-p", str(lib), "-i", server.json_url, "micropython-fx-app")
    assert code == 0, err
    assert listed(any_device, lib) == ["micropython-fx-app 1.0", "micropython-fx-base 1.1"]
    # the plugin's dependency is already there (the host resolved it to 1.1), and its
    # fxbase.py is the same as fx-base's: no conflict, nothing downloaded for fx-base
    out = done(install(any_device, lib, server, "micropython-fx-plugin"))
    assert out == ["Installing micropython-fx-plugin 1.0", "Done"]
    assert host_list(upip, lib) == [("micropython-fx-app", "1.0", True),
                                    ("micropython-fx-base", "1.1", False),
                                    ("micropython-fx-plugin", "1.0", True)]
    # the device removes fx-app and the plugin; fx-base (and the file both owned) stay
    assert any_device.upip("uninstall", "-p", str(lib), "fx-plugin").returncode == 0
    assert (lib / "fxbase.py").read_text() == base_module("1.1")
    assert any_device.upip("uninstall", "-p", str(lib), "micropython-fx-app").returncode == 0
    assert host_list(upip, lib) == [("micropython-fx-base", "1.1", False)]
    assert sorted(snapshot(lib)) == [".upip-records", "fxbase.py"]
    run = any_device.run("import fxbase; print(fxbase.VERSION)", path=[lib])
    assert run.stdout == "1.1\n"


def test_device_image_updated_on_the_host(upip: Upip, device: Device, make_index: MakeIndex,
                                          tmp_path: Path) -> None:
    import json

    server = plugin_index(make_index)
    lib = tmp_path / "lib"
    done(install(device, lib, server, "micropython-fx-base==1.1", "micropython-fx-plugin",
                 "micropython-fx-app"))
    records = host_image.parse_records((lib / ".upip-records").read_text(), "records")
    assert sorted(records) == ["micropython-fx-app", "micropython-fx-base",
                               "micropython-fx-plugin"]
    assert records["micropython-fx-app"].requires == ["micropython-fx-base>=1.1,<2"]
    assert {f.path for f in records["micropython-fx-app"].files} == {
        "fxapp/__init__.py", "fxapp/data/banner.txt"}
    assert host_list(upip, lib) == [("micropython-fx-app", "1.0", True),
                                    ("micropython-fx-base", "1.1", True),
                                    ("micropython-fx-plugin", "1.0", True)]
    code, out, err = upip("show", "-p", str(lib), "--json", "fx-base")
    assert code == 0, err
    (shown,) = json.loads(out)
    assert shown["name"] == "micropython-fx-base" and shown["version"] == "1.1"
    assert shown["required_by"] == ["micropython-fx-app", "micropython-fx-plugin"]
    assert shown["source"] == f"{server.url}/files/micropython-fx-base-1.1.tar.gz"
    # the host uninstalls the plugin: fxbase.py, also fx-base's, stays
    code, out, err = upip("uninstall", "-p", str(lib), "micropython-fx-plugin")
    assert code == 0, err
    assert (lib / "fxbase.py").read_text() == base_module("1.1")
    assert not (lib / "fxplugin.py").exists()
    assert listed(device, lib) == ["micropython-fx-app 1.0", "micropython-fx-base 1.1"]
    # a host upgrade of fx-base (an explicit pin wins over fx-app's range): the device
    # sees it, and the app runs on it
    code, _, err = upip("install", "-p", str(lib), "-i", server.json_url,
                        "micropython-fx-base==2.0")
    assert code == 0, err
    assert listed(device, lib) == ["micropython-fx-app 1.0", "micropython-fx-base 2.0"]
    run = device.run("import fxapp; print(fxapp.run())", path=[lib])
    assert run.stdout == "app 1.0 on base 2.0: 42\n"


def test_bootstrapped_image_lists_the_client_on_both_sides(upip: Upip, micropython: object,
                                                           index: IndexServer,
                                                           tmp_path: Path) -> None:
    lib = bootstrap_image(tmp_path / "board" / "lib")
    board = Device("mpy", lib)  # the client runs from the image it manages
    done(board.upip("install", "-i", index.json_url, "micropython-fxalias", cwd=tmp_path))
    assert (lib / "fxalias.py").is_file()  # the default path is the image itself
    assert listed(board, lib) == [f"upip {upip_version}", "micropython-fxalias 0.1"]
    assert [n for n, _, _ in host_list(upip, lib)] == ["micropython-fxalias", "upip"]
    assert lines(board.upip("uninstall", "fxalias", cwd=tmp_path)) == [
        "Removing micropython-fxalias 0.1"]
    assert [n for n, _, _ in host_list(upip, lib)] == ["upip"]
    assert (lib / "upip" / "__init__.mpy").is_file()
