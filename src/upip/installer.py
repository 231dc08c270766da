"""The install and uninstall pipelines, from specs to a committed image.

    specs ─▶ session (sources, downloads) ─▶ resolver ─▶ runnable ─▶ image.plan ─▶ transaction

Everything that can fail (lookups, downloads, hashes, archive checks, file
conflicts) fails before the transaction moves a single file into the image.
The installer only orchestrates: the session fetches (upip.session), the
resolver picks (upip.resolve), the image plans (upip.image.Destination.plan)
and its transaction writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from .errors import NotInstalled, UpipError
from .fetch import sha256_hex
from .fields import Record, field
from .firmware import provided, prune, shim, shims_needed, top_modules
from .http import HttpClient
from .image import Change, Destination, Image
from .options import DEFAULT_TARGET, Options
from .portable import CompileCheck, boot_files
from .records import DistRecord, FileRecord
from .report import Reporter
from .resolve import Provider, Resolved, resolve
from .results import InstallReport, Item
from .session import Loaded, Session, installed_candidate
from .shadow import shadowing
from .sources import Candidate
from .specs import Spec, normalize, parse_spec
from .target import Profile, load_profile


class _Change(Record):
    resolved: Resolved
    loaded: Loaded
    old: DistRecord | None
    files: dict[str, bytes] = field(default_factory=dict)  # image path -> bytes
    hashes: dict[str, str] = field(default_factory=dict)  # image path -> sha256


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
        return session.crawl.get(cand).dist.requires

    provider = Provider(session.crawl, dependencies, direct=session.direct,
                        installed=session.installed, upgrade=options.upgrade, pre=options.pre,
                        no_deps=options.no_deps, prefetch=session.crawl.load)
    for spec in named:
        session.crawl.want(spec)
    requirements += provider.named(named)
    provider.asked = {r.key: r.text for r in requirements}
    resolved = resolve(requirements, provider)
    resolved = runnable(resolved, provider, session.loader.get, profile, session.check, reporter,
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
        if res.cand.kind == "installed" or res.cand.key in skipped:
            continue
        if res.requested and not warn_requested:
            continue
        files = load(res.cand).dist.files
        bad = check.failures(files, res.cand.kind)
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
    plan = image.plan([Change(str(c.resolved.cand), c.old, c.files, c.hashes) for c in changes],
                      options.force)
    if plan.conflicts:
        raise plan.conflicts[0]
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
    image.commit({path: data for path, (data, _) in plan.puts.items()}, plan.deletes,
                 records.values())
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
    image.commit(puts, deletes, records.values())
    return report
