"""setuptools ``sdist`` for MicroPython's upip: the historical hook, for today.

In setup.py::

    import sdist_upip
    setup(..., cmdclass={"sdist": sdist_upip.sdist})

``python setup.py sdist`` then writes ``dist/NAME-VERSION.tar.gz`` in upip
format: the files setuptools selects (packages, package_data, MANIFEST.in),
one ``R.py`` resource module per top-level package (written into the source
tree first), PKG-INFO and requires.txt; no setup.py, README or setup.cfg;
gzip with a 4 KiB window; byte-reproducible. ``--manifest-only`` writes the
R.py files and stops (to look at them); ``--no-resource-files`` leaves the
data files out once they are in R.py. The setuptools archive is replaced,
not kept beside it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ClassVar

from setuptools.command.sdist import sdist as _sdist
from setuptools.errors import FileError

from upip.authoring import layout as _layout
from upip.authoring import sdist as _writer
from upip.errors import ProjectError

__all__ = ["sdist"]


class sdist(_sdist):  # lower case: the name setup.py files use
    description = "create an upip-format source distribution (tar.gz, 4 KiB window, R.py)"
    user_options: ClassVar[list[tuple[str, str | None, str]]] = [
        *_sdist.user_options,
        ("manifest-only", "o", "write the R.py resource modules and list the files, then stop"),
        ("no-resource-files", None, "leave data files out of the archive (they are in R.py)"),
    ]
    boolean_options: ClassVar[list[str]] = [*_sdist.boolean_options, "manifest-only", "no-resource-files"]

    def initialize_options(self) -> None:
        super().initialize_options()
        self.manifest_only = 0
        self.no_resource_files = 0

    def run(self) -> None:
        try:
            self._run()
        except ProjectError as exc:
            raise FileError(str(exc)) from None

    def _run(self) -> None:
        dist = self.distribution
        for field in ("name", "version"):
            if not getattr(dist.metadata, field, None):
                raise ProjectError("setup.py", f"setup() has no {field}; pass {field}=... "
                                               "(upip packages need both)")
        root = Path(dist.src_root or ".")
        self.run_command("egg_info")
        egg_info = self.get_finalized_command("egg_info")
        files = [f.replace("\\", "/") for f in egg_info.filelist.files]
        where = _layout.Layout.from_setup(dist.packages or [], dist.py_modules or [],
                                          dist.package_dir)
        missing = _layout.missing(root, files, where)
        if missing:
            raise _layout.missing_error(missing[0])
        keep = not self.no_resource_files
        plan = _layout.plan(files, where, keep_resource_files=keep)
        for path in _layout.write_resource_modules(root, where, plan):
            if path not in egg_info.filelist.files:
                egg_info.filelist.append(path)
            pkg = next(p for p, folder in where.packages.items() if path == f"{folder}/R.py")
            plan.members[f"{pkg}/R.py"] = path
        for path in plan.dropped:
            self.announce(f"not a resource (outside any package), left out: {path}", logging.INFO)
        if self.manifest_only:
            for member in sorted(plan.members):
                self.announce(f"would include: {member}", logging.INFO)
            return
        super().run()
        info = Path(egg_info.egg_info)
        pkg_info = _layout.clean_pkg_info((info / "PKG-INFO").read_text(encoding="utf-8"))
        requires = info / "requires.txt"
        members = {rel: (root / src).read_bytes() for rel, src in plan.members.items()}
        egg = info.name
        members["PKG-INFO"] = members[f"{egg}/PKG-INFO"] = pkg_info.encode()
        members[f"{egg}/requires.txt"] = requires.read_bytes() if requires.is_file() else b""
        for name in self.archive_files:
            archive = Path(name)
            if not archive.name.endswith(".tar.gz"):
                raise FileError(f"{archive}: sdist_upip writes .tar.gz archives only; "
                                "drop --formats")
            top = archive.name[: -len(".tar.gz")]
            built = _writer.write_archive(members, top, archive, _writer.source_date_epoch())
            self.announce(f"upip format: {built.path} ({built.size} bytes, "
                          f"sha256 {built.sha256})", logging.INFO)
