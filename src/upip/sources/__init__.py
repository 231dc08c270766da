"""Where candidates come from: one module per index protocol, one record.

Every source answers :meth:`Source.candidates` with the installable
:class:`Candidate` list of a project (one per version: a pure-Python wheel when
the release has one, else its sdist), or ``None`` when it does not know the
project at all.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Literal, NamedTuple, Protocol

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from ..errors import UpipError
from ..specs import MIP, PYPI, normalize

if TYPE_CHECKING:
    from ..http import HttpClient
    from .mip import MipSource

# sdist, wheel: archives from a PyPI-style index; mip: a version of a mip
# index's package; manifest: a package.json (or one .py file); dir: a project
# folder; installed: what an image's records say
Kind = Literal["sdist", "wheel", "dir", "installed", "mip", "manifest"]
DOCUMENT_KINDS = ("mip", "manifest")  # files listed in a JSON document, not an archive


class Candidate(NamedTuple):
    """One installable release of one project, whatever the source.

    Equal and hashed over all fields in order (a NamedTuple: see upip.fields).
    """

    name: str  # as the index spells it
    version: Version
    version_text: str  # as the index spells it ("3.4.2-4"), for records
    kind: Kind
    url: str  # http(s)/file URL, or a local path
    filename: str
    source: str  # the index or directory it came from, for messages and records
    sha256: str | None = None
    yanked: bool = False
    size: int | None = None

    @property
    def key(self) -> str:
        return normalize(self.name)

    @property
    def family(self) -> str:
        """MIP or PYPI: which kind of index it came from ("" for a direct one)."""
        kind = source_kind(self.url) if self.kind == "installed" else self.kind
        return MIP if kind == "mip" else PYPI if kind in ("sdist", "wheel") else ""

    def __str__(self) -> str:
        return f"{self.name} {self.version_text}"


_MIP_DOCUMENT = re.compile(r"/package/(?:py|\d+)/[^/]+/[^/]+\.json$")


def source_kind(source: str) -> Kind:
    """What kind of package an image's records mean by its ``source``: the
    URL (or path) of an archive, a mip index's package document, or a
    package.json."""
    where = source.split("?", 1)[0].split("#", 1)[0]
    if _MIP_DOCUMENT.search(where):
        return "mip"
    if where.endswith((".json", ".py", ".mpy")):
        return "manifest"
    if where.endswith(".whl"):
        return "wheel"
    if where.endswith((".tar.gz", ".tgz")) or "://" in where:
        return "sdist"
    return "dir"


class Source(Protocol):
    location: str

    def candidates(self, name: str) -> list[Candidate] | None: ...


def is_pure_wheel(filename: str) -> bool:
    """``py3-none-any`` style: runs anywhere there is a Python 3."""
    if filename.endswith(("-py3-none-any.whl", "-py2.py3-none-any.whl")):
        return True  # (as nearly all are: without parsing every tag of it)
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return False
    return any(_pure(tag) for tag in tags)


def _pure(tag: Tag) -> bool:
    # packaging expands "py2.py3-none-any" into one Tag per interpreter.
    return tag.abi == "none" and tag.platform == "any" and tag.interpreter.startswith("py3")


def split_filename(filename: str, project: str) -> tuple[str, Kind] | None:
    """The version in a distribution file name of ``project``, and its kind.

    The project name is known, so names and versions that contain ``-``
    (``micropython-pystone_lowmem-3.4.2-4.tar.gz``) split right. Returns None
    for files that are not an installable distribution of ``project``.
    """
    if filename.endswith(".whl"):
        if not is_pure_wheel(filename):
            return None
        parts = filename[:-4].split("-")
        if normalize(parts[0]) != normalize(project):
            return None
        return parts[1], "wheel"
    for suffix in (".tar.gz", ".tgz"):
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            break
    else:
        return None
    want = normalize(project)
    for i, char in enumerate(stem):
        if char == "-" and normalize(stem[:i]) == want and parse_version(stem[i + 1 :]):
            return stem[i + 1 :], "sdist"
    return None


def parse_version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def best_per_version(candidates: Iterable[Candidate]) -> list[Candidate]:
    """One candidate per version, a wheel preferred to an sdist; newest first.

    A version counts as yanked only when every file of it is yanked.
    """
    chosen: dict[Version, Candidate] = {}
    for cand in candidates:
        have = chosen.get(cand.version)
        if have is None or _rank(cand) < _rank(have):
            chosen[cand.version] = cand
    return sorted(chosen.values(), key=lambda c: c.version, reverse=True)


def _rank(cand: Candidate) -> tuple[bool, int]:
    return (cand.yanked, 0 if cand.kind == "wheel" else 1)


def make_source(location: str, http: HttpClient, variant: str | None = None
                ) -> tuple[str, Source]:
    """The family (MIP or PYPI) and source for an index URL or directory.

    ``.../simple`` is PEP 503/691 and ``.../pypi`` (or pypi.org) the JSON
    API; a folder holding ``index.json`` is a mip index, any other folder a
    directory of archives. Another URL is asked for ``index.json``: a mip
    index answers one with ``"v": 2``; anything else is taken for a JSON API.
    ``variant`` is the bytecode variant a mip index should prefer (``"6"``).
    """
    from .local import DirectorySource
    from .mip import MipSource
    from .pypi_json import PyPIJSONSource
    from .simple import SimpleSource

    if "://" not in location:
        path = Path(location).expanduser()
        if not path.is_dir():
            raise UpipError(f"index {location!r} is neither a URL nor a directory")
        if (path / "index.json").is_file():
            return MIP, MipSource(path.resolve().as_uri(), http, variant)
        return PYPI, DirectorySource(path)
    parsed = urllib.parse.urlparse(location)
    if parsed.scheme not in ("http", "https", "file"):
        raise UpipError(f"index {location!r}: only http, https and file URLs are supported")
    tail = parsed.path.rstrip("/").rsplit("/", 1)[-1]
    if tail in ("simple", "+simple"):
        return PYPI, SimpleSource(location, http)
    if tail == "pypi" or parsed.hostname == "pypi.org":
        return PYPI, PyPIJSONSource(location, http)
    mip = MipSource(location, http, variant)
    if location.rstrip("/").endswith("/pi/v2") or _answers_index(mip):
        return MIP, mip
    return PYPI, PyPIJSONSource(location, http)


def _answers_index(mip: MipSource) -> bool:
    from ..errors import CorruptMetadata

    try:
        return mip.packages() is not None
    except CorruptMetadata:  # HTML, or JSON of another kind: not a mip index
        return False


def describe_source(source: str) -> tuple[str, str]:
    """An image record's source, told briefly: (what, where) such as
    (``mip``, the index), (``pypi``, the host an archive came from),
    (``package.json``, its URL) or (``file``/``dir``, a path)."""
    kind = source_kind(source)
    if kind == "mip":
        match = _MIP_DOCUMENT.search(source)
        return "mip", source[:match.start()] if match else source
    if kind == "manifest":
        return "package.json" if source.split("?", 1)[0].endswith(".json") else "url", source
    if "://" in source:
        parsed = urllib.parse.urlparse(source)
        return ("pypi", f"{parsed.scheme}://{parsed.netloc}") if parsed.scheme != "file" else (
            "file", parsed.path)
    return ("dir" if kind == "dir" else "file"), source
