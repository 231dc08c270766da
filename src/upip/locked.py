"""Reproducible images: ``upip lock`` (what specs resolve to, as a PEP 751
lock: upip.lock writes and reads the file), ``install --lock`` (exactly
that, every hash checked), and ``upip download`` (all of it into a folder, for
a machine without network)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from packaging.version import InvalidVersion, Version

from .atomic import write_atomic
from .dists import read_distribution, read_document, read_project
from .errors import UpipError
from .fetch import STORE_NAME, Fetcher, sha256_hex
from .http import HttpClient
from .image import Destination, Image
from .installer import apply, choose
from .lock import Locked, LockedFile, LockError, Settings, dumps_lock, read_lock
from .options import DEFAULT_TARGET, Options
from .report import Reporter
from .resolve import Resolved
from .results import InstallReport
from .session import Loaded, Session, tree_sha256
from .sources import DOCUMENT_KINDS, Candidate, source_kind
from .sources.package_json import FileRef, PackageDoc, parse_document
from .specs import Spec, normalize
from .target import Profile, load_profile


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
