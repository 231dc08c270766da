"""A project to build: ``pyproject.toml`` metadata and the files to ship.

``[project]`` gives name, version, description, license and dependencies.
``[tool.upip]`` may say what to ship; otherwise it is discovered:

* ``source-dir``: where packages and modules live (default ``src`` when it
  exists, else the project root);
* ``packages``: top-level package folders (default: every folder holding a
  ``.py`` file, namespace packages included, minus tests/docs/examples/build);
* ``modules``: top-level ``.py`` modules (default: every one but setup.py,
  conftest.py, test_*.py and the like);
* ``exclude``: glob patterns (relative to ``source-dir``) of files to leave out;
* ``keep-resource-files``: ship the data files beside ``R.py`` (default true).

Reading the file is kept apart from parsing it (:func:`parse`), so the
rules are testable on strings.
"""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import ProjectError
from ..fields import Record, field
from .resources import MARK, is_generated

NOT_PACKAGES = frozenset({
    "test", "tests", "testing", "doc", "docs", "example", "examples", "build", "dist",
    "benchmark", "benchmarks", "bench", "script", "scripts", "tools", "venv", "env",
    "site-packages", "node_modules", "__pycache__",
})
NOT_MODULES = frozenset({
    "setup.py", "conftest.py", "noxfile.py", "fabfile.py", "tasks.py", "manage.py",
})
#: Top-level files every project has and nobody expects on a board; not
#: worth reporting as "left out".
BUILD_FILES = frozenset({
    "pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in", "MANIFEST", "tox.ini",
    "PKG-INFO",
})
TOOL_KEYS = frozenset({"source-dir", "packages", "modules", "exclude", "keep-resource-files"})


class Metadata(Record):
    name: str
    version: str
    summary: str = ""
    license: str = ""
    home_page: str = ""
    dependencies: list[str] = field(default_factory=list)

    @property
    def dist_name(self) -> str:
        """The file-name form (PEP 625): ``micropython_foo``."""
        return canonicalize_name(self.name).replace("-", "_")


class Config(Record):
    source_dir: str | None = None
    packages: list[str] | None = None
    modules: list[str] | None = None
    exclude: list[str] = field(default_factory=list)
    keep_resource_files: bool = True


class Project(Record):
    root: Path
    meta: Metadata
    source: Path
    packages: list[str]
    modules: list[str]
    #: files to ship, ``/``-separated and relative to ``source``, sorted
    files: list[str]
    #: top-level things left out, for the report
    left_out: list[str]
    keep_resource_files: bool = True
    warnings: list[str] = field(default_factory=list)


def _str(table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise ProjectError(where, f"{key} must be a string, not {value!r}")
    return value


def _str_list(table: dict[str, Any], key: str, where: str) -> list[str] | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ProjectError(where, f"{key} must be a list of strings, not {value!r}")
    return list(value)


def parse(text: str, where: str = "pyproject.toml") -> tuple[Metadata, Config, list[str]]:
    """Metadata, [tool.upip] config and warnings from pyproject.toml text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(where, f"not valid TOML ({exc})") from None
    project = data.get("project")
    if not isinstance(project, dict):
        raise ProjectError(where, "no [project] table; add one with name and version")
    dynamic = project.get("dynamic") or []
    for key in ("name", "version"):
        if not project.get(key):
            hint = (" (upip reads static metadata only and never runs a build backend: "
                    "dynamic is not supported)"
                    if key in dynamic else "")
            raise ProjectError(where, f'[project] has no {key}; add {key} = "..."{hint}')
    name = _str(project, "name", where)
    try:
        version = str(Version(_str(project, "version", where)))
    except InvalidVersion:
        raise ProjectError(where, f"version {project['version']!r} is not a PEP 440 version, "
                                  'use e.g. version = "1.0.2"') from None
    deps = _str_list(project, "dependencies", where) or []
    for dep in deps:
        try:
            Requirement(dep)
        except InvalidRequirement as exc:
            why = str(exc).splitlines()[0]
            raise ProjectError(where, f"dependency {dep!r} is not a valid requirement "
                                      f"({why})") from None
    license_ = project.get("license", "")
    if isinstance(license_, dict):
        license_ = license_.get("text", "") if "text" in license_ else ""
    urls = project.get("urls") or {}
    home = next((v for k, v in urls.items() if k.lower() in ("homepage", "home", "source")),
                "") if isinstance(urls, dict) else ""
    meta = Metadata(name=name, version=version, summary=_str(project, "description", where),
                    license=str(license_), home_page=str(home), dependencies=deps)
    warnings = []
    if project.get("optional-dependencies"):
        warnings.append("[project.optional-dependencies] is not packaged: MicroPython "
                        "installers have no extras")
    tool = data.get("tool", {}).get("upip", {})
    if not isinstance(tool, dict):
        raise ProjectError(where, "[tool.upip] must be a table")
    if unknown := sorted(set(tool) - TOOL_KEYS):
        raise ProjectError(where, f"[tool.upip] has unknown key {unknown[0]!r}; known keys: "
                                  f"{', '.join(sorted(TOOL_KEYS))}")
    keep = tool.get("keep-resource-files", True)
    if not isinstance(keep, bool):
        raise ProjectError(where, "[tool.upip] keep-resource-files must be true or false")
    source_dir = tool.get("source-dir")
    if source_dir is not None and not isinstance(source_dir, str):
        raise ProjectError(where, "[tool.upip] source-dir must be a string")
    config = Config(source_dir=source_dir,
                    packages=_str_list(tool, "packages", where),
                    modules=_str_list(tool, "modules", where),
                    exclude=_str_list(tool, "exclude", where) or [],
                    keep_resource_files=keep)
    return meta, config, warnings


def _hidden(name: str) -> bool:
    """Not shipped: hidden files, caches, and typing stubs (of no use on a board)."""
    return (name.startswith(".") or name in ("__pycache__", "py.typed")
            or name.endswith((".pyc", ".pyo", ".pyi")))


def not_source(folder: Path) -> bool:
    """A folder that is no one's source, wherever it sits: an upip image (its
    ``.upip-records``: installing into a folder of the project must not ship
    it back) or a virtual environment."""
    return (folder / ".upip-records").exists() or (folder / "pyvenv.cfg").exists()


def _walk(folder: Path, base: Path) -> list[str]:
    out = []
    for path in sorted(folder.iterdir()):
        if _hidden(path.name):
            continue
        if path.is_symlink():
            continue
        if path.is_dir():
            if not not_source(path):
                out += _walk(path, base)
        elif path.is_file():
            out.append(path.relative_to(base).as_posix())
    return out


def _has_code(folder: Path) -> bool:
    return any("__pycache__" not in p.parts for p in folder.rglob("*.py"))


def _discover_packages(source: Path) -> list[str]:
    return [p.name for p in sorted(source.iterdir())
            if p.is_dir() and not _hidden(p.name) and p.name.isidentifier()
            and p.name.lower() not in NOT_PACKAGES and not not_source(p) and _has_code(p)]


def _discover_modules(source: Path) -> list[str]:
    return [p.stem for p in sorted(source.glob("*.py"))
            if p.stem.isidentifier() and p.name not in NOT_MODULES
            and not p.stem.startswith("test_") and not p.stem.endswith("_test")]


def _source(root: Path, config: Config, where: str) -> Path:
    if config.source_dir is not None:
        source = (root / config.source_dir).resolve()
        if not source.is_relative_to(root.resolve()) or not source.is_dir():
            raise ProjectError(where, f"[tool.upip] source-dir {config.source_dir!r} is not a "
                                      "folder inside the project")
        return source
    src = root / "src"
    if src.is_dir() and (_discover_packages(src) or _discover_modules(src)):
        return src
    return root


def _own_r_py(source: Path, package: str) -> bool:
    """True when the package holds an R.py that upip did not write."""
    r_py = source / package / "R.py"
    if not r_py.is_file():
        return False
    with open(r_py, "rb") as f:
        return not is_generated(f.read(len(MARK)))


def _left_out(root: Path, source: Path, shipped: set[str]) -> list[str]:
    """Top-level files and folders that will not be in the archive (reported)."""
    out = []
    for folder in dict.fromkeys([root, source]):
        prefix = "" if folder == root else folder.relative_to(root).as_posix() + "/"
        for p in folder.iterdir():
            if (p == source or _hidden(p.name) or p.name in BUILD_FILES
                    or p.name.endswith(".egg-info") or p.name in ("dist", "build")
                    or (folder == source and p.name in shipped)):
                continue
            out.append(prefix + p.name + ("/" if p.is_dir() else ""))
    return sorted(out)


def load(root: Path) -> Project:
    """Read the project in ``root``: its pyproject.toml, then its files."""
    where = str(root / "pyproject.toml")
    try:
        text = (root / "pyproject.toml").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(str(root), "no pyproject.toml here; upip sdist builds from a "
                                      "pyproject.toml with a [project] table (for setup.py "
                                      "projects use sdist_upip)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(where, f"cannot read it ({exc})") from None
    meta, config, warnings = parse(text, where)
    source = _source(root, config, where)
    packages = config.packages if config.packages is not None else _discover_packages(source)
    modules = config.modules if config.modules is not None else _discover_modules(source)
    for pkg in packages:
        if not (source / pkg).is_dir():
            raise ProjectError(where, f"[tool.upip] packages names {pkg!r}, but there is no "
                                      f"folder {source / pkg}")
    for mod in modules:
        if not (source / f"{mod}.py").is_file():
            raise ProjectError(where, f"[tool.upip] modules names {mod!r}, but there is no "
                                      f"file {source / mod}.py")
    if not packages and not modules:
        raise ProjectError(str(source), "no package or module found to ship; add "
                                        "[tool.upip] packages = [...] or modules = [...] to "
                                        "pyproject.toml")
    files = [f"{m}.py" for m in modules]
    for pkg in packages:
        if _own_r_py(source, pkg):
            raise ProjectError(str(source / pkg / "R.py"),
                               "exists and was not written by upip, which generates R.py "
                               "from the package's data files; rename it")
        files += [f for f in _walk(source / pkg, source) if f != f"{pkg}/R.py"]
    files = sorted(f for f in files
                   if not any(fnmatch.fnmatchcase(f, pat) for pat in config.exclude))
    left_out = _left_out(root, source, set(packages) | {f"{m}.py" for m in modules})
    return Project(root=root, meta=meta, source=source, packages=packages, modules=modules,
                   files=files, left_out=left_out, keep_resource_files=config.keep_resource_files,
                   warnings=warnings)
