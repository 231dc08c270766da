"""Turn a setuptools file list into an upip-format archive (for ``sdist_upip``).

setuptools computes what an sdist holds (packages, ``package_data``,
``MANIFEST.in``). From that list this module

* checks it: a data file inside a package but missing from the list, or a
  data file inside no package, is an error naming the file and the fix;
* writes one ``R.py`` per top-level package with resources;
* chooses the archive members: package and module files (moved out of a
  ``src/`` folder, since installers strip only the top folder), ``R.py``,
  ``PKG-INFO`` and the egg-info's ``PKG-INFO`` and ``requires.txt``.

Paths are ``/``-separated and relative to the folder holding setup.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..errors import ProjectError
from ..fields import Record, field
from .resources import is_generated, is_resource, render

#: Top-level files setuptools puts in every sdist that upip archives leave out.
SKIPPED_QUIETLY = ("setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in", "PKG-INFO")


class Layout(Record):
    """Where a distribution's top-level packages and modules live."""

    #: top-level package → its folder (relative)
    packages: dict[str, str]
    #: top-level module → its file (relative)
    modules: dict[str, str]

    @classmethod
    def from_setup(cls, packages: Iterable[str], modules: Iterable[str],
                   package_dir: Mapping[str, str] | None) -> Layout:
        dirs = dict(package_dir or {})
        base = dirs.get("", "").strip("/")

        def under(*parts: str) -> str:
            return "/".join(p for p in (base, *parts) if p)

        tops = sorted({p.split(".", 1)[0] for p in packages})
        return cls(packages={t: dirs[t].strip("/") if t in dirs else under(t) for t in tops},
                   modules={m: under(*m.split(".")) + ".py" for m in modules})

    def package_of(self, path: str) -> tuple[str, str] | None:
        """(package, path inside it) of a file under a top-level package."""
        for pkg, folder in self.packages.items():
            if path.startswith(folder + "/"):
                return pkg, path[len(folder) + 1:]
        return None


class Plan(Record):
    #: archive path (below the top folder) → source path
    members: dict[str, str] = field(default_factory=dict)
    #: package → {key: source path} of its resources
    resources: dict[str, dict[str, str]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)


def _hidden(name: str) -> bool:
    return name.startswith(".") or name == "__pycache__" or name.endswith((".pyc", ".pyo"))


def plan(files: Iterable[str], layout: Layout, keep_resource_files: bool = True) -> Plan:
    """Sort a setuptools file list into archive members and resources."""
    out = Plan()
    for path in sorted(set(files)):
        top = path.split("/", 1)[0]
        if ".egg-info/" in path or path.endswith(".egg-info"):
            continue
        inside = layout.package_of(path)
        if inside:
            pkg, rest = inside
            if rest == "R.py":
                continue  # (re)written from the resources below
            if is_resource(rest):
                out.resources.setdefault(pkg, {})[rest] = path
                if not keep_resource_files:
                    continue
            out.members[f"{pkg}/{rest}"] = path
        elif path in layout.modules.values():
            out.members[path.rsplit("/", 1)[-1]] = path
        elif "/" not in path:
            if path not in SKIPPED_QUIETLY:
                out.dropped.append(path)
        elif is_resource(path):
            raise ProjectError(path, f"is not inside any package, so it cannot be a resource; "
                                     f"move it into a package folder or drop it from "
                                     f"MANIFEST.in (folder {top!r} is not a package)")
        else:
            out.dropped.append(path)
    return out


def missing(root: Path, files: Iterable[str], layout: Layout) -> list[str]:
    """Data files inside a package folder that the file list does not have."""
    listed = set(files)
    out = []
    for folder in layout.packages.values():
        for here, dirs, names in os.walk(root / folder):
            dirs[:] = sorted(d for d in dirs if not _hidden(d))
            for name in sorted(names):
                rel = (Path(here) / name).relative_to(root).as_posix()
                if (not _hidden(name) and is_resource(name) and rel not in listed):
                    out.append(rel)
    return out


def missing_error(path: str) -> ProjectError:
    folder = path.rsplit("/", 1)[0]
    return ProjectError(path, f"is a data file of a package but not in the sdist; add "
                              f"'recursive-include {folder} *' to MANIFEST.in (or list it in "
                              f"package_data)")


def write_resource_modules(root: Path, layout: Layout, the_plan: Plan) -> list[str]:
    """Write ``R.py`` for each package with resources; remove stale ones we wrote.

    Returns the R.py paths (relative) that now exist. A file is rewritten
    only when its text changes."""
    written = []
    for pkg, folder in sorted(layout.packages.items()):
        target = root / folder / "R.py"
        old = target.read_bytes() if target.is_file() else None
        if old is not None and not is_generated(old):
            raise ProjectError(str(target), "exists and was not written by upip, which "
                                            "generates R.py from the package's data files; "
                                            "rename it")
        res = the_plan.resources.get(pkg)
        if not res:
            if old is not None:
                target.unlink()
            continue
        data = {key: (root / src).read_bytes() for key, src in res.items()}
        text = render(data, f"package {pkg}").encode()
        if text != old:
            target.write_bytes(text)
        written.append(f"{folder}/R.py")
    return written


def clean_pkg_info(text: str) -> str:
    """PKG-INFO without ``License-File`` lines (those files are not shipped)."""
    head, sep, body = text.partition("\n\n")
    lines = [line for line in head.split("\n") if not line.startswith("License-File:")]
    return "\n".join(lines) + sep + body
