"""Finding projects across upip's sources: what a name means, and its candidates.

The sources come in two families, mip indexes and PyPI-style ones (JSON API,
simple, directories); which family a name is looked up in, and whether as
``micropython-NAME`` too, is the rule of :func:`upip.specs.lookups`. Every
answer is fetched once, on the worker pool, and kept.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future
from typing import NamedTuple

from .errors import ProjectNotFound
from .report import Reporter
from .sources import Candidate, Source
from .specs import ANY, MIP, PYPI, lookups, normalize

FAMILY_LABEL = {MIP: "the mip index", PYPI: "PyPI"}


class Found(NamedTuple):
    """What a name turned out to mean: a project of one family of sources."""

    family: str  # MIP or PYPI
    name: str  # as the index spells it
    candidates: list[Candidate]  # newest first


class Finder:
    """Projects across the sources of two families, mip indexes and PyPI-style
    ones (JSON API, simple, directories); cached, thread-safe.

    What a name means (which family, ``micropython-`` or not) is the rule of
    :func:`upip.specs.lookups`; a note says when a bare name was found
    somewhere other than the first place it was looked for.
    """

    def __init__(self, sources: Mapping[str, Sequence[Source]], reporter: Reporter,
                 executor: Executor) -> None:
        self.sources = {family: list(found) for family, found in sources.items()}
        self.reporter = reporter
        self.executor = executor
        self._lock = threading.Lock()
        self._projects: dict[tuple[str, str], Future[list[Candidate] | None]] = {}
        self._names: dict[tuple[str, str], Future[Found]] = {}

    def _query(self, family: str, name: str) -> list[Candidate] | None:
        found: list[Candidate] | None = None
        seen = set()
        for source in self.sources.get(family, []):
            cands = source.candidates(name)
            if cands is None:
                continue
            found = found or []
            for cand in cands:  # earlier sources win for the same version
                if cand.version not in seen:
                    seen.add(cand.version)
                    found.append(cand)
        if found is not None:
            found.sort(key=lambda c: c.version, reverse=True)
        return found

    def project(self, family: str, name: str) -> list[Candidate] | None:
        """The candidates of exactly ``name`` on one family's sources (None: unknown)."""
        key = (family, normalize(name))
        with self._lock:
            fut = self._projects.get(key)
            if fut is None:
                fut = Future()
                self._projects[key] = fut
                mine = True
            else:
                mine = False
        if mine:
            try:
                fut.set_result(self._query(family, name))
            except BaseException as exc:
                fut.set_exception(exc)
        return fut.result()

    def _find(self, name: str, channel: str) -> Found:
        tried = lookups(name, channel, bool(self.sources.get(MIP)))
        for i, (family, candidate) in enumerate(tried):
            cands = self.project(family, candidate)
            if cands is None:
                continue
            name_found = cands[0].name if cands else candidate
            if channel == ANY:  # say what a bare name turned out to mean
                where = ", ".join(s.location for s in self.sources[family])
                missed = f" (no {self._places(tried[:i])})" if i else ""
                self.reporter.note(f"{name}: {name_found} from {FAMILY_LABEL[family]} "
                                   f"{where}{missed}")
            return Found(family, name_found, cands)
        raise ProjectNotFound(name, self._places(tried))

    def _places(self, tried: list[tuple[str, str]]) -> str:
        parts = []
        for family in (MIP, PYPI):
            names = [n for f, n in tried if f == family]
            if names:
                where = ", ".join(s.location for s in self.sources.get(family, [])) or "no index"
                parts.append(f"{' or '.join(repr(n) for n in names)} on "
                             f"{FAMILY_LABEL[family]} {where}")
        return ", nor ".join(parts)

    def submit(self, name: str, channel: str = ANY) -> Future[Found]:
        """Start finding what ``name`` means (once) and return the future answer."""
        key = (channel, normalize(name))
        with self._lock:
            fut = self._names.get(key)
            if fut is None:
                fut = self.executor.submit(self._find, name, channel)
                self._names[key] = fut
        return fut

    def find(self, name: str, channel: str = ANY) -> Found:
        return self.submit(name, channel).result()

    def find_many(self, wanted: Iterable[tuple[str, str]]) -> list[Found]:
        futures = [self.submit(n, c) for n, c in wanted]  # all in flight at once
        return [f.result() for f in futures]
