"""Fixture projects for the build tests, written as a package author lays them out.

The app is the one in MicroPython's packaging docs: a package with
``data/page.html`` and a binary ``data/image.png``, read back with
``pkg_resources``. Two flavours: a pyproject.toml project (``upip sdist``)
and a setup.py project using ``sdist_upip`` with a MANIFEST.in.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

PAGE = b"<!doctype html>\n<title>webapp</title>\n<h1>It works</h1>\n" * 20
#: every byte value, then a pattern: a "binary" file with NULs, quotes and backslashes
IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + b"'\"\\\x00" * 64 + bytes(range(255, -1, -1))

APP = '''\
import pkg_resources


def page():
    return pkg_resources.resource_stream(__name__, "data/page.html").read()


def image():
    return pkg_resources.resource_string(__name__, "data/image.png")
'''

#: what the app prints on micropython: the sha256 of each resource
CHECK = """\
import hashlib, binascii, webapp
for data in (webapp.page(), webapp.image()):
    print(len(data), binascii.hexlify(hashlib.sha256(data).digest()).decode())
"""


def expected_check_output() -> str:
    return "".join(f"{len(d)} {hashlib.sha256(d).hexdigest()}\n" for d in (PAGE, IMAGE))


def write(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        path.write_bytes(data)
    return root


def pyproject_project(root: Path, name: str = "micropython-webapp", version: str = "1.0",
                      deps: tuple[str, ...] = ("micropython-pkg_resources",),
                      src: bool = False, tool: str = "") -> Path:
    deps_toml = ", ".join(f'"{d}"' for d in deps)
    base = "src/" if src else ""
    return write(root, {
        "pyproject.toml": f'[project]\nname = "{name}"\nversion = "{version}"\n'
                          f'description = "Serves a page"\nlicense = "MIT"\n'
                          f"dependencies = [{deps_toml}]\n{tool}",
        f"{base}webapp/__init__.py": APP,
        f"{base}webapp/data/page.html": PAGE,
        f"{base}webapp/data/image.png": IMAGE,
        "README.md": "# webapp\n",
        "LICENSE": "MIT\n",
        "tests/test_webapp.py": "def test(): pass\n",
    })


SETUP_PY = '''\
import sdist_upip
from setuptools import setup

setup(
    name="{name}",
    version="{version}",
    description="Serves a page",
    packages=["webapp"],
    install_requires={deps!r},
    cmdclass={{"sdist": sdist_upip.sdist}},
)
'''


def setup_py_project(root: Path, name: str = "micropython-webapp", version: str = "1.0",
                     deps: tuple[str, ...] = ("micropython-pkg_resources",),
                     manifest: str = "recursive-include webapp/data *\n") -> Path:
    return write(root, {
        "setup.py": SETUP_PY.format(name=name, version=version, deps=list(deps)),
        "MANIFEST.in": manifest,
        "webapp/__init__.py": APP,
        "webapp/data/page.html": PAGE,
        "webapp/data/image.png": IMAGE,
        "README.md": "# webapp\n",
    })
