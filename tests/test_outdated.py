"""upip outdated, and install -U within the specs the image was asked for."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Upip
from tests.support.catalog import catalog
from tests.support.server import IndexServer
from upip.image import Image


def test_outdated_and_upgrade_within_what_was_asked(upip: Upip,
                                                    make_index: Callable[..., IndexServer],
                                                    tmp_path: Path) -> None:
    old = make_index([d for d in catalog() if d.name == "micropython-fx-base"
                      and d.version == "1.0"])
    new = make_index()  # 1.0, 1.1, 1.2 (yanked), 2.0 and 2.1b1
    lib = tmp_path / "lib"
    assert upip("install", "-p", str(lib), "-i", old.json_url, "micropython-fx-base<2")[0] == 0
    assert Image.open(lib).records["micropython-fx-base"].wanted == ["micropython-fx-base<2"]
    code, out, err = upip("outdated", "-p", str(lib), "-i", new.json_url, "--json")
    assert code == 0, err
    assert json.loads(out) == [{"name": "micropython-fx-base", "installed": "1.0",
                                "latest": "2.0", "wanted": "1.1",
                                "source": f"{old.url}/files/micropython-fx-base-1.0.tar.gz"}]
    code, out, _ = upip("outdated", "-p", str(lib), "-i", new.json_url)
    assert out.splitlines()[1].split()[:4] == ["micropython-fx-base", "1.0", "2.0", "1.1"]
    # install -U with no SPEC: what the image was asked for, within it
    code, out, err = upip("install", "-p", str(lib), "-i", new.json_url, "-U")
    assert code == 0, err
    rec = Image.open(lib).records["micropython-fx-base"]
    assert (rec.version, rec.wanted) == ("1.1", ["micropython-fx-base<2"])


def test_outdated_of_a_missing_image(upip: Upip, tmp_path: Path) -> None:
    code, _, err = upip("outdated", "-p", str(tmp_path / "nope"))
    assert code == 1 and "no such image folder" in err
