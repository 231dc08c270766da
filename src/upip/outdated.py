"""``upip outdated``: each installed package beside the newest release its
source has, and the newest within what it was asked for by."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from packaging.version import Version

from .errors import UpipError
from .http import HttpClient
from .image import Image
from .options import DEFAULT_TARGET, Options
from .records import DistRecord
from .report import Reporter
from .results import Outdated
from .session import Session
from .sources import Candidate
from .specs import parse_spec


def outdated(target: Path = DEFAULT_TARGET, options: Options | None = None,
             reporter: Reporter | None = None, http: HttpClient | None = None
             ) -> list[Outdated]:
    """Every installed package with the newest release its source has, and the
    newest within the specs it was asked for by (what ``install -U`` takes).
    A package.json or project folder has no index to ask: left blank."""
    reporter = reporter or Reporter()
    image = Image.open(target, reporter, must_exist=True)
    return outdated_in(image.records, options or Options(), reporter, http)


def outdated_in(records: Mapping[str, DistRecord], options: Options, reporter: Reporter,
                http: HttpClient | None = None) -> list[Outdated]:
    """:func:`outdated` for the records of an image already read (a board's, say)."""
    recs = sorted(records.values(), key=lambda r: r.key)
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
