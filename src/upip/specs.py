"""Requirement specs as users type them: names, pins, ranges, mip ``name@1.2``,
``mip:NAME`` and ``pypi:NAME``, local archives, project directories, archive
URLs, ``package.json`` manifests (a URL, a path, ``github:org/repo@ref``) and
requirements files; and the one rule for what a name means (:func:`lookups`).

Parsing only: nothing here touches the network, and files are read only by
:func:`read_requirements` (the parsing of their text is :func:`parse_requirements`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from packaging.markers import Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from .errors import InvalidSpec, RequirementsFileError
from .fields import Record, field

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".whl")
MANIFEST_SUFFIXES = (".json", ".py", ".mpy")
# files a URL may name that upip cannot install (any other URL is a folder
# holding a package.json, as mip takes it)
OTHER_FILES = (".zip", ".tar", ".tar.bz2", ".tar.xz", ".tbz", ".egg", ".exe", ".rar", ".7z",
               ".git", ".html", ".txt", ".mpy.gz")
BUILD_FILES = ("pyproject.toml", "setup.py", "setup.cfg")

# What PEP 508 markers see when upip installs for MicroPython. MicroPython
# reports itself as Python 3.4 (sys.version); the platform is unknown on a PC.
MICROPYTHON_ENVIRONMENT: dict[str, str] = {
    "implementation_name": "micropython",
    "implementation_version": "1.24.0",
    "platform_python_implementation": "MicroPython",
    "python_version": "3.4",
    "python_full_version": "3.4.0",
    "os_name": "",
    "sys_platform": "",
    "platform_system": "",
    "platform_machine": "",
    "platform_release": "",
    "platform_version": "",
    "extra": "",
}

# Where a name is looked up (a Spec's ``channel``); see lookups().
ANY = ""  # a name as a MicroPython user means it: the mip index first, then PyPI
MIP = "mip"  # mip:NAME, only the mip index
PYPI = "pypi"  # pypi:NAME or micropython-NAME: exactly that name, only on PyPI
PYPI_DEP = "pypi-dep"  # a dependency of a PyPI package: NAME, then micropython-NAME
PREFIX = "micropython-"

FORGES = {
    "github:": "https://raw.githubusercontent.com/{org}/{repo}/{ref}/{path}",
    "gitlab:": "https://gitlab.com/{org}/{repo}/-/raw/{ref}/{path}",
    "codeberg:": "https://codeberg.org/api/v1/repos/{org}/{repo}/raw/{path}?ref={ref}",
}
REMOTE = ("http://", "https://", *FORGES)


def is_remote(text: str) -> bool:
    return text.startswith(REMOTE)


def is_forge(text: str) -> bool:
    return text.startswith(tuple(FORGES))


def split_ref(text: str) -> tuple[str, str | None]:
    """``github:org/repo@v1`` -> (``github:org/repo``, ``v1``); an ``@`` counts
    only in the last path segment (``https://user@host/`` keeps its user)."""
    head, slash, last = text.rpartition("/")
    if "@" not in last or not (slash or is_forge(text)):
        return text, None
    last, _, ref = last.rpartition("@")
    return head + slash + last, ref or None


def check_forge(location: str, origin: str = "") -> None:
    """A forge shorthand must name an organisation and a repository."""
    scheme = location.split(":", 1)[0] + ":"
    parts = location[len(scheme):].split("/")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise InvalidSpec(location, f"{scheme} needs {scheme}ORG/REPO[/PATH][@REF]", origin)


def manifest_location(location: str) -> str:
    """Where the document is: a folder gets ``/package.json``."""
    if location.endswith(MANIFEST_SUFFIXES):
        return location
    return location.rstrip("/") + "/package.json"


_MIP_PIN = re.compile(r"^([A-Za-z0-9_][A-Za-z0-9._-]*)@([A-Za-z0-9._+!-]+)$")
# a mip package may be named as no PEP 508 name can (micropython-lib's __future__)
_MIP_NAME = re.compile(r"^_[A-Za-z0-9._-]*$")
_NAMED_URL = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*(?:\[[^\]]*\])?)\s*@\s*([a-z+]+://.*)$")


@lru_cache(maxsize=4096)
def normalize(name: str) -> str:
    """PEP 503 normalised project name, used for every lookup and record key.

    Memoised: the resolver asks for the key of the same few names thousands
    of times in one install.
    """
    return str(canonicalize_name(name))


def lookups(name: str, channel: str = ANY, mip: bool = True) -> list[tuple[str, str]]:
    """Where a name is looked up, in order: (MIP or PYPI, project name) pairs.

    The one naming rule. A bare name means what mip means by it (the mip
    index, when there is one), then PyPI's ``micropython-NAME``, then PyPI's
    ``NAME``; ``micropython-*`` names and ``pypi:NAME`` are exactly that on
    PyPI; a PyPI package's dependency is its own name first.
    """
    if channel == MIP:
        return [(MIP, name)]
    if channel == PYPI or normalize(name).startswith(PREFIX):
        return [(PYPI, name)]
    if channel == PYPI_DEP:
        return [(PYPI, name), (PYPI, PREFIX + name)]
    return ([(MIP, name)] if mip else []) + [(PYPI, PREFIX + name), (PYPI, name)]


def aliases(name: str) -> tuple[str, ...]:
    """The record keys an installed ``name`` may have: ``foo`` is also ``micropython-foo``."""
    key = normalize(name)
    return (key,) if key.startswith(PREFIX) else (key, PREFIX + key)


@lru_cache(maxsize=4096)
def _pep508(text: str) -> Requirement:
    """``Requirement(text)``, once per text: every dependency is read by the
    crawl ahead of the resolver and again by the resolver (never mutated)."""
    return Requirement(text)


class _SpecFields(NamedTuple):
    text: str
    name: str | None
    specifier: SpecifierSet
    extras: frozenset[str]
    marker: Marker | None
    path: Path | None
    url: str | None
    origin: str
    channel: str
    ref: str | None


class Spec(_SpecFields):
    """One thing to install.

    Exactly one of ``name`` (a named requirement), ``path`` (a local archive,
    project directory or package.json) or ``url`` (an archive URL, or a
    manifest location such as ``github:org/repo/package.json``, fetched at
    ``ref``) says where it comes from; a ``name @ url`` requirement has both
    ``name`` and ``url``. ``channel`` says where a name is looked up.
    """

    __slots__ = ()

    # Here, not in the NamedTuple: each Spec gets its own empty SpecifierSet.
    def __new__(cls, text: str, name: str | None = None, specifier: SpecifierSet | None = None,
                extras: frozenset[str] = frozenset(), marker: Marker | None = None,
                path: Path | None = None, url: str | None = None, origin: str = "",
                channel: str = ANY, ref: str | None = None) -> Spec:
        if specifier is None:
            specifier = SpecifierSet()
        return super().__new__(cls, text, name, specifier, extras, marker, path, url, origin,
                               channel, ref)

    @property
    def key(self) -> str | None:
        return normalize(self.name) if self.name else None

    @property
    def manifest(self) -> bool:
        """A package.json (or single .py/.mpy file) rather than an archive or a name."""
        where = self.url or (self.path.name if self.path else "")
        return where.endswith(MANIFEST_SUFFIXES)

    def applies(self, environment: dict[str, str] | None = None) -> bool:
        """Whether the marker (if any) holds for MicroPython."""
        if self.marker is None:
            return True
        return self.marker.evaluate(dict(environment or MICROPYTHON_ENVIRONMENT))

    def __str__(self) -> str:
        if self.name and not (self.path or self.url):
            extras = "[{}]".format(",".join(sorted(self.extras))) if self.extras else ""
            return f"{self.name}{extras}{self.specifier}"
        return self.text


def _looks_like_path(text: str) -> bool:
    return (
        text in (".", "..")
        or text.startswith(("./", "../", "/", "~"))
        or os.sep in text
        or "/" in text
        or text.endswith(ARCHIVE_SUFFIXES)
    )


def parse_spec(text: str, origin: str = "", base_dir: Path | None = None) -> Spec:
    """Parse one SPEC as typed on the command line or in a requirements file."""
    raw = text
    text = text.strip()
    if not text:
        raise InvalidSpec(raw, "empty requirement", origin)
    for prefix, channel in ((MIP + ":", MIP), (PYPI + ":", PYPI)):
        if text.startswith(prefix):
            spec = parse_spec(text[len(prefix):], origin, base_dir)
            if not spec.name or spec.path or spec.url:
                raise InvalidSpec(raw, f"{prefix} takes a package name, as {prefix}NAME", origin)
            return spec._replace(text=text, channel=channel)
    if is_remote(text) or text.startswith("file://"):
        return _location_spec(raw, text, origin)
    named_url = _NAMED_URL.match(text)
    if named_url:  # PEP 508 "name @ url", however it is spaced
        text = f"{named_url.group(1)} @ {named_url.group(2)}"
    mip = _MIP_PIN.match(text)
    if mip:
        name, version = mip.groups()
        channel = PYPI if normalize(name).startswith(PREFIX) else ANY
        if version == "latest":
            return Spec(text, name=name, origin=origin, channel=channel)
        try:
            Version(version)
        except InvalidVersion:
            raise InvalidSpec(raw, f"{version!r} is not a version", origin) from None
        return Spec(text, name=name, specifier=SpecifierSet(f"=={version}"), origin=origin,
                    channel=channel)
    if " @ " not in text and ";" not in text and _looks_like_path(text):
        return _path_spec(raw, text, origin, base_dir)
    if _MIP_NAME.match(text):
        return Spec(text, name=text, origin=origin)
    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0]
        raise InvalidSpec(raw, reason, origin) from None
    url = req.url
    if url is not None and not url.split("#", 1)[0].endswith(ARCHIVE_SUFFIXES):
        raise InvalidSpec(raw, "a URL must point at a .tar.gz or .whl archive", origin)
    return Spec(
        text,
        name=req.name,
        specifier=req.specifier,
        extras=frozenset(normalize(e) for e in req.extras),
        marker=req.marker,
        url=url,
        origin=origin,
        channel=PYPI if normalize(req.name).startswith(PREFIX) else ANY,
    )


def _location_spec(raw: str, text: str, origin: str) -> Spec:
    """An archive URL, or a manifest's: http(s), file, github:, gitlab:, codeberg:."""
    if text.split("#", 1)[0].endswith(ARCHIVE_SUFFIXES):
        return Spec(text, url=text, origin=origin)
    location, ref = split_ref(text)
    if is_forge(location):
        check_forge(location, origin)
    elif location.split("#", 1)[0].endswith(ARCHIVE_SUFFIXES):
        raise InvalidSpec(raw, "an archive URL takes no @REF", origin)
    last = location.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    if last.endswith(OTHER_FILES):
        raise InvalidSpec(raw, "a URL must point at a .tar.gz or .whl archive, a package.json "
                               "(or its folder) or a .py file", origin)
    return Spec(text, url=manifest_location(location), origin=origin, ref=ref)


def _path_spec(raw: str, text: str, origin: str, base_dir: Path | None) -> Spec:
    path = Path(os.path.expanduser(text))
    if base_dir is not None and not path.is_absolute():
        path = base_dir / path
    if path.is_dir():
        manifest = path / "package.json"
        if manifest.is_file() and not any((path / f).exists() for f in BUILD_FILES):
            return Spec(text, path=manifest, origin=origin)
        return Spec(text, path=path, origin=origin)
    if path.is_file():
        if not path.name.endswith((*ARCHIVE_SUFFIXES, ".json")):
            raise InvalidSpec(raw, "a local file must be a .tar.gz or .whl archive or a "
                                   "package.json", origin)
        return Spec(text, path=path, origin=origin)
    raise InvalidSpec(raw, f"no such file or directory: {path}", origin)


def parse_requirement(text: str, origin: str = "") -> Spec:
    """A dependency as declared by a distribution (PEP 508 only, no paths)."""
    try:
        req = _pep508(text.strip())
    except InvalidRequirement as exc:
        raise InvalidSpec(text, str(exc).splitlines()[0], origin) from None
    return Spec(
        text.strip(),
        name=req.name,
        specifier=req.specifier,
        extras=frozenset(normalize(e) for e in req.extras),
        marker=req.marker,
        url=req.url,
        origin=origin,
    )


class RequirementsFile(Record):
    """What a requirements file says: specs and the index options it sets."""

    specs: list[Spec] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[Path] = field(default_factory=list)
    pre: bool = False

    def merge(self, other: RequirementsFile) -> None:
        self.specs += other.specs
        self.index_url = other.index_url or self.index_url
        self.extra_index_urls += other.extra_index_urls
        self.find_links += other.find_links
        self.pre = self.pre or other.pre


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    pending, start = "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        # As pip: a comment ends the line, even one that ends in a backslash.
        uncommented = re.sub(r"(^|\s+)#.*$", "", line)
        if uncommented == line and line.endswith("\\"):
            pending += line[:-1]
            continue
        line = (pending + uncommented).strip()
        pending = ""
        if line:
            yield start, line
    if pending.strip():
        yield start, pending.strip()


def parse_requirements(
    text: str,
    path: Path,
    read: Callable[[Path], str],
    _seen: frozenset[Path] = frozenset(),
) -> RequirementsFile:
    """Parse a requirements file's text; ``read`` loads nested ``-r`` files."""
    result = RequirementsFile()
    base = path.parent
    for number, line in _logical_lines(text):
        origin = f"{path}:{number}"
        if not line.startswith("-"):
            result.specs.append(parse_spec(line, origin, base_dir=base))
            continue
        import shlex  # only for option lines

        try:
            words = shlex.split(line)
        except ValueError as exc:
            raise RequirementsFileError(str(path), number, str(exc)) from None
        option, value = words[0], words[1] if len(words) > 1 else None
        if "=" in option and option.startswith("--"):
            option, value = option.split("=", 1)
        if option == "--pre":
            result.pre = True
            continue
        if value is None:
            raise RequirementsFileError(str(path), number, f"{option} needs a value")
        if option in ("-r", "--requirement"):
            nested = (base / os.path.expanduser(value)).resolve()
            if nested in _seen:
                raise RequirementsFileError(str(path), number, f"{value} includes itself")
            result.merge(load_requirements(nested, read, _seen | {nested}))
        elif option in ("-i", "--index-url"):
            result.index_url = value
        elif option == "--extra-index-url":
            result.extra_index_urls.append(value)
        elif option in ("-f", "--find-links"):
            result.find_links.append(base / os.path.expanduser(value))
        else:
            raise RequirementsFileError(
                str(path),
                number,
                f"unsupported option {option!r} (upip understands -r, -i, "
                "--extra-index-url, -f and --pre)",
            )
    return result


def load_requirements(
    path: Path, read: Callable[[Path], str], _seen: frozenset[Path] = frozenset()
) -> RequirementsFile:
    try:
        text = read(path)
    except FileNotFoundError:
        raise RequirementsFileError(str(path), 0, "no such requirements file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RequirementsFileError(str(path), 0, f"cannot read it: {exc}") from None
    return parse_requirements(text, path, read, _seen | {path.resolve()})


def read_requirements(path: Path) -> RequirementsFile:
    """Read ``path`` (and every file it includes with ``-r``)."""
    return load_requirements(path, lambda p: p.read_text(encoding="utf-8"))


def gather(specs: Iterable[str], requirement_files: Iterable[Path | str] = ()) -> RequirementsFile:
    """What a command line asks for: its -r files (merged in order, with the
    index options they set), then its SPECs."""
    wanted = RequirementsFile()
    for path in requirement_files:
        wanted.merge(read_requirements(Path(path)))
    wanted.specs += [parse_spec(s, "command line") for s in specs]
    return wanted
