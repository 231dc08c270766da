"""The I/O side of an install: sources, downloads and the crawl ahead of the
resolver (:class:`Session`), and the requirements read from a location (a
project folder, an archive, a package.json) rather than an index.

    Session ─▶ Finder (upip.finder: what a name means, its candidates)
            ─▶ DistLoader (each chosen archive or document, fetched and read once)
            ─▶ Crawl (the resolver's lookups, each chained to the next prefetch)
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import urllib.parse
from collections.abc import Iterable, Mapping
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any, NamedTuple

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from .dists import Distribution, read_distribution, read_document, read_project
from .errors import CorruptArchive, UpipError
from .fetch import STORE_NAME, Cache, Fetcher, default_cache_dir, sha256_hex
from .finder import Finder, Found
from .http import HttpClient
from .options import Options
from .portable import CompileCheck
from .records import DistRecord
from .report import Reporter
from .resolve import Requirement
from .sources import DOCUMENT_KINDS, Candidate, Source, make_source, source_kind
from .sources.local import DirectorySource
from .sources.mip import MipSource
from .sources.package_json import (
    SINGLE_FILE,
    FileRef,
    PackageDoc,
    expand,
    package_name,
    parse_document,
)
from .specs import (
    ANY,
    MIP,
    PYPI,
    PYPI_DEP,
    Spec,
    aliases,
    normalize,
    parse_requirement,
    split_ref,
)
from .workers import DaemonPool


class Loaded(NamedTuple):
    """A distribution as read from its archive, and the archive's sha256."""

    dist: Distribution
    sha256: str


class DistLoader:
    """Fetches and reads distributions once each, in the background on request."""

    def __init__(self, fetcher: Fetcher, executor: Executor, reporter: Reporter,
                 mip_index: str | None = None) -> None:
        self.fetcher, self.executor, self.reporter = fetcher, executor, reporter
        self.mip_index = mip_index  # where a package.json's "hashes" point
        self.documents: dict[Candidate, bytes] = {}  # package.json documents read already
        self._lock = threading.Lock()
        self._futures: dict[Candidate, Future[Loaded]] = {}

    def _load(self, cand: Candidate) -> Loaded:
        if cand.kind in DOCUMENT_KINDS:
            return load_document(cand, self.fetcher, self.mip_index, self.reporter,
                                 self.documents.get(cand))
        data, sha = self.fetcher.fetch(cand)
        dist = read_distribution(cand.filename, data)
        try:
            same = Version(dist.version) == cand.version
        except InvalidVersion:
            same = False
        if normalize(dist.name) != cand.key or not same:
            self.reporter.warn(f"{cand.filename} calls itself {dist.name} {dist.version}; "
                               f"installing it as {cand}")
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
    the resolver (:class:`Crawl`), all on one pool of worker threads."""

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
                                       extra_caches=carried, connections=options.jobs)
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
        self.finder = Finder(sources, reporter, self.pool)
        mip_index = sources[MIP][0].location if sources[MIP] else None
        self.loader = DistLoader(self.fetcher, self.pool, reporter, mip_index=mip_index)
        self.check = CompileCheck(cache_dir, options.jobs)
        self.crawl = Crawl(self.finder, self.loader, installed, options, self.check)
        self._lock = threading.Lock()
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
        self.check.close()



class Crawl:
    """The crawl ahead of the resolver, which asks for one thing at a time:
    the crawl makes sure the answer is already on its way. Once a project is
    found, its newest release in the range it was asked for starts
    downloading; once an archive is read, its dependencies are looked up. A
    guess the resolver does not take costs one small download.

    It is what the resolver looks projects up through (upip.resolve.Lookup).
    The finder and the loader know nothing of it: it asks them, and chains
    its next step on the futures they answer with (run by the worker that
    sets the answer)."""

    def __init__(self, finder: Finder, loader: DistLoader, installed: Mapping[str, Candidate],
                 options: Options, check: CompileCheck) -> None:
        self.finder, self.loader, self.installed, self.check = finder, loader, installed, check
        self.upgrade, self.pre, self.no_deps = options.upgrade, options.pre, options.no_deps
        self._lock = threading.Lock()
        self._ranges: dict[str, list[SpecifierSet]] = {}  # what was asked of each project
        self._chained: set[Future[Any]] = set()

    def want(self, spec: Spec) -> None:
        """Remember the range a project was asked for, before looking it up."""
        if spec.name is not None:
            with self._lock:
                for key in aliases(spec.name):
                    self._ranges.setdefault(key, []).append(spec.specifier)

    def project(self, family: str, name: str) -> list[Candidate] | None:
        return self.finder.project(family, name)

    def find(self, name: str, channel: str = ANY) -> Future[Found]:
        fut = self.finder.submit(name, channel)
        if self._first(fut):
            fut.add_done_callback(self._found)
        return fut

    def find_many(self, wanted: Iterable[tuple[str, str]]) -> list[Found]:
        futures = [self.find(name, channel) for name, channel in wanted]  # all in flight
        return [f.result() for f in futures]

    def load(self, cand: Candidate) -> Future[Loaded]:
        fut = self.loader.submit(cand)
        if self._first(fut):
            fut.add_done_callback(self._loaded)
        return fut

    def get(self, cand: Candidate) -> Loaded:
        return self.load(cand).result()

    def _first(self, fut: Future[Any]) -> bool:
        with self._lock:
            if fut in self._chained:
                return False
            self._chained.add(fut)
            return True

    # The next steps never raise: an error is the resolver's to report when it
    # asks, and a session that has ended takes no more work.

    def _found(self, fut: Future[Found]) -> None:
        if fut.cancelled() or fut.exception() is not None:
            return
        cands = fut.result().candidates
        if not cands or (cands[0].key in self.installed and not self.upgrade):
            return
        with self._lock:
            ranges = list(self._ranges.get(cands[0].key, []))
        for cand in cands:
            if cand.yanked or (cand.version.is_prerelease and not self.pre):
                continue
            if all(r.contains(cand.version, prereleases=True) for r in ranges):
                with contextlib.suppress(RuntimeError):  # (the session has ended)
                    self.load(cand)
                return

    def _loaded(self, fut: Future[Loaded]) -> None:
        if fut.cancelled() or fut.exception() is not None:
            return
        dist = fut.result().dist
        with contextlib.suppress(RuntimeError):  # (the session has ended)
            self.check.start(dist.files, dist.kind)
        if self.no_deps:
            return
        channel = ANY if dist.kind in DOCUMENT_KINDS else PYPI_DEP
        for text in dist.requires:
            try:
                spec = parse_requirement(text)
            except UpipError:
                continue  # a location, or reported when the resolver reads it
            if spec.name and spec.applies() and spec.key not in self.installed:
                self.want(spec)
                with contextlib.suppress(RuntimeError):  # (the session has ended)
                    self.find(spec.name, channel)
