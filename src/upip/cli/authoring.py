"""sdist, bin2res and publish: making and uploading packages."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .common import common_options

if TYPE_CHECKING:
    from ..console import ConsoleReporter
    from .common import Subparsers


SDIST_EPILOG = """\
What goes in, unless [tool.upip] in pyproject.toml says otherwise:
  packages   every top-level folder (under src/ when there is one) holding .py
             files, except tests, docs, examples, build...
  modules    every top-level .py file except setup.py, conftest.py, test_*.py
  resources  every other file inside a package: put into the package's R.py,
             and kept as a file too unless --no-resource-files

[tool.upip] keys: source-dir, packages, modules, exclude (globs),
keep-resource-files. setup.py projects: import sdist_upip and pass
cmdclass={"sdist": sdist_upip.sdist} to setup().
"""


def add_sdist(sub: Subparsers) -> None:
    p = sub.add_parser("sdist", help="build an upip-format sdist from a pyproject.toml project",
                       description="Build PROJECT (default: .) into DIST_DIR/NAME-VERSION.tar.gz: "
                                   "package and module files, an R.py resource module per "
                                   "package, PKG-INFO and requires.txt; gzip with a 4 KiB window "
                                   "so the smallest boards can inflate it. Byte-reproducible "
                                   "(mtime from SOURCE_DATE_EPOCH or 1980-01-01).",
                       epilog=SDIST_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("project", nargs="?", default=".", metavar="PROJECT",
                   help="the project folder holding pyproject.toml (default: .)")
    p.add_argument("-o", "--outdir", default=None, metavar="DIST_DIR",
                   help="where to write the archive (default: PROJECT/dist)")
    p.add_argument("--no-resource-files", action="store_true",
                   help="ship resources only inside R.py, not also as files "
                        "(same as [tool.upip] keep-resource-files = false)")
    p.add_argument("--json", action="store_true", help="describe the archive as JSON")
    common_options(p, target=False)


def run_sdist(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..authoring import project as project_mod
    from ..authoring import sdist

    root = Path(args.project)
    project = project_mod.load(root)
    if args.no_resource_files:
        project.keep_resource_files = False
    built = sdist.build(project, Path(args.outdir) if args.outdir else root / "dist")
    if args.json:
        print(json.dumps(built.as_json(), indent=2))
        return 0
    for warning in built.warnings:
        reporter.warn(warning)
    if args.quiet:
        return 0
    count = sum(len(keys) for keys in built.resources.values())
    print(f"Built {built.path} ({built.size} bytes, sha256 {built.sha256})")
    where = ", ".join(f"{p}/R.py" for p in built.resources)
    print(f"  {len(built.files)} files" + (f"; {count} resources in {where}" if count else
                                           "; no resources"))
    if built.left_out:
        print(f"  left out (not in a package, so not a resource): {', '.join(built.left_out)}")
    return 0


def add_bin2res(sub: Subparsers) -> None:
    p = sub.add_parser("bin2res", help="write an R.py resource module for files",
                       description="Write a resource module R = {'key': b'...'} holding FILEs, "
                                   "for pkg_resources.resource_stream(package, key).")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("-o", "--output", default=None, metavar="R.py",
                   help="write here instead of standard output")
    p.add_argument("--strip", default=None, metavar="PREFIX",
                   help="make keys relative to PREFIX (default: the paths as given)")
    common_options(p, target=False)


def run_bin2res(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..atomic import write_atomic
    from ..authoring.resources import read_resources, render
    from ..errors import ProjectError

    resources = read_resources(args.files, args.strip)
    text = render(resources)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    out = Path(args.output)
    write_atomic(out, text.encode("utf-8"), ProjectError)
    if not args.quiet:
        print(f"Wrote {out}: {len(resources)} resources, {len(text)} bytes")
    return 0


def add_publish(sub: Subparsers) -> None:
    p = sub.add_parser("publish", help="upload sdists to PyPI or another index (twine)",
                       description="Check, then upload distributions with the standard upload "
                                   "API. Credentials: --username/--password, or "
                                   "TWINE_USERNAME/TWINE_PASSWORD, or a PyPI token as password.")
    p.add_argument("dists", nargs="+", metavar="DIST")
    p.add_argument("--repository-url", default=None, metavar="URL",
                   help="upload endpoint (default: https://upload.pypi.org/legacy/)")
    p.add_argument("-u", "--username", default=None)
    p.add_argument("--password", default=None)
    common_options(p, target=False)


def run_publish(args: argparse.Namespace, reporter: ConsoleReporter) -> int:
    from ..authoring.publish import PYPI_UPLOAD, publish

    url = args.repository_url or PYPI_UPLOAD
    done = publish([Path(d) for d in args.dists], url, args.username, args.password,
                   quiet=args.quiet)
    if not args.quiet:
        print(f"Uploaded {', '.join(f'{c.name} {c.version}' for c in done)} to {url}")
    return 0
