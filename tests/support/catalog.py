"""The fixture packages most tests install: small, real MicroPython code."""

from __future__ import annotations

import tarfile

from .builders import (
    special_info,
    standard_sdist,
    upip_sdist,
    wheel,
    wheel_filename,
)
from .index import Dist


def base_module(version: str) -> str:
    return f'VERSION = "{version}"\n\ndef add(a, b):\n    return a + b\n'


def fx_base(version: str, yanked: bool = False) -> Dist:
    name = "micropython-fx-base"
    return Dist(name, version, f"{name}-{version}.tar.gz",
                upip_sdist(name, version, {"fxbase.py": base_module(version)}), yanked=yanked)


APP_INIT = """\
import fxbase

def run():
    return "app %s on base %s: %d" % (VERSION, fxbase.VERSION, fxbase.add(40, 2))

VERSION = "1.0"
"""

STD_CODE = """\
from fxwheel import greet

def hello(name):
    return greet(name) + "!"
"""


def catalog() -> list[Dist]:
    """Projects with versions, dependencies, yanked and pre-releases."""
    dists = [fx_base("1.0"), fx_base("1.1"), fx_base("1.2", yanked=True), fx_base("2.0"),
             fx_base("2.1b1")]
    app = "micropython-fx-app"
    dists.append(Dist(app, "1.0", f"{app}-1.0.tar.gz", upip_sdist(
        app, "1.0", {"fxapp/__init__.py": APP_INIT, "fxapp/data/banner.txt": "hello\n"},
        requires=["micropython-fx-base>=1.1,<2"])))
    # A wheel and an sdist of the same release: the wheel must win.
    wname = "fx-wheel"
    dists.append(Dist(wname, "1.0", wheel_filename(wname, "1.0"), wheel(
        wname, "1.0", {"fxwheel.py": 'SOURCE = "wheel"\n\ndef greet(n):\n    return "hi " + n\n'})))
    dists.append(Dist(wname, "1.0", f"{wname}-1.0.tar.gz", standard_sdist(
        wname, "1.0", {"fxwheel.py": 'SOURCE = "sdist"\n\ndef greet(n):\n    return "yo " + n\n'})))
    # A standard sdist in src layout, with tests and docs that must stay out.
    std = "fx-std"
    dists.append(Dist(std, "0.3", f"{std}-0.3.tar.gz", standard_sdist(std, "0.3", {
        "src/fxstd/__init__.py": STD_CODE,
        "src/fxstd/templates/page.html": "<p>hi</p>\n",
        "tests/test_fxstd.py": "def test(): pass\n",
        "docs/conf.py": "project = 'x'\n",
    }, requires=["fx-wheel>=1.0", 'fx-never; implementation_name == "cpython"'])))
    # Like micropython-umqtt.robust 1.0: an in-package symlink to a sibling project.
    links = "micropython-fx-links"
    top = f"{links}-1.0"
    dists.append(Dist(links, "1.0", f"{links}-1.0.tar.gz", upip_sdist(
        links, "1.0", {"fxlinks/robust.py": "from fxlinks import simple\n"},
        extra=[special_info(f"{top}/fxlinks/simple.py", tarfile.SYMTYPE,
                            "../../fx-simple/fxlinks/simple.py")])))
    # Only reachable by its micropython- name.
    alias = "micropython-fxalias"
    dists.append(Dist(alias, "0.1", f"{alias}-0.1.tar.gz",
                      upip_sdist(alias, "0.1", {"fxalias.py": "OK = True\n"})))
    # Wants a base that the app cannot share.
    old = "micropython-fx-old"
    dists.append(Dist(old, "1.0", f"{old}-1.0.tar.gz", upip_sdist(
        old, "1.0", {"fxold.py": "import fxbase\n"}, requires=["micropython-fx-base<1.1"])))
    # Ships fxbase.py too, with other content.
    clash = "micropython-fx-clash"
    dists.append(Dist(clash, "1.0", f"{clash}-1.0.tar.gz", upip_sdist(
        clash, "1.0", {"fxbase.py": "VERSION = 'clash'\n"})))
    return dists


def upip_dist(name: str, version: str, files: dict[str, bytes],
              requires: tuple[str, ...] = ()) -> Dist:
    """An upip-format sdist of ``files``, ready for an index."""
    return Dist(name, version, f"{name}-{version}.tar.gz",
                upip_sdist(name, version, files, requires))
