"""Where candidates come from: one module per index protocol, one record.

Every source answers :meth:`Source.candidates` with the installable
:class:`Candidate` list of a project (one per version: a pure-Python wheel when
the release has one, else its sdist), or ``None`` when it does not know the
project at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NamedTuple, Protocol

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from ..specs import normalize

Kind = Literal["sdist", "wheel", "dir", "installed"]


class Candidate(NamedTuple):
    """One installable release of one project, whatever the source.

    A NamedTuple (created at every start; @dataclass(frozen=True) costs 0.8 ms):
    equal and hashed over all fields in order, as the frozen dataclass was.
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

    def __str__(self) -> str:
        return f"{self.name} {self.version_text}"


class Source(Protocol):
    location: str

    def candidates(self, name: str) -> list[Candidate] | None: ...


def is_pure_wheel(filename: str) -> bool:
    """``py3-none-any`` style: runs anywhere there is a Python 3."""
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
