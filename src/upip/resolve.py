"""Resolution: resolvelib with a provider over upip's sources.

I/O comes in through two callables, so this module never touches the network
itself: ``lookup(name) -> (project name, candidates)`` (a :class:`Finder`) and
``dependencies(candidate) -> [requirement strings]``. ``prefetch`` is told the
candidate the resolver is most likely to pin next, so its archive can be
downloading while the resolver works on something else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future
from functools import cached_property
from typing import Any, NamedTuple

from packaging.specifiers import SpecifierSet
from resolvelib import AbstractProvider, BaseReporter, ResolutionImpossible, Resolver
from resolvelib.resolvers import ResolutionTooDeep

from .errors import NoMatchingVersion, ProjectNotFound, ResolutionConflict, UpipError
from .report import Reporter
from .sources import Candidate, Source
from .specs import MICROPYTHON_ENVIRONMENT, Spec, normalize, parse_requirement

# -- finding candidates across sources ------------------------------------------


class Finder:
    """Candidates of a project across all sources; cached, thread-safe.

    When a name is unknown everywhere and has no ``micropython-`` prefix, the
    prefixed name is tried (MicroPython's naming convention) and a note says so.
    """

    def __init__(self, sources: Sequence[Source], reporter: Reporter, executor: Executor,
                 on_found: Callable[[list[Candidate]], object] | None = None) -> None:
        self.sources = list(sources)
        self.reporter = reporter
        self.executor = executor
        self.on_found = on_found  # called in the worker with every project found
        self._lock = threading.Lock()
        self._futures: dict[str, Future[tuple[str, list[Candidate]]]] = {}

    def _query(self, name: str) -> list[Candidate] | None:
        found: list[Candidate] | None = None
        seen = set()
        for source in self.sources:
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

    def _lookup(self, name: str) -> tuple[str, list[Candidate]]:
        found = self._query(name)
        if found is None and not normalize(name).startswith("micropython-"):
            alias = "micropython-" + name
            found = self._query(alias)
            if found is not None:
                self.reporter.note(f"no project {name!r}; using {alias!r}")
                name = alias
        if found is None:
            tried = [name] if normalize(name).startswith("micropython-") else [
                name, "micropython-" + name]
            raise ProjectNotFound(name, [s.location for s in self.sources], tried)
        if found:
            name = found[0].name
            if self.on_found is not None:
                self.on_found(found)
        return name, found

    def submit(self, name: str) -> Future[tuple[str, list[Candidate]]]:
        """Start looking ``name`` up (once) and return the future answer."""
        key = normalize(name)
        with self._lock:
            fut = self._futures.get(key)
            if fut is None:
                fut = self.executor.submit(self._lookup, name)
                self._futures[key] = fut
        return fut

    def lookup(self, name: str) -> tuple[str, list[Candidate]]:
        return self.submit(name).result()

    def lookup_many(self, names: Iterable[str]) -> list[tuple[str, list[Candidate]]]:
        futures = [self.submit(n) for n in names]  # all in flight at once
        return [f.result() for f in futures]


# -- resolver entities ------------------------------------------------------------


# A NamedTuple, not @dataclass(frozen=True), which costs 0.8 ms of every start.
class _RequirementFields(NamedTuple):
    name: str
    specifier: SpecifierSet
    extras: frozenset[str]
    direct: Candidate | None  # a local archive, project dir or URL
    text: str


class Requirement(_RequirementFields):
    # No __slots__ = (): the instance __dict__ is where cached_property keeps pinned.

    # Here, not in the NamedTuple: each Requirement gets its own empty SpecifierSet.
    def __new__(cls, name: str, specifier: SpecifierSet | None = None,
                extras: frozenset[str] = frozenset(), direct: Candidate | None = None,
                text: str = "") -> Requirement:
        if specifier is None:
            specifier = SpecifierSet()
        return super().__new__(cls, name, specifier, extras, direct, text)

    @property
    def key(self) -> str:
        return normalize(self.name)

    @property
    def identifier(self) -> str:
        if self.extras:
            return f"{self.key}[{','.join(sorted(self.extras))}]"
        return self.key

    @cached_property
    def pinned(self) -> bool:
        """Whether the requirement names one exact version (asked each round: kept)."""
        specs = list(self.specifier)
        return len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version

    def __str__(self) -> str:
        return self.text or f"{self.name}{self.specifier}"


class Pick(NamedTuple):
    """A candidate as the resolver sees it: with the extras it was asked for."""

    cand: Candidate
    extras: frozenset[str] = frozenset()

    @property
    def identifier(self) -> str:
        if self.extras:
            return f"{self.cand.key}[{','.join(sorted(self.extras))}]"
        return self.cand.key


class Resolved(NamedTuple):
    """A pinned candidate, and whether it was asked for by name (not only as a dependency)."""

    cand: Candidate
    requested: bool


class Provider(AbstractProvider):  # type: ignore[type-arg]
    def __init__(
        self,
        finder: Finder,
        dependencies: Callable[[Candidate], list[str]],
        *,
        installed: Mapping[str, Candidate],
        upgrade: bool,
        pre: bool,
        no_deps: bool = False,
        prefetch: Callable[[Candidate], object] = lambda c: None,
        environment: Mapping[str, str] = MICROPYTHON_ENVIRONMENT,
    ) -> None:
        self.finder = finder
        self.dependencies = dependencies
        self.installed = installed
        self.upgrade = upgrade
        self.pre = pre
        self.no_deps = no_deps
        self.prefetch = prefetch
        self.environment = dict(environment)
        self.parents: dict[str, Candidate | None] = {}
        self._checked: dict[tuple[int, int], tuple[Requirement, Candidate, bool]] = {}

    def identify(self, requirement_or_candidate: Requirement | Pick) -> str:
        return requirement_or_candidate.identifier

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Pick],
        candidates: Mapping[str, Iterator[Pick]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> Any:
        # Asked for every open project in every round: kept lean.
        direct = pinned = False
        for info in information[identifier]:
            req = info.requirement
            direct = direct or req.direct is not None
            pinned = pinned or req.pinned
        blamed = any(c.requirement.identifier == identifier for c in backtrack_causes)
        return (not direct, not pinned, not blamed, identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Requirement]],
        incompatibilities: Mapping[str, Iterator[Pick]],
    ) -> Callable[[], Iterator[Pick]]:
        reqs = list(requirements[identifier])
        bad = {p.cand for p in incompatibilities[identifier]}
        # Lazy: an installed candidate that satisfies is offered before the
        # index is asked at all, so a re-install needs no network.
        return lambda: self._matches(reqs, bad)

    def _matches(self, reqs: list[Requirement], bad: set[Candidate]) -> Iterator[Pick]:
        extras = reqs[0].extras
        directs = {r.direct for r in reqs if r.direct is not None}
        allow_pre = self.pre or any(bool(r.specifier.prereleases) for r in reqs)
        exact = any(r.pinned for r in reqs)

        def ok(cand: Candidate) -> bool:
            if cand in bad or (cand.yanked and not exact):
                return False
            if not directs and cand.version.is_prerelease and not allow_pre:
                return False
            return all(self._satisfies(r, cand) for r in reqs)

        if len(directs) > 1:
            return
        if directs:
            yield from (Pick(c, extras) for c in directs if ok(c))
            return
        installed = self.installed.get(reqs[0].key)
        if installed is not None and not self.upgrade and ok(installed):
            yield Pick(installed, extras)
        _, pool = self.finder.lookup(reqs[0].name)
        first = True
        for cand in pool:
            if installed is not None and cand.version == installed.version:
                if self.upgrade and ok(installed):
                    yield Pick(installed, extras)
                continue
            if ok(cand):
                if first:
                    self.prefetch(cand)
                    first = False
                yield Pick(cand, extras)

    def _satisfies(self, req: Requirement, cand: Candidate) -> bool:
        # resolvelib re-checks every pin after each step; memoise by identity
        # (the objects are kept in the entry, so their ids stay theirs).
        hit = self._checked.get((id(req), id(cand)))
        if hit is not None:
            return hit[2]
        if req.direct is not None:
            ok = cand == req.direct
        else:
            ok = req.specifier.contains(cand.version, prereleases=True)
        self._checked[(id(req), id(cand))] = (req, cand, ok)
        return ok

    def is_satisfied_by(self, requirement: Requirement, candidate: Pick) -> bool:
        hit = self._checked.get((id(requirement), id(candidate.cand)))  # as _satisfies, inlined
        return hit[2] if hit is not None else self._satisfies(requirement, candidate.cand)

    def get_dependencies(self, candidate: Pick) -> list[Requirement]:
        cand = candidate.cand
        result: list[Requirement] = []
        if candidate.extras:  # "foo[x]" depends on exactly the "foo" it extends
            result.append(Requirement(cand.name, SpecifierSet(f"=={cand.version}"),
                                      text=f"{cand.name}=={cand.version}"))
        if self.no_deps:
            return result
        specs = []
        for text in self.dependencies(cand):
            spec = parse_requirement(text, origin=f"the requirements of {cand}")
            if self._wanted(spec, candidate.extras):
                specs.append(spec)
        for spec, name in zip(specs, self.project_names(s.name or "" for s in specs),
                              strict=True):
            req = Requirement(name, spec.specifier, spec.extras, text=requirement_text(spec))
            self.parents.setdefault(req.key, cand)
            result.append(req)
        return result

    def project_names(self, names: Iterable[str]) -> list[str]:
        """The index's name for each project (``micropython-`` added where needed).

        Installed projects answer from the image, without a lookup."""
        names = list(names)
        local = [self._installed_name(n) for n in names]
        remote = self.finder.lookup_many(n for n, have in zip(names, local, strict=True)
                                         if have is None)
        answers = iter(remote)
        return [have if have is not None else next(answers)[0] for have in local]

    def _installed_name(self, name: str) -> str | None:
        for key in (normalize(name), "micropython-" + normalize(name)):
            if key in self.installed:
                return self.installed[key].name
        return None

    def _wanted(self, spec: Spec, extras: frozenset[str]) -> bool:
        if spec.marker is None:
            return not extras  # unconditional deps belong to the base candidate
        env = self.environment
        if not extras:
            return spec.marker.evaluate({**env, "extra": ""})
        return any(spec.marker.evaluate({**env, "extra": e}) for e in extras) and not (
            spec.marker.evaluate({**env, "extra": ""}))

    def chain(self, cand: Candidate | None) -> str:
        parts, seen = [], set()
        while cand is not None and cand.key not in seen:
            seen.add(cand.key)
            parts.append(str(cand))
            cand = self.parents.get(cand.key)
        parts.append("requested")
        return " <- ".join(parts)


def requirement_text(spec: Spec) -> str:
    """The requirement as its author wrote it, without the marker."""
    return spec.text.split(";", 1)[0].strip()


class _Reporter(BaseReporter):  # type: ignore[type-arg]
    pass


def resolve(
    requirements: list[Requirement],
    provider: Provider,
    max_rounds: int = 20000,
) -> list[Resolved]:
    """Pin one candidate per project; raise an UpipError naming who wants what."""
    for req in requirements:
        provider.parents[req.key] = None
    resolver: Resolver[Requirement, Pick, str] = Resolver(provider, _Reporter())
    try:
        result = resolver.resolve(requirements, max_rounds=max_rounds)
    except ResolutionImpossible as exc:
        raise _explain(exc.causes, provider) from None
    except ResolutionTooDeep:
        raise UpipError(
            f"no consistent set of versions found after {max_rounds} steps; "
            "pin some versions to help the resolver") from None
    requested = {r.key for r in requirements}
    picks = [p for p in result.mapping.values() if not p.extras]
    return [Resolved(p.cand, p.cand.key in requested) for p in picks]


def _explain(causes: Iterable[Any], provider: Provider) -> UpipError:
    causes = list(causes)
    first = causes[0].requirement
    group = [c for c in causes if c.requirement.key == first.key]
    if len({str(c.requirement) for c in group}) == 1:
        req = first
        try:
            _, pool = provider.finder.lookup(req.name)
        except UpipError as exc:
            return exc
        versions = [c.version_text for c in sorted(pool, key=lambda c: c.version)]
        why = ""
        if pool and all(c.yanked for c in pool if req.specifier.contains(c.version, True)):
            why = "matching releases are yanked"
        elif any(c.version.is_prerelease and req.specifier.contains(c.version, True) for c in pool):
            why = "only pre-releases match: pass --pre"
        parent = group[0].parent
        label = str(req) if parent is None else f"{req} (from {provider.chain(parent.cand)})"
        return NoMatchingVersion(label, versions, why)
    demands = []
    for info in group:
        who = "requested" if info.parent is None else provider.chain(info.parent.cand)
        demands.append(f"{info.requirement} ({who})")
    return ResolutionConflict(first.name, demands)
