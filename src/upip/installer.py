"""The install and uninstall pipelines, from specs to a committed image.

    specs ─▶ sources ─▶ resolver (archives prefetched in parallel) ─▶ plan ─▶ transaction

Everything that can fail (lookups, downloads, hashes, archive checks, file
conflicts) fails before the transaction moves a single file into the image.
"""

from __future__ import annotations

import hashlib
import os
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from .atomic import write_atomic
from .dists import Distribution, read_distribution, read_document, read_project
from .errors import CorruptArchive, FileConflict, ImageError, NotInstalled, UpipError
from .fetch import STORE_NAME, Cache, Fetcher, default_cache_dir, sha256_hex
from .firmware import provided, shim, shims_needed, top_modules
from .http import HttpClient
from .image import Destination, Image
from .lock import Locked, LockedFile, LockError, Settings, dumps_lock, read_lock
from .portable import BOOT_FILES, CompileCheck, boot_files
from .records import DistRecord, FileRecord
from .report import Reporter
from .resolve import Finder, Provider, Requirement, Resolved, prune, resolve
from .shadow import shadowing
from .slotted import Slotted
from .sources import DOCUMENT_KINDS, Candidate, Source, make_source, source_kind
from .sources.local import DirectorySource
from .sources.mip import DEFAULT_MIP_INDEX, MipSource
from .sources.package_json import (
    SINGLE_FILE,
    FileRef,
    PackageDoc,
    expand,
    package_name,
    parse_document,
)
from .sources.pypi_json import DEFAULT_INDEX
from .specs import (
    ANY,
    MIP,
    PYPI,
    PYPI_DEP,
    Spec,
    aliases,
    normalize,
    parse_requirement,
    parse_spec,
    split_ref,
)
from .target import Profile, load_profile
from .workers import DaemonPool

if TYPE_CHECKING:
    from .compile import CompileOptions

DEFAULT_TARGET = Path("~/.micropython/lib")


# Plain slotted classes, not @dataclass (0.5 ms a class at every start): see
# upip.slotted. Each __init__ takes the fields in order, with their defaults;
# list defaults are fresh for each instance.
class Options(Slotted):
    __slots__ = ("index_url", "extra_index_urls", "find_links", "no_deps", "upgrade",
                 "force_reinstall", "force", "pre", "dry_run", "cache_dir", "no_cache",
                 "timeout", "retries", "jobs", "cert", "mpy", "mip_index", "target", "boot_files",
                 "proxy", "offline")
    index_url: str
    extra_index_urls: list[str]
    find_links: list[Path]
    no_deps: bool
    upgrade: bool
    force_reinstall: bool
    force: bool
    pre: bool
    dry_run: bool
    cache_dir: Path | None
    no_cache: bool
    timeout: float
    retries: int
    jobs: int
    cert: str | None  # CA bundle for TLS; default: the system's
    mpy: CompileOptions | None  # compile .py to .mpy on the way in
    mip_index: str | None  # the mip index bare names are looked up on first; None: none
    target: str | None  # the firmware's profile (upip.target); None: the default
    boot_files: bool  # install main.py, boot.py, usetup.py at the image root too
    proxy: str | None  # for every request; None: HTTP(S)_PROXY / NO_PROXY
    offline: bool  # no network: the download cache and the page cache only

    def __init__(self, index_url: str = DEFAULT_INDEX, extra_index_urls: list[str] | None = None,
                 find_links: list[Path] | None = None, no_deps: bool = False,
                 upgrade: bool = False, force_reinstall: bool = False, force: bool = False,
                 pre: bool = False, dry_run: bool = False, cache_dir: Path | None = None,
                 no_cache: bool = False, timeout: float = 15.0, retries: int = 3, jobs: int = 8,
                 cert: str | None = None, mpy: CompileOptions | None = None,
                 mip_index: str | None = "", target: str | None = None,
                 boot_files: bool = False, proxy: str | None = None,
                 offline: bool = False) -> None:
        self.index_url = index_url
        self.extra_index_urls = [] if extra_index_urls is None else extra_index_urls
        self.find_links = [] if find_links is None else find_links
        self.no_deps, self.upgrade, self.force_reinstall = no_deps, upgrade, force_reinstall
        self.force, self.pre, self.dry_run = force, pre, dry_run
        self.cache_dir, self.no_cache = cache_dir, no_cache
        self.timeout, self.retries, self.jobs = timeout, retries, jobs
        self.cert, self.mpy = cert, mpy
        self.mip_index = default_mip_index() if mip_index == "" else mip_index
        self.target, self.boot_files, self.proxy = target, boot_files, proxy
        self.offline = offline


def default_mip_index() -> str | None:
    """``UPIP_MIP_INDEX`` (``none`` or empty: no mip index), else micropython-lib's."""
    value = os.environ.get("UPIP_MIP_INDEX")
    if value is None:
        return DEFAULT_MIP_INDEX
    return None if value.strip().lower() in ("", "none", "off") else value.strip()


class Item(Slotted):
    __slots__ = ("name", "version", "source", "files", "requested")
    name: str
    version: str
    source: str
    files: int
    requested: bool

    def __init__(self, name: str, version: str, source: str = "", files: int = 0,
                 requested: bool = False) -> None:
        self.name, self.version, self.source = name, version, source
        self.files, self.requested = files, requested

    def __str__(self) -> str:
        return f"{self.name} {self.version}"

    @classmethod
    def of(cls, rec: DistRecord, requested: bool | None = None) -> Item:
        return cls(rec.name, rec.version, rec.source, len(rec.files),
                   rec.requested if requested is None else requested)


class InstallReport(Slotted):
    __slots__ = ("target", "dry_run", "installed", "removed", "unchanged", "skipped", "notes")
    target: Path | str  # the image (a board's: PORT:PATH)
    dry_run: bool
    installed: list[Item]
    removed: list[Item]  # old versions replaced or uninstalled
    unchanged: list[Item]
    skipped: list[Item]  # dependencies the firmware provides (upip.firmware)
    notes: list[str]

    def __init__(self, target: Path | str, dry_run: bool = False,
                 installed: list[Item] | None = None,
                 removed: list[Item] | None = None, unchanged: list[Item] | None = None,
                 skipped: list[Item] | None = None, notes: list[str] | None = None) -> None:
        self.target, self.dry_run = target, dry_run
        self.installed = [] if installed is None else installed
        self.removed = [] if removed is None else removed
        self.unchanged = [] if unchanged is None else unchanged
        self.skipped = [] if skipped is None else skipped
        self.notes = [] if notes is None else notes

    def as_json(self) -> dict[str, object]:
        def items(xs: list[Item]) -> list[dict[str, object]]:
            return [{"name": x.name, "version": x.version, "source": x.source,
                     "files": x.files, "requested": x.requested} for x in xs]
        return {"target": str(self.target), "dry_run": self.dry_run,
                "installed": items(self.installed), "removed": items(self.removed),
                "unchanged": items(self.unchanged), "skipped": items(self.skipped)}


class Loaded(NamedTuple):
    """A distribution as read from its archive, and the archive's sha256."""

    dist: Distribution
    sha256: str


class DistLoader:
    """Fetches and reads distributions once each, in the background on request."""

    def __init__(self, fetcher: Fetcher, executor: Executor, reporter: Reporter,
                 on_loaded: Callable[[Distribution], object] | None = None,
                 mip_index: str | None = None) -> None:
        self.fetcher, self.executor, self.reporter = fetcher, executor, reporter
        self.on_loaded = on_loaded  # called in the worker with every dist read
        self.mip_index = mip_index  # where a package.json's "hashes" point
        self.documents: dict[Candidate, bytes] = {}  # package.json documents read already
        self._lock = threading.Lock()
        self._futures: dict[Candidate, Future[Loaded]] = {}

    def _load(self, cand: Candidate) -> Loaded:
        if cand.kind in DOCUMENT_KINDS:
            loaded = load_document(cand, self.fetcher, self.mip_index, self.reporter,
                                   self.documents.get(cand))
            if self.on_loaded is not None:
                self.on_loaded(loaded.dist)
            return loaded
        data, sha = self.fetcher.fetch(cand)
        dist = read_distribution(cand.filename, data)
        try:
            same = Version(dist.version) == cand.version
        except InvalidVersion:
            same = False
        if normalize(dist.name) != cand.key or not same:
            self.reporter.warn(f"{cand.filename} calls itself {dist.name} {dist.version}; "
                               f"installing it as {cand}")
        if self.on_loaded is not None:
            self.on_loaded(dist)
        return Loaded(dist, sha)

    def submit(self, cand: Candidate) -> Future[Loaded]:
        with self._lock:
            fut = self._futures.get(cand)
            if fut is None:
                fut = self.executor.submit(self._load, cand)
                self._futures[cand] = fut
        return fut

    def preload(self, cand: Candidate, loaded: Loaded) -> None:
        fut: Future[Loaded] = Future()
        fut.set_result(loaded)
        with self._lock:
            self._futures[cand] = fut

    def get(self, cand: Candidate) -> Loaded:
        return self.submit(cand).result()


def load_document(cand: Candidate, fetcher: Fetcher, mip_index: str | None,
                  reporter: Reporter, body: bytes | None = None) -> Loaded:
    """A mip or package.json package, every file fetched and checked against
    the hash its index gives. Its sha256 is that of the document as fetched
    (a mip version's document lists every file's hash; the device client
    records the same). A ``.py``/``.mpy`` location is a package of one file."""
    if body is None:
        body = fetcher.document(cand.url, immutable=cand.kind == "mip"
                                and not cand.url.endswith("/latest.json"))
    sha = sha256_hex(body)
    index: str | None = cand.source
    location, ref = cand.url, None
    if cand.kind == "manifest":
        (location, ref), index = split_ref(cand.source), mip_index
    if location.endswith(SINGLE_FILE):
        dest = package_name(location) + "." + location.rsplit(".", 1)[1]
        doc = PackageDoc(cand.version_text, [FileRef(dest, cand.url, None)], [])
        dist = read_document(cand.name, cand.version_text, doc, lambda _: body, cand.url,
                             cand.kind)
        return Loaded(dist, sha)
    doc = parse_document(body, cand.url, index, location)
    if cand.kind == "mip" and doc.version and doc.version != cand.version_text:
        reporter.warn(f"{cand.url} says version {doc.version}; installing it as {cand}")
    doc = doc._replace(files=[f._replace(url=expand(f.url, ref)) for f in doc.files])
    dist = read_document(cand.name, cand.version_text, doc,
                         lambda f: fetcher.file(f, str(cand))[0], cand.url, cand.kind)
    unverified = [f.dest for f in doc.files if f.short_hash is None]
    if unverified:
        reporter.warn(f"{cand}: {len(unverified)} file(s) from {location} come without a hash "
                      "(a package.json gives none): installed as fetched, their sha256 "
                      "recorded")
    return Loaded(dist, sha)


def tree_sha256(files: dict[str, bytes]) -> str:
    """One sha256 for a set of files (a project directory, a bootstrap)."""
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.encode() + b"\0" + sha256_hex(files[path]).encode() + b"\n")
    return h.hexdigest()


def _candidate_for(dist: Distribution, kind: str, url: str, filename: str, source: str,
                   sha: str) -> Candidate:
    try:
        version = Version(dist.version)
    except InvalidVersion:
        raise CorruptArchive(filename, f"version {dist.version!r} is not PEP 440") from None
    return Candidate(dist.name, version, dist.version, kind, url, filename,  # type: ignore[arg-type]
                     source, sha)


def manifest_requirement(spec: Spec, fetcher: Fetcher, loader: DistLoader,
                         installed: Mapping[str, Candidate] | None = None) -> Requirement:
    """A package.json (or single-file) package: its document is read now, for
    its version (else the ref, else 0); its name is its folder's. When the
    image holds the same document from the same URL, that is the answer and
    no file is fetched."""
    if spec.path is not None:
        location = url = str(spec.path.resolve())
    else:
        assert spec.url is not None
        location, url = spec.url, expand(spec.url, spec.ref)
    body = fetcher.document(url)
    version_text = spec.ref or "0"
    if not location.endswith(SINGLE_FILE):
        doc = parse_document(body, url, loader.mip_index, location)
        version_text = doc.version or version_text
    try:
        version = Version(version_text)
    except InvalidVersion:  # a branch name: never "already installed"
        version = Version("0")
    source = f"{location}@{spec.ref}" if spec.ref else location
    cand = Candidate(package_name(location), version, version_text, "manifest", url,
                     url.rsplit("/", 1)[-1], source, sha256_hex(body))
    have = (installed or {}).get(cand.key)
    if have is not None and have.url == url and have.sha256 == cand.sha256:
        return Requirement(cand.name, direct=have, text=spec.text, family="")
    loader.documents[cand] = body
    return Requirement(cand.name, direct=cand, text=spec.text, family="")


def direct_requirement(spec: Spec, fetcher: Fetcher, loader: DistLoader,
                       installed: Mapping[str, Candidate] | None = None) -> Requirement:
    """Read a local archive, project directory, URL or package.json now: its
    name or version comes from inside."""
    if spec.manifest:
        return manifest_requirement(spec, fetcher, loader, installed)
    if spec.path is not None and spec.path.is_dir():
        dist = read_project(spec.path)
        sha = tree_sha256(dist.files)
        cand = _candidate_for(dist, "dir", str(spec.path.resolve()), spec.path.name,
                              str(spec.path), sha)
    else:
        if spec.path is not None:
            url, filename, source = str(spec.path.resolve()), spec.path.name, str(spec.path.parent)
        else:
            assert spec.url is not None
            url = spec.url
            filename = urllib.parse.unquote(urllib.parse.urlparse(url).path.rsplit("/", 1)[-1])
            source = url.split("#", 1)[0]
        probe = Candidate(spec.name or filename, Version("0"), "0", "sdist", url, filename, source)
        data, sha = fetcher.fetch(probe)
        dist = read_distribution(filename, data)
        kind = "wheel" if filename.endswith(".whl") else "sdist"
        cand = _candidate_for(dist, kind, url, filename, source, sha)
    if spec.name and normalize(spec.name) != cand.key:
        raise UpipError(f"{spec.text!r} asks for {spec.name} but the archive is {cand.name}")
    loader.preload(cand, Loaded(dist, sha))
    return Requirement(cand.name, extras=spec.extras, direct=cand, text=spec.text)


def installed_candidate(rec: DistRecord, root: Path | str) -> Candidate | None:
    try:
        version = Version(rec.version)
    except InvalidVersion:  # a package.json at a branch: known by its document's sha256
        if source_kind(rec.source) != "manifest":
            return None
        version = Version("0")
    return Candidate(rec.name, version, rec.version, "installed", rec.source, "", str(root),
                     rec.sha256)


class Session:
    """The I/O side of one install: sources, downloads, and a crawl ahead of
    the resolver, all on one pool of worker threads.

    resolvelib asks for one thing at a time; the crawl makes sure the answer
    is already on its way: once a project is found, its newest release in the
    range it was asked for starts downloading; once an archive is read, its
    dependencies are looked up. A guess the resolver does not take costs one
    small download.
    """

    def __init__(self, options: Options, reporter: Reporter,
                 installed: dict[str, Candidate], http: HttpClient | None = None) -> None:
        self.options, self.installed = options, installed
        cache_dir = None if options.no_cache else options.cache_dir or default_cache_dir()
        # a folder from upip download carries a cache of its own: read it too
        carried = [Path(d) / STORE_NAME for d in options.find_links
                   if (Path(d) / STORE_NAME).is_dir()]
        self.http = http or HttpClient(timeout=options.timeout, retries=options.retries,
                                       ca_file=options.cert, proxy=options.proxy,
                                       cache_dir=cache_dir, offline=options.offline,
                                       extra_caches=carried)
        keep = self.http.credentials.strip  # (a password in an index URL is never shown)
        cache = None if options.no_cache else Cache(options.cache_dir or default_cache_dir(),
                                                    reporter, carried)
        self.fetcher = Fetcher(self.http, cache, reporter)
        self.pool = DaemonPool(options.jobs)
        # a mip index serves the .mpy variant of --mpy's major version, if it has one
        variant = options.mpy.target.mpy.split(".")[0] if options.mpy else None
        sources: dict[str, list[Source]] = {MIP: [], PYPI: []}
        for location in (options.index_url, *options.extra_index_urls):
            family, source = make_source(keep(location), self.http, variant)
            sources[family].append(source)
        sources[PYPI] += [DirectorySource(Path(d)) for d in options.find_links]
        mip = keep(options.mip_index) if options.mip_index else None
        if mip and all(s.location != mip.rstrip("/") for s in sources[MIP]):
            sources[MIP].append(MipSource(mip, self.http, variant))
        self.finder = Finder(sources, reporter, self.pool, on_found=self._found)
        mip_index = sources[MIP][0].location if sources[MIP] else None
        self.loader = DistLoader(self.fetcher, self.pool, reporter, on_loaded=self._loaded,
                                 mip_index=mip_index)
        self._lock = threading.Lock()
        self._ranges: dict[str, list[SpecifierSet]] = {}  # what was asked of each project
        self._direct: dict[tuple[str, str | None], Future[Requirement]] = {}

    def direct(self, spec: Spec) -> Requirement:
        """The requirement for a spec given by location, read once per location
        (so a cycle of package.json dependencies ends)."""
        if spec.url:  # the records keep the URL: never with a password in it
            spec = spec._replace(url=self.http.credentials.strip(spec.url))
        key = (str(spec.path or spec.url), spec.ref)
        with self._lock:
            fut = self._direct.get(key)
            mine = fut is None
            if fut is None:
                fut = self._direct[key] = Future()
        if mine:
            try:
                fut.set_result(direct_requirement(spec, self.fetcher, self.loader,
                                                  {} if self.options.upgrade else self.installed))
            except BaseException as exc:
                fut.set_exception(exc)
        return fut.result()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)

    def want(self, spec: Spec) -> None:
        """Remember the range a project was asked for, before looking it up."""
        if spec.name is not None:
            with self._lock:
                for key in aliases(spec.name):
                    self._ranges.setdefault(key, []).append(spec.specifier)

    def _found(self, cands: list[Candidate]) -> None:
        key = cands[0].key
        if key in self.installed and not self.options.upgrade:
            return
        with self._lock:
            ranges = list(self._ranges.get(key, []))
        for cand in cands:
            if cand.yanked or (cand.version.is_prerelease and not self.options.pre):
                continue
            if all(r.contains(cand.version, prereleases=True) for r in ranges):
                self.loader.submit(cand)
                return

    def _loaded(self, dist: Distribution) -> None:
        if self.options.no_deps:
            return
        channel = ANY if dist.kind in DOCUMENT_KINDS else PYPI_DEP
        for text in dist.requires:
            try:
                spec = parse_requirement(text)
            except UpipError:
                continue  # a location, or reported when the resolver reads it
            if spec.name and spec.applies() and spec.key not in self.installed:
                self.want(spec)
                self.finder.submit(spec.name, channel)


class _Change(Slotted):  # not @dataclass: created at every start (upip.slotted)
    __slots__ = ("resolved", "loaded", "old", "files", "hashes")
    resolved: Resolved
    loaded: Loaded
    old: DistRecord | None
    files: dict[str, bytes]  # image path -> bytes
    hashes: dict[str, str]  # image path -> sha256

    def __init__(self, resolved: Resolved, loaded: Loaded, old: DistRecord | None,
                 files: dict[str, bytes] | None = None, hashes: dict[str, str] | None = None
                 ) -> None:
        self.resolved, self.loaded, self.old = resolved, loaded, old
        self.files = {} if files is None else files
        self.hashes = {} if hashes is None else hashes


def install(
    specs: list[Spec],
    target: Path = DEFAULT_TARGET,
    options: Options | None = None,
    reporter: Reporter | None = None,
    http: HttpClient | None = None,
) -> InstallReport:
    """Resolve ``specs``, fetch and verify everything, then commit it into ``target``
    (holding its lock from the reading of its records to the commit)."""
    options = options or Options()
    reporter = reporter or Reporter()
    profile = load_profile(options.target)
    with Image.for_change(target, reporter, options.dry_run) as image:
        return install_into(image, specs, options, reporter, http, profile)


def install_into(image: Destination, specs: list[Spec], options: Options, reporter: Reporter,
                 http: HttpClient | None, profile: Profile) -> InstallReport:
    """:func:`install` into an image already opened for a change (a board's,
    say), for the firmware ``profile``."""
    if not specs and options.upgrade:  # `install -U`: what the image was asked for
        specs = asked_for(image.records)
    installed: dict[str, Candidate] = {}
    if not options.force_reinstall:
        for key, rec in image.records.items():
            cand = installed_candidate(rec, image.root)
            if cand is not None and image.intact(key):
                installed[key] = cand
    with Session(options, reporter, installed, http) as session:
        report = InstallReport(image.root, options.dry_run)
        resolved, provider = choose(session, specs, image.records, options, reporter, profile,
                                    report)
        return apply(image, resolved, session.loader.get, options, reporter, profile, report,
                     provider.asked)


def asked_for(records: Mapping[str, DistRecord]) -> list[Spec]:
    """The specs an image's packages were asked for by (what ``install -U`` with
    no SPEC upgrades, within them): the records' ``want`` lines, else the name."""
    specs = []
    for rec in sorted(records.values(), key=lambda r: r.key):
        if rec.requested:
            for text in rec.wanted or [rec.name]:
                try:
                    specs.append(parse_spec(text, f"the records of {rec.name}"))
                except UpipError:
                    specs.append(parse_spec(rec.name, f"the records of {rec.name}"))
    return specs


def choose(session: Session, specs: list[Spec], records: Mapping[str, DistRecord],
           options: Options, reporter: Reporter, profile: Profile, report: InstallReport
           ) -> tuple[list[Resolved], Provider]:
    """What to install for ``specs``: resolved, then less what the firmware has
    or cannot run (:func:`runnable`). ``records``: what the image holds."""
    wanted = [s for s in specs if s.applies()]
    requirements = [session.direct(s) for s in wanted if s.path or s.url]
    named = [s for s in wanted if s.name and not (s.path or s.url)]

    def dependencies(cand: Candidate) -> list[str]:
        if cand.kind == "installed":
            return records[cand.key].requires
        return session.loader.get(cand).dist.requires

    provider = Provider(session.finder, dependencies, direct=session.direct,
                        installed=session.installed, upgrade=options.upgrade, pre=options.pre,
                        no_deps=options.no_deps, prefetch=session.loader.submit)
    for spec in named:
        session.want(spec)
    requirements += provider.named(named)
    provider.asked = {r.key: r.text for r in requirements}
    resolved = resolve(requirements, provider)
    check = CompileCheck(None if options.no_cache else
                         options.cache_dir or default_cache_dir(), options.jobs)
    resolved = runnable(resolved, provider, session.loader.get, profile, check, reporter,
                        report, warn_requested=options.mpy is None)
    return resolved, provider


def runnable(resolved: list[Resolved], provider: Provider, load: Callable[[Candidate], Loaded],
             profile: Profile, check: CompileCheck, reporter: Reporter,
             report: InstallReport, warn_requested: bool = True) -> list[Resolved]:
    """The resolved set less the dependencies that need not or cannot be
    installed, and less what only they pulled in: those the firmware provides
    (upip.firmware) and those whose code MicroPython's compiler rejects
    (upip.portable). A package the user asked for that does not compile is
    installed, with a warning (``warn_requested``: not when --mpy will stop
    at it anyway)."""
    by_key = {r.cand.key: r.cand for r in resolved}
    skipped = provided(resolved, lambda c: top_modules(load(c).dist.files), profile)
    failing: dict[str, list[tuple[str, str]]] = {}
    for res in resolved:
        if res.cand.kind in ("installed", "mip") or res.cand.key in skipped:
            continue
        if res.requested and not warn_requested:
            continue
        files = load(res.cand).dist.files
        bad = check.failures({p: d for p, d in files.items() if p not in BOOT_FILES})
        if bad and res.requested:
            reporter.warn(f"{res.cand}: {_compile_failures(bad)}; it will not import there")
        elif bad:
            failing[res.cand.key] = bad
    if check.unavailable:
        reporter.note(f"code not checked for MicroPython: {check.unavailable}")
    kept, left_out = prune(resolved, provider.edges, skipped.keys() | failing.keys())
    for key, modules in skipped.items():
        cand = by_key[key]
        report.skipped.append(Item(cand.name, cand.version_text, cand.url))
        reporter.note(f"{cand} skipped: the firmware ({profile.name}) has {', '.join(modules)} "
                      f"(needed by {provider.chain(provider.parents.get(key))})")
    for key, bad in failing.items():
        cand = by_key[key]
        report.skipped.append(Item(cand.name, cand.version_text, cand.url))
        reporter.warn(f"{cand} left out: {_compile_failures(bad)}, so it cannot run on "
                      f"MicroPython (needed by {provider.chain(provider.parents.get(key))})")
    for key, why in left_out.items():
        cand = by_key[key]
        report.skipped.append(Item(cand.name, cand.version_text, cand.url))
        reporter.note(f"{cand} skipped: only {by_key[why].name}, which was left out, needs it")
    return kept


def _compile_failures(bad: list[tuple[str, str]]) -> str:
    path, detail = bad[0]
    more = f" (and {len(bad) - 1} more file(s))" if len(bad) > 1 else ""
    return f"MicroPython's compiler rejects {path}: {detail}{more}"


def apply(image: Destination, resolved: list[Resolved], load: Callable[[Candidate], Loaded],
          options: Options, reporter: Reporter, profile: Profile | None = None,
          report: InstallReport | None = None, asked: Mapping[str, str] | None = None
          ) -> InstallReport:
    """Commit the resolved set into the image (``load`` gives each one's files;
    ``asked``: project key -> the spec it was asked for by, for the records)."""
    asked = asked or {}
    if options.mpy:  # only then: compiling is an optional stage
        from .compile import check_compatible, compile_files, compiled_paths
    profile = profile or load_profile(options.target)
    report = report or InstallReport(image.root, options.dry_run)
    records = dict(image.records)
    changes: list[_Change] = []
    for res in resolved:
        key = res.cand.key
        old = image.records.get(key)
        if res.cand.kind == "installed":
            assert old is not None
            report.unchanged.append(Item.of(old, old.requested or res.requested))
            wanted = [asked[key]] if key in asked else old.wanted
            if (res.requested and not old.requested) or wanted != old.wanted:
                records[key] = DistRecord(old.name, old.version, old.requested or res.requested,
                                          old.sha256, old.source, old.requires, old.files,
                                          wanted)
            continue
        loaded = load(res.cand)
        files = dict(loaded.dist.files)
        left = [] if options.boot_files else boot_files(files)
        for path in left:
            del files[path]
        paths = list(files)
        if options.mpy:
            paths = compiled_paths(paths)
        if (old is not None and not options.force_reinstall and old.sha256 == loaded.sha256
                and image.intact(key) and sorted(f.path for f in old.files) == sorted(paths)):
            report.unchanged.append(Item.of(old, old.requested or res.requested))
            continue
        if left:
            reporter.note(f"{res.cand}: left out {', '.join(left)}, which a board would run by "
                          "itself at start (--boot-files installs it)")
        if options.mpy:
            files = compile_files(files, options.mpy)
        hashes = {p: sha256_hex(d) for p, d in files.items()}
        changes.append(_Change(res, loaded, old, files, hashes))
    if options.mpy and changes:
        replacing = {c.old.key for c in changes if c.old is not None}
        existing = image.headers(replacing)
        for change in changes:
            check_compatible(change.files, existing, options.mpy.target.label)
    for change in changes:
        for member, why in change.loaded.dist.skipped:
            reporter.warn(f"{change.resolved.cand.filename}: skipped {member} ({why})")
        for shown, name in shadowing(change.files):
            reporter.warn(f"{change.resolved.cand} installs {shown}, which hides MicroPython's "
                          f"built-in {name} module")
    _keep_builtins_whole(image, changes, profile)
    puts, deletes = _plan_files(image, changes, options.force)
    for change in changes:
        cand, dist = change.resolved.cand, change.loaded.dist
        requested = change.resolved.requested or bool(change.old and change.old.requested)
        listed = [FileRecord(p, change.hashes[p], len(d))
                  for p, d in sorted(change.files.items())]
        wanted = [asked[cand.key]] if cand.key in asked else (
            change.old.wanted if change.old else [])
        records[cand.key] = DistRecord(cand.name, cand.version_text, requested,
                                       change.loaded.sha256, cand.url, list(dist.requires),
                                       listed, wanted)
        report.installed.append(Item(cand.name, cand.version_text, cand.url, len(listed),
                                     requested))
        if change.old is not None:
            report.removed.append(Item.of(change.old))
    if options.dry_run or (not changes and records == image.records):
        return report
    with image.transaction() as tx:
        for path, (data, _) in puts.items():
            tx.write(path, data)
        for path in deletes:
            tx.delete(path)
        tx.commit(records.values())
    image.records = records
    return report


def _keep_builtins_whole(image: Destination, changes: list[_Change], profile: Profile) -> None:
    """Give each package that extends a built-in's folder the ``__init__.py``
    that keeps the built-in importable (upip.firmware), when the image will
    have none."""
    changing = {c.resolved.cand.key for c in changes}
    final = {f.path for key, rec in image.records.items() if key not in changing
             for f in rec.files}
    final.update(p for c in changes for p in c.files)
    for name in shims_needed(final, profile.extensible):
        path, data = shim(name)
        for change in changes:
            if any(p.startswith(name + "/") for p in change.files):
                change.files[path] = data
                change.hashes[path] = sha256_hex(data)


def _plan_files(image: Destination, changes: list[_Change], force: bool
                ) -> tuple[dict[str, tuple[bytes, str]], list[str]]:
    """New files with their hashes, and old files to delete; conflicts raise."""
    replacing = {c.old.key for c in changes if c.old is not None}
    owners = image.owners()
    puts: dict[str, tuple[bytes, str]] = {}
    who: dict[str, Candidate] = {}
    for change in changes:
        cand = change.resolved.cand
        for path, data in change.files.items():
            sha = change.hashes[path]
            if path in puts and puts[path][1] != sha:
                raise FileConflict(path, [str(who[path]), str(cand)])
            puts[path], who[path] = (data, sha), cand
            kept = [k for k in owners.get(path, []) if k not in replacing]
            for key in kept:
                rec = image.records[key]
                theirs = next(f for f in rec.files if f.path == path)
                if theirs.sha256 != sha:
                    raise FileConflict(path, [str(cand), f"the installed {rec.name} {rec.version}"],
                                       "; uninstall one of them")
            if not owners.get(path) and not force and image.holds(path, sha) is False:
                raise ImageError(image.where(path), "exists but no installed package owns it "
                                 "(put there by hand or another tool?); move it away or pass "
                                 "--force")
    deletes = []
    for change in changes:
        if change.old is None:
            continue
        for f in change.old.files:
            others = [k for k in owners.get(f.path, []) if k not in replacing]
            if f.path not in puts and not others:
                deletes.append(f.path)
    return puts, deletes


def uninstall(names: list[str], target: Path = DEFAULT_TARGET,
              reporter: Reporter | None = None, dry_run: bool = False,
              profile: Profile | None = None) -> InstallReport:
    """Remove installed distributions and the files only they own. A package
    left extending a built-in's folder without its ``__init__`` is given the
    one that keeps the built-in whole (upip.firmware)."""
    reporter = reporter or Reporter()
    profile = profile or load_profile()
    with Image.for_change(target, reporter, dry_run) as image:
        return uninstall_from(image, names, reporter, dry_run, profile)


def uninstall_from(image: Destination, names: list[str], reporter: Reporter, dry_run: bool,
                   profile: Profile) -> InstallReport:
    """:func:`uninstall` from an image already opened for a change."""
    report = InstallReport(image.root, dry_run)
    gone: set[str] = set()
    for name in names:
        key = image.find(name)
        if key is None:
            raise NotInstalled(name, str(image.root), image.listing)
        if key != normalize(name):
            reporter.note(f"{name!r} is not installed; removing {key!r}")
        gone.add(key)
    records = {k: r for k, r in image.records.items() if k not in gone}
    kept_paths = {f.path for r in records.values() for f in r.files}
    puts: dict[str, bytes] = {}
    for name in shims_needed(kept_paths, profile.extensible):
        path, data = shim(name)
        puts[path] = data
        for key, rec in list(records.items()):
            if any(f.path.startswith(name + "/") for f in rec.files):
                records[key] = DistRecord(rec.name, rec.version, rec.requested, rec.sha256,
                                          rec.source, rec.requires,
                                          [*rec.files, FileRecord(path, sha256_hex(data),
                                                                  len(data))], rec.wanted)
        kept_paths.add(path)
    deletes = sorted({f.path for k in gone for f in image.records[k].files} - kept_paths)
    for key in sorted(gone):
        rec = image.records[key]
        report.removed.append(Item.of(rec))
    dependents = image.dependents()
    for key in sorted(gone):
        for rec, text in dependents.get(key, []):
            if rec.key not in gone:
                reporter.warn(f"{rec.name} {rec.version} requires {text}, which is now removed")
    if dry_run:
        return report
    with image.transaction() as tx:
        for path, data in puts.items():
            tx.write(path, data)
        for path in deletes:
            tx.delete(path)
        tx.commit(records.values())
    return report


# -- lock files ---------------------------------------------------------------------


def lock(specs: list[Spec], options: Options | None = None, reporter: Reporter | None = None,
         http: HttpClient | None = None) -> tuple[list[Locked], Settings]:
    """Resolve ``specs`` from scratch, as an install into an empty image would,
    and say what a lock must hold: every package with its source and sha256
    (each file's, for a mip or package.json package)."""
    options = options or Options()
    reporter = reporter or Reporter()
    profile = load_profile(options.target)
    with Session(options, reporter, {}, http) as session:
        report = InstallReport(Path("."), dry_run=True)
        resolved, provider = choose(session, specs, {}, options, reporter, profile, report)
        kept = {r.cand.key: r.cand.name for r in resolved}
        packages = []
        for res in resolved:
            cand = res.cand
            loaded = session.loader.get(cand)
            deps = tuple(sorted(kept[k] for k in provider.edges.get(cand, ()) if k in kept))
            files = tuple(LockedFile(path, url, sha256_hex(loaded.dist.files[path]))
                          for path, url in sorted(loaded.dist.origins.items()))
            kind = cand.kind if cand.kind != "installed" else source_kind(cand.url)
            index = cand.source if kind in ("sdist", "wheel", "mip") and "://" in cand.source \
                else ""
            wanted = (provider.asked[cand.key],) if cand.key in provider.asked else ()
            packages.append(Locked(cand.name, cand.version_text, kind, cand.url,
                                   cand.filename, loaded.sha256, index, files, deps,
                                   res.requested, wanted))
    mpy = options.mpy.target.mpy if options.mpy else None
    return packages, Settings(profile.name, mpy, tuple(s.text for s in specs))


def install_locked(path: Path, target: Path = DEFAULT_TARGET, options: Options | None = None,
                   reporter: Reporter | None = None, http: HttpClient | None = None
                   ) -> InstallReport:
    """Install exactly what the lock at ``path`` says, into ``target``: no
    resolution; every archive, document and file checked against the sha256
    the lock gives before anything lands."""
    options = options or Options()
    reporter = reporter or Reporter()
    packages, settings = read_lock(path)
    options = locked_options(options, settings, str(path))
    profile = load_profile(settings.target)
    with Image.for_change(target, reporter, options.dry_run) as image:
        return install_locked_into(image, packages, options, reporter, http, profile)


def locked_options(options: Options, settings: Settings, where: str) -> Options:
    """``options`` with the lock's target and .mpy version; a different one asked
    for on the command line is refused (that would not be the locked image)."""
    if options.target is not None and load_profile(options.target).name != settings.target:
        raise LockError(where, f"locked for the target {settings.target}, not "
                               f"{options.target}; install it with --target {settings.target} "
                               "or lock again")
    asked = options.mpy.target.mpy if options.mpy else None
    if options.mpy is not None and asked != settings.mpy:
        raise LockError(where, f"locked for {'mpy ' + settings.mpy if settings.mpy else 'sources'}"
                               f", not mpy {asked}; drop --mpy or lock again")
    if settings.mpy and options.mpy is None:
        from .compile import CompileOptions
        from .mpy import target as compile_target

        options.mpy = CompileOptions(compile_target(mpy_version=settings.mpy))
    options.target = settings.target
    return options


def install_locked_into(image: Destination, packages: list[Locked], options: Options,
                        reporter: Reporter, http: HttpClient | None, profile: Profile
                        ) -> InstallReport:
    with Session(options, reporter, {}, http) as session:
        loaded: dict[Candidate, Loaded] = {}
        resolved = []
        for p in packages:
            cand, load = locked_candidate(p, session.fetcher)
            loaded[cand] = load()
            resolved.append(Resolved(cand, p.requested))
        report = InstallReport(image.root, options.dry_run)
        asked = {normalize(p.name): p.wanted[0] for p in packages if p.wanted}
        return apply(image, resolved, loaded.__getitem__, options, reporter, profile, report,
                     asked)


def locked_candidate(p: Locked, fetcher: Fetcher) -> tuple[Candidate, Callable[[], Loaded]]:
    """The candidate a lock entry names, and how to load it, hash-checked."""
    try:
        version = Version(p.version)
    except InvalidVersion:
        version = Version("0")
    if p.kind == "dir":
        cand = Candidate(p.name, version, p.version, "dir", p.url, Path(p.url).name, p.url)

        def load_dir() -> Loaded:
            dist = read_project(Path(p.url))
            return Loaded(dist, tree_sha256(dist.files))
        return cand, load_dir
    kind = p.kind if p.kind in ("sdist", "wheel", "mip", "manifest") else "sdist"
    cand = Candidate(p.name, version, p.version, kind, p.url,  # type: ignore[arg-type]
                     p.filename or p.url.rsplit("/", 1)[-1], p.index_url or p.url, p.sha256)
    if kind not in DOCUMENT_KINDS:
        def load_archive() -> Loaded:
            data, sha = fetcher.fetch(cand)
            return Loaded(read_distribution(cand.filename, data), sha)
        return cand, load_archive

    def load_files() -> Loaded:
        body = fetcher.document(p.url, sha256=p.sha256)
        refs = [FileRef(f.path, f.url, f.sha256) for f in p.files]
        doc = PackageDoc(p.version, refs, [])
        try:  # the document's dependencies, for the records
            deps = parse_document(body, p.url, p.index_url or None, p.url).deps
            doc = doc._replace(deps=deps)
        except UpipError:
            pass
        dist = read_document(p.name, p.version, doc, lambda f: fetcher.file(f, str(cand))[0],
                             p.url, kind)
        return Loaded(dist, p.sha256)
    return cand, load_files


class SyncReport(Slotted):
    __slots__ = ("source", "target", "dry_run", "sent", "sent_bytes", "deleted", "installed",
                 "removed", "unchanged")
    source: Path
    target: Path | str
    dry_run: bool
    sent: list[str]  # files written (their sha256 differed, or they were missing)
    sent_bytes: int
    deleted: list[str]  # files the image no longer has, removed
    installed: list[Item]  # dists new or changed on the destination
    removed: list[Item]  # dists the destination had and the image has not
    unchanged: list[Item]

    def __init__(self, source: Path, target: Path | str, dry_run: bool = False) -> None:
        self.source, self.target, self.dry_run = source, target, dry_run
        self.sent, self.sent_bytes, self.deleted = [], 0, []
        self.installed, self.removed, self.unchanged = [], [], []

    def as_json(self) -> dict[str, object]:
        def items(xs: list[Item]) -> list[dict[str, object]]:
            return [{"name": x.name, "version": x.version, "files": x.files} for x in xs]
        return {"source": str(self.source), "target": str(self.target), "dry_run": self.dry_run,
                "sent": self.sent, "sent_bytes": self.sent_bytes, "deleted": self.deleted,
                "installed": items(self.installed), "removed": items(self.removed),
                "unchanged": items(self.unchanged)}


def sync(source: Image, dest: Destination, reporter: Reporter | None = None,
         dry_run: bool = False, force: bool = False) -> SyncReport:
    """Make ``dest`` (opened for a change) the image ``source`` is: the files
    whose sha256 differs there are written, the files of its records that
    ``source`` no longer has are deleted, and its records become
    ``source``'s, in one transaction. Only the files ``source``'s records own
    go; a file there that no package owns is refused unless ``force``, as
    an install does."""
    reporter = reporter or Reporter()
    report = SyncReport(source.root, dest.root, dry_run)
    wanted: dict[str, tuple[bytes, str]] = {}
    for rec in source.records.values():
        for f in rec.files:
            data = source.read(f.path)
            if sha256_hex(data) != f.sha256 or len(data) != f.size:
                raise ImageError(source.where(f.path), f"differs from what {rec.name} "
                                 f"{rec.version} installed; repair the image with upip install "
                                 f"-p {source.root} --force-reinstall {rec.name}")
            wanted[f.path] = (data, f.sha256)
    unowned = source.unowned()
    if unowned:
        reporter.note(f"{len(unowned)} file(s) of {source.root} that no package owns stay "
                      f"behind ({', '.join(unowned[:3])}{', ...' if len(unowned) > 3 else ''})")
    owned = dest.owners()
    puts = {}
    for path, (data, sha) in sorted(wanted.items()):
        there = dest.holds(path, sha)
        if there:
            continue
        if there is False and not owned.get(path) and not force:
            raise ImageError(dest.where(path), "exists but no installed package owns it (put "
                             "there by hand or another tool?); move it away or pass --force")
        puts[path] = data
    deletes = sorted(p for p in owned if p not in wanted)
    for key, rec in sorted(source.records.items()):
        old = dest.records.get(key)
        if old is not None and _same(old, rec):
            report.unchanged.append(Item.of(rec))
        else:
            report.installed.append(Item.of(rec))
            if old is not None and (old.version, old.sha256) != (rec.version, rec.sha256):
                report.removed.append(Item.of(old))
    report.removed += [Item.of(r) for k, r in sorted(dest.records.items())
                       if k not in source.records]
    report.sent, report.deleted = sorted(puts), deletes
    report.sent_bytes = sum(len(d) for d in puts.values())
    same = dest.records.keys() == source.records.keys() and all(
        _same(r, dest.records[k]) for k, r in source.records.items())
    if dry_run or (not puts and not deletes and same):
        return report
    with dest.transaction() as tx:
        for path, data in puts.items():
            tx.write(path, data)
        for path in deletes:
            tx.delete(path)
        tx.commit(source.records.values())
    dest.records = dict(source.records)
    return report


def _same(a: DistRecord, b: DistRecord) -> bool:
    """The same record, whatever order its files were written in."""
    def files(r: DistRecord) -> list[tuple[str, str, int]]:
        return sorted((f.path, f.sha256, f.size) for f in r.files)
    return ((a.name, a.version, a.requested, a.sha256, a.source, a.requires, files(a))
            == (b.name, b.version, b.requested, b.sha256, b.source, b.requires, files(b)))


def download(dest: Path, specs: list[Spec] | None = None, lock_path: Path | None = None,
             options: Options | None = None, reporter: Reporter | None = None
             ) -> tuple[list[Locked], Settings]:
    """Fill ``dest`` for a machine without network: each archive by its file
    name (for ``--find-links``), a cache of everything fetched, index pages
    included (``dest/.upip-cache``, read by ``--find-links dest``), and
    ``dest/pylock.toml``. Then, offline: ``upip install --find-links DEST
    --offline SPEC...`` (the same indexes) or ``--lock DEST/pylock.toml``."""
    options = options or Options()
    reporter = reporter or Reporter()
    options.cache_dir, options.no_cache = dest / STORE_NAME, False
    if lock_path is not None:
        packages, settings = read_lock(lock_path)
        options = locked_options(options, settings, str(lock_path))
    else:
        packages, settings = lock(specs or [], options, reporter)
    with Session(options, reporter, {}) as session:
        for p in packages:  # (each one hash-checked on its way into the cache)
            locked_candidate(p, session.fetcher)[1]()
            if p.kind in ("sdist", "wheel") and p.filename:
                data = session.fetcher.cache.get(p.sha256) if session.fetcher.cache else None
                if data is not None:
                    write_atomic(dest / p.filename, data)
    write_atomic(dest / "pylock.toml", dumps_lock(packages, settings).encode("utf-8"))
    return packages, settings


class Outdated(NamedTuple):
    name: str
    installed: str
    latest: str  # the newest release its source has ("" when it cannot tell)
    wanted: str  # the newest within what it was asked for by ("" likewise)
    source: str


def outdated(target: Path = DEFAULT_TARGET, options: Options | None = None,
             reporter: Reporter | None = None, http: HttpClient | None = None
             ) -> list[Outdated]:
    """Every installed package with the newest release its source has, and the
    newest within the specs it was asked for by (what ``install -U`` takes).
    A package.json or project folder has no index to ask: left blank."""
    options = options or Options()
    reporter = reporter or Reporter()
    image = Image.open(target, reporter, must_exist=True)
    recs = sorted(image.records.values(), key=lambda r: r.key)
    with Session(options, reporter, {}, http) as session:
        family = {rec.key: Candidate(rec.name, Version("0"), rec.version, "installed",
                                     rec.source, "", "").family for rec in recs}
        futures = {rec.key: session.pool.submit(session.finder.project, family[rec.key],
                                                rec.name)
                   for rec in recs if family[rec.key]}
        rows = []
        for rec in recs:
            cands = (futures[rec.key].result() or []) if rec.key in futures else []
            finals = [c for c in cands if not c.yanked and not c.version.is_prerelease]
            pool = finals or [c for c in cands if not c.yanked]
            ranges = [parse_spec(w, "records").specifier for w in rec.wanted
                      if _parses(w)]
            fit = [c for c in pool if all(r.contains(c.version, True) for r in ranges)]
            rows.append(Outdated(rec.name, rec.version,
                                 pool[0].version_text if pool else "",
                                 fit[0].version_text if fit else "", rec.source))
    return rows


def _parses(text: str) -> bool:
    try:
        parse_spec(text)
    except UpipError:
        return False
    return True
