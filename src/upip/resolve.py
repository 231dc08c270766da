"""Resolution: resolvelib with a provider over upip's sources.

I/O comes in through a :class:`Lookup` (upip.session's crawl, over
upip.finder) and three callables, so this module never touches the network
itself:
``dependencies(candidate) -> [requirement strings]``, ``direct(spec) ->
Requirement`` for a dependency given by location (a package.json URL), and
``prefetch``, told the candidate the resolver is most likely to pin next, so
its files can be downloading while the resolver works on something else.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any, NamedTuple, Protocol

from packaging.specifiers import SpecifierSet
from resolvelib import AbstractProvider, BaseReporter, ResolutionImpossible, Resolver
from resolvelib.resolvers import ResolutionTooDeep

from .errors import NoMatchingVersion, ResolutionConflict, UpipError
from .finder import FAMILY_LABEL, Found
from .sources import Candidate
from .specs import (
    ANY,
    MICROPYTHON_ENVIRONMENT,
    MIP,
    PYPI,
    PYPI_DEP,
    Spec,
    aliases,
    is_remote,
    normalize,
    parse_requirement,
    parse_spec,
)


class Lookup(Protocol):
    """What the resolver asks of the sources."""

    def project(self, family: str, name: str) -> list[Candidate] | None:
        """The candidates of exactly ``name`` on one family's sources, newest
        first (None: unknown there)."""

    def find_many(self, wanted: Iterable[tuple[str, str]]) -> list[Found]:
        """What each (name, channel) means, looked up all at once."""


# -- resolver entities ------------------------------------------------------------


class _RequirementFields(NamedTuple):
    name: str
    specifier: SpecifierSet
    extras: frozenset[str]
    direct: Candidate | None  # a local archive, project dir, URL or package.json
    text: str
    family: str  # MIP or PYPI: where the project was found ("" for a direct one)


class Requirement(_RequirementFields):
    # No __slots__ = (): the instance __dict__ is where cached_property keeps pinned.

    # Here, not in the NamedTuple: each Requirement gets its own empty SpecifierSet.
    def __new__(cls, name: str, specifier: SpecifierSet | None = None,
                extras: frozenset[str] = frozenset(), direct: Candidate | None = None,
                text: str = "", family: str = PYPI) -> Requirement:
        if specifier is None:
            specifier = SpecifierSet()
        return super().__new__(cls, name, specifier, extras, direct, text, family)

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
        finder: Lookup,
        dependencies: Callable[[Candidate], list[str]],
        *,
        direct: Callable[[Spec], Requirement],
        installed: Mapping[str, Candidate],
        upgrade: bool,
        pre: bool,
        no_deps: bool = False,
        prefetch: Callable[[Candidate], object] = lambda c: None,
        environment: Mapping[str, str] = MICROPYTHON_ENVIRONMENT,
    ) -> None:
        self.finder = finder
        self.dependencies = dependencies
        self.direct = direct  # a dependency given by location (a package.json URL)
        self.installed = installed
        self.upgrade = upgrade
        self.pre = pre
        self.no_deps = no_deps
        self.prefetch = prefetch
        self.environment = dict(environment)
        self.parents: dict[str, Candidate | None] = {}
        self.edges: dict[Candidate, set[str]] = {}  # candidate -> keys of its dependencies
        self.late: set[str] = set()  # projects to pin after the others (see _straight)
        self.asked: dict[str, str] = {}  # key -> the spec a root requirement was asked by
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
        return (not direct, not pinned, identifier in self.late, not blamed, identifier)

    def narrow_requirement_selection(
        self,
        identifiers: Iterable[str],
        resolutions: Mapping[str, Pick],
        candidates: Mapping[str, Iterator[Pick]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> Iterable[str]:
        # The one get_preference would choose, in one pass: resolvelib would
        # otherwise ask for every open project's preference in every round
        # (124 projects: 7,700 calls, each wrapping the state anew).
        best = min((self.get_preference(i, resolutions, candidates, information,
                                         backtrack_causes), i) for i in identifiers)
        return [best[1]]

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Requirement]],
        incompatibilities: Mapping[str, Iterator[Pick]],
    ) -> Callable[[], Iterator[Pick]]:
        reqs = list(requirements[identifier])
        # By identity: candidates are the finder's own objects, one per release,
        # and resolvelib may list the same one many times after backtracking
        # (hashing them was most of a 1,000-project resolution with conflicts).
        bad = {id(p.cand) for p in incompatibilities[identifier]}
        # Lazy: an installed candidate that satisfies is offered before the
        # index is asked at all, so a re-install needs no network.
        return lambda: self._matches(reqs, bad)

    def _matches(self, reqs: list[Requirement], bad: set[int]) -> Iterator[Pick]:
        extras = reqs[0].extras
        directs = {r.direct for r in reqs if r.direct is not None}
        allow_pre = self.pre or any(bool(r.specifier.prereleases) for r in reqs)
        exact = any(r.pinned for r in reqs)

        def ok(cand: Candidate) -> bool:
            if id(cand) in bad or (cand.yanked and not exact):
                return False
            return all(self._satisfies(r, cand) for r in reqs)

        if len(directs) > 1:
            return
        if directs:
            yield from (Pick(c, extras) for c in directs if ok(c))
            return
        installed = self.installed.get(reqs[0].key)
        offered = False
        if installed is not None and not self.upgrade and ok(installed):
            offered = True
            yield Pick(installed, extras)
        pool = self.finder.project(reqs[0].family, reqs[0].name) or []
        first = True
        pres: list[Candidate] = []  # PEP 440: taken only when no final release matches
        for cand in pool:
            if installed is not None and cand.version == installed.version:
                if self.upgrade and ok(installed):
                    offered = True
                    yield Pick(installed, extras)
                continue
            if cand.version.is_prerelease and not allow_pre:
                pres.append(cand)
                continue
            if ok(cand):
                if first:
                    self.prefetch(cand)
                    first = False
                offered = True
                yield Pick(cand, extras)
        if offered or any(not c.version.is_prerelease and all(
                self._satisfies(r, c) for r in reqs) for c in pool):
            return
        for cand in pres:
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
            ok = (req.specifier.contains(cand.version, prereleases=True)
                  and cand.family in (req.family, ""))
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
                                      text=f"{cand.name}=={cand.version}", family=cand.family))
        if self.no_deps:
            return result
        # A mip or package.json package means its dependencies' names as a
        # user would; a PyPI package means PyPI's.
        channel = ANY if cand.family == MIP or not cand.family else PYPI_DEP
        origin = f"the requirements of {cand}"
        try:
            texts = self.dependencies(cand)
        except UpipError as exc:  # it could not be read: say who wanted it
            parent = self.parents.get(cand.key)
            if parent is None:
                raise
            raise UpipError(f"{exc} (needed by {self.chain(parent)})") from exc
        specs = []
        for text in texts:
            if is_remote(text):
                req = self.direct(parse_spec(text, origin))
                self.parents.setdefault(req.key, cand)
                result.append(req)
                continue
            spec = parse_requirement(text, origin=origin)
            if self._wanted(spec, candidate.extras):
                specs.append(spec._replace(channel=channel))
        for req in self.named(specs):
            self.parents.setdefault(req.key, cand)
            result.append(req)
        self.edges[cand] = {r.key for r in result}
        return result

    def named(self, specs: list[Spec]) -> list[Requirement]:
        """Requirements for named specs, each name found as its channel says.

        Installed projects answer from the image, without a lookup."""
        local = [self._installed(s) for s in specs]
        found = iter(self.finder.find_many(
            (s.name or "", s.channel) for s, have in zip(specs, local, strict=True)
            if have is None))
        out = []
        for spec, have in zip(specs, local, strict=True):
            if have is not None:
                name, family = have.name, have.family
            else:
                answer = next(found)
                name, family = answer.name, answer.family
            out.append(Requirement(name, spec.specifier, spec.extras,
                                   text=requirement_text(spec), family=family or PYPI))
        return out

    def _installed(self, spec: Spec) -> Candidate | None:
        want = {MIP: MIP, ANY: ""}.get(spec.channel, PYPI)
        for key in aliases(spec.name or ""):
            have = self.installed.get(key)
            if have is not None and (not want or have.family in (want, "")):
                return have
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
    """Pin one candidate per project; raise an UpipError naming who wants what.

    Most installs have nothing to untangle: :func:`_straight` pins them in one
    pass. resolvelib, which re-checks every pin in every round (quadratic in
    the projects: 124 of micropython-lib's took it 60 ms), runs when a later
    requirement rejects an earlier pin. Either way the answer is in project
    order."""
    for req in requirements:
        provider.parents[req.key] = None
    requested = {r.key for r in requirements}
    picks = _straight(requirements, provider)
    if picks is None and provider.late:
        picks = _straight(requirements, provider, frozenset(provider.late))
    if picks is None:
        resolver: Resolver[Requirement, Pick, str] = Resolver(provider, _Reporter())
        try:
            result = resolver.resolve(requirements, max_rounds=max_rounds)
        except ResolutionImpossible as exc:
            raise _explain(exc.causes, provider) from None
        except ResolutionTooDeep:
            raise UpipError(
                f"no consistent set of versions found after {max_rounds} steps; "
                "pin some versions to help the resolver") from None
        picks = list(result.mapping.values())
    return sorted((Resolved(p.cand, p.cand.key in requested) for p in picks if not p.extras),
                  key=lambda r: r.cand.key)


def _straight(requirements: list[Requirement], provider: Provider,
              late: frozenset[str] = frozenset()) -> list[Pick] | None:
    """The resolution when no requirement conflicts with a pin made before it:
    each project pinned, in the order met, to the first candidate the
    requirements met so far allow; None when one does not fit.

    When it succeeds it is resolvelib's answer too: a pin is the best
    candidate for the requirements it was chosen by, and it satisfies every
    later one, so no better candidate satisfies them all.

    When a later requirement rejects a pin, the project whose dependency made
    that pin is noted as one to pin late (``provider.late``), and the pass
    goes on to find the others. A second pass (``late`` given) pins those
    projects after all the rest, each to the first candidate whose
    dependencies the pins made so far accept, as resolvelib would when it
    pins them last: a conflict such as "g 2.0 needs k>=2, h needs k<2" then
    ends in g 1.x without a backtrack."""
    pins: dict[str, Pick] = {}
    wanted: dict[str, list[Requirement]] = {}
    pinned_by: dict[str, str] = {}  # identifier -> the parent whose requirement pinned it
    queue: deque[tuple[Requirement, str]] = deque((r, "") for r in requirements)
    deferred: deque[tuple[Requirement, str]] = deque()
    fits = True
    while queue or deferred:
        if not queue:
            queue.append(deferred.popleft())
        req, parent = queue.popleft()
        ident = req.identifier
        pin = pins.get(ident)
        if pin is None and ident in late and queue:
            deferred.append((req, parent))  # (its requirement counts when it is pinned)
            continue
        wanted.setdefault(ident, []).append(req)
        if pin is not None:
            if not provider.is_satisfied_by(req, pin):
                fits = False
                if pinned_by.get(ident):
                    provider.late.add(pinned_by[ident])
            continue
        matches = provider.find_matches(ident, {ident: iter(wanted[ident])}, {ident: iter(())})
        for pick in matches():
            deps = provider.get_dependencies(pick)
            if ident not in late or all(d.identifier not in pins
                                        or provider.is_satisfied_by(d, pins[d.identifier])
                                        for d in deps):
                break
        else:
            return None
        pins[ident], pinned_by[ident] = pick, parent
        queue.extend((dep, ident) for dep in deps)
    return list(pins.values()) if fits else None


def _explain(causes: Iterable[Any], provider: Provider) -> UpipError:
    causes = list(causes)
    first = causes[0].requirement
    group = [c for c in causes if c.requirement.key == first.key]
    if len({str(c.requirement) for c in group}) == 1:
        req = first
        try:
            pool = provider.finder.project(req.family, req.name) or []
        except UpipError as exc:
            return exc
        versions = [c.version_text for c in sorted(pool, key=lambda c: c.version)]
        matching = [c for c in pool if req.specifier.contains(c.version, True)]
        why = "matching releases are yanked" if matching and all(c.yanked for c in matching) else ""
        if not pool:
            why = ("it has no sdist and no pure-Python wheel: only code built for CPython, which "
                   "cannot run on MicroPython")
        parent = group[0].parent
        label = str(req) if parent is None else f"{req} (from {provider.chain(parent.cand)})"
        return NoMatchingVersion(label, versions, why)
    demands = []
    families = {c.requirement.family for c in group}
    for info in group:
        who = "requested" if info.parent is None else provider.chain(info.parent.cand)
        where = f", from {FAMILY_LABEL.get(info.requirement.family, 'its URL')}" if len(
            families) > 1 else ""
        demands.append(f"{info.requirement} ({who}{where})")
    return ResolutionConflict(first.name, demands)
