"""Check an image's imports against a target firmware, statically.

Every ``.py`` file of the image is parsed (never run) and each ``import`` it
holds, wherever it is, must resolve: to a module of the image (``a.py``,
``a.mpy`` or a folder ``a/``, level by level for dotted names) or to a module
the firmware has (:meth:`upip.target.Profile.provides`). Two refinements
follow MicroPython itself: a C module has no submodules, so ``import os.path``
needs ``os/path.py`` in the image; and ``from pkg import x`` on a folder
without ``__init__`` can only mean the submodule ``pkg/x``.

An import under a ``try:`` whose handlers catch ``ImportError`` (or a bare
``except:``, ``Exception``) or under ``if TYPE_CHECKING:`` / ``if False:`` is
optional: reported apart, never an error. ``.mpy`` files cannot be read and
are listed as not checked. This module does no I/O: the caller reads the
files and prints the report.
"""

from __future__ import annotations

import ast
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import NamedTuple

from .target import Profile

_CATCHES_IMPORT_ERROR = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


class MissingImport(NamedTuple):
    path: str  # the importing file, as in the image
    line: int
    module: str  # what does not resolve ("umqtt.simple", "..missing" for a bad relative)
    optional: bool
    suggestion: str | None = None


class Unparsable(NamedTuple):
    path: str
    line: int
    message: str


class _Import(NamedTuple):
    line: int
    module: str  # absolute dotted name (relative ones resolved), or "" when it cannot be
    names: tuple[str, ...]  # from-import names; () for "import a.b"
    optional: bool
    spelled: str  # as written, for messages about relative imports


class CheckReport:
    """What :func:`check_image` found; ``ok`` when nothing required is missing."""

    __slots__ = ("target", "checked", "missing", "optional", "unchecked", "unparsable")

    def __init__(self, target: str) -> None:
        self.target = target
        self.checked: list[str] = []  # .py files read
        self.missing: list[MissingImport] = []  # required imports that do not resolve
        self.optional: list[MissingImport] = []  # guarded imports that do not resolve
        self.unchecked: list[str] = []  # .mpy files, which cannot be read
        self.unparsable: list[Unparsable] = []  # .py files Python cannot parse

    @property
    def ok(self) -> bool:
        # a file Python cannot parse almost never compiles on MicroPython either
        return not self.missing and not self.unparsable

    def as_json(self) -> dict[str, object]:
        def entry(m: MissingImport) -> dict[str, object]:
            return {"path": m.path, "line": m.line, "module": m.module,
                    "optional": m.optional, "suggestion": m.suggestion}

        return {
            "target": self.target, "ok": self.ok, "checked": list(self.checked),
            "missing": [entry(m) for m in self.missing],
            "optional": [entry(m) for m in self.optional],
            "unchecked": list(self.unchecked),
            "unparsable": [{"path": u.path, "line": u.line, "message": u.message}
                           for u in self.unparsable],
        }

    def __repr__(self) -> str:
        return (f"CheckReport(target={self.target!r}, ok={self.ok}, "
                f"missing={len(self.missing)}, optional={len(self.optional)}, "
                f"unchecked={len(self.unchecked)}, unparsable={len(self.unparsable)})")


class _Image:
    """The image's module layout: files and the folders that hold them."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.files: set[str] = set()
        self.dirs: set[str] = set()
        for raw in paths:
            path = _clean(raw)
            self.files.add(path)
            parent = path.rpartition("/")[0]
            while parent and parent not in self.dirs:
                self.dirs.add(parent)
                parent = parent.rpartition("/")[0]

    def module(self, dotted: str) -> bool:
        """``a.b.c``: folders ``a/``, ``a/b/`` and ``a/b/c.py``, ``.mpy`` or ``c/``."""
        path = dotted.replace(".", "/")
        if "/" in path and path.rpartition("/")[0] not in self.dirs:
            return False
        return f"{path}.py" in self.files or f"{path}.mpy" in self.files or path in self.dirs

    def namespace(self, dotted: str) -> bool:
        """A folder without ``__init__``, whose only attributes are its submodules."""
        path = dotted.replace(".", "/")
        return (path in self.dirs and f"{path}.py" not in self.files
                and f"{path}.mpy" not in self.files
                and f"{path}/__init__.py" not in self.files
                and f"{path}/__init__.mpy" not in self.files)


def _clean(path: str) -> str:
    path = path.replace("\\", "/")
    while path.startswith(("./", "/")):
        path = path[2:] if path.startswith("./") else path[1:]
    return path


def check_image(files: Mapping[str, bytes], profile: Profile,
                suggest: Callable[[str], str | None] | None = None) -> CheckReport:
    """Check every import of the ``.py`` files in ``files`` (image path -> content)
    against the image itself and the firmware ``profile``."""
    image = _Image(files)
    report = CheckReport(profile.name)
    suggestions: dict[str, str | None] = {}

    def suggestion(module: str) -> str | None:
        if suggest is None or not module:
            return None
        if module not in suggestions:
            suggestions[module] = suggest(module)
        return suggestions[module]

    for raw in sorted(files):
        path = _clean(raw)
        if path.endswith(".mpy"):
            report.unchecked.append(path)
            continue
        if not path.endswith(".py"):
            continue
        try:
            with warnings.catch_warnings():  # no SyntaxWarning for "\d" and the like
                warnings.simplefilter("ignore")
                tree = ast.parse(files[raw], filename=path)
        except (SyntaxError, ValueError) as exc:  # ValueError: NUL bytes in the source
            line = getattr(exc, "lineno", None) or 0
            message = getattr(exc, "msg", None) or str(exc)
            report.unparsable.append(Unparsable(path, line, message))
            continue
        report.checked.append(path)
        for found in _imports(tree, _package_of(path)):
            missing = _unresolved(found, image, profile)
            if missing is None:
                continue
            record = MissingImport(path, found.line, missing, found.optional,
                                   suggestion(missing if found.module else ""))
            (report.optional if found.optional else report.missing).append(record)
    return report


def _package_of(path: str) -> list[str]:
    """The package a file's relative imports start from: ``a/b/c.py`` -> ``a.b``."""
    return path.split("/")[:-1]


def _unresolved(found: _Import, image: _Image, profile: Profile) -> str | None:
    """The module name that does not resolve, or None when the import does."""
    if not found.module:
        return found.spelled  # a relative import that climbs out of the image's top
    if not _resolves(found.module, image, profile):
        return found.module
    if found.names and image.namespace(found.module) and not profile.provides(found.module):
        for name in found.names:
            if name != "*" and not image.module(f"{found.module}.{name}"):
                return f"{found.module}.{name}"
    return None


def _resolves(module: str, image: _Image, profile: Profile) -> bool:
    if image.module(module):
        return True
    top, dot, _ = module.partition(".")
    if not dot:
        return profile.provides(module)
    # a frozen package may hold submodules (which the profile does not list);
    # a C module holds none
    return top in profile.frozen


def _imports(tree: ast.Module, package: list[str]) -> list[_Import]:
    found: list[_Import] = []

    def visit(node: ast.AST, optional: bool) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found.append(_Import(node.lineno, alias.name, (), optional, alias.name))
        elif isinstance(node, ast.ImportFrom):
            names = tuple(alias.name for alias in node.names)
            spelled = "." * node.level + (node.module or "")
            module = _absolute(node.module, node.level, package)
            found.append(_Import(node.lineno, module, names, optional, spelled))
        elif isinstance(node, (ast.Try, ast.TryStar)):
            guarded = optional or any(_catches_import_error(h) for h in node.handlers)
            for child in node.body:
                visit(child, guarded)
            for handler in node.handlers:
                for child in handler.body:
                    visit(child, optional)
            for child in node.orelse + node.finalbody:
                visit(child, optional)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for child in node.body:  # runs when called, outside any enclosing try
                visit(child, False)
        elif isinstance(node, ast.If) and _never_runs(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, optional)
        else:
            for inner in ast.iter_child_nodes(node):
                visit(inner, optional)

    visit(tree, False)
    return found


def _absolute(module: str | None, level: int, package: list[str]) -> str:
    if level == 0:
        return module or ""
    if level > len(package):
        return ""  # a top-level module has no package; ".." climbs out of the image
    base = package[: len(package) - (level - 1)]
    parts = [*base, *(module.split(".") if module else [])]
    return ".".join(parts)


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    for kind in kinds:
        name = kind.id if isinstance(kind, ast.Name) else \
            kind.attr if isinstance(kind, ast.Attribute) else ""
        if name in _CATCHES_IMPORT_ERROR:
            return True
    return False


def _never_runs(test: ast.expr) -> bool:
    """``if TYPE_CHECKING:``, ``if typing.TYPE_CHECKING:`` and ``if False:``."""
    if isinstance(test, ast.Constant):
        return test.value is False or test.value == 0
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
