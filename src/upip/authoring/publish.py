"""Upload distributions with the standard upload API, through twine.

Each file is checked first (readable, a single top folder holding PKG-INFO
with Name and Version, the file name matching them), so a bad upload fails
here with the file's name rather than on the index with an HTTP status.
"""

from __future__ import annotations

import contextlib
import email.parser
import html
import io
import logging
import re
import tarfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..errors import PublishError

PYPI_UPLOAD = "https://upload.pypi.org/legacy/"


class Checked(NamedTuple):
    path: Path
    name: str
    version: str


def check(path: Path) -> Checked:
    """Name and version of an sdist ready for upload, or a PublishError saying why not."""
    fix = "rebuild it with `upip sdist`"
    if not path.name.endswith(".tar.gz"):
        raise PublishError(str(path), "upip publishes sdists (.tar.gz); " + fix)
    try:
        with tarfile.open(path, "r:gz") as archive:
            names = archive.getnames()
            tops = {n.split("/", 1)[0] for n in names}
            if len(tops) != 1:
                raise PublishError(str(path), "members must sit under one top folder; " + fix)
            member = archive.extractfile(f"{tops.pop()}/PKG-INFO")
            if member is None:
                raise KeyError("PKG-INFO")
            text = member.read().decode("utf-8")
    except FileNotFoundError:
        raise PublishError(str(path), "no such file") from None
    except KeyError:
        raise PublishError(str(path), "no PKG-INFO in the top folder, which indexes "
                                      "require; " + fix) from None
    except (OSError, tarfile.TarError, EOFError, UnicodeDecodeError) as exc:
        raise PublishError(str(path), f"not a readable .tar.gz ({exc}); " + fix) from None
    headers = email.parser.Parser().parsestr(text, headersonly=True)
    name, version = headers.get("Name", ""), headers.get("Version", "")
    if not name or not version:
        raise PublishError(str(path), "PKG-INFO has no Name or Version; " + fix)
    try:
        norm_version = str(Version(version))
    except InvalidVersion:
        raise PublishError(str(path), f"version {version!r} is not PEP 440; " + fix) from None
    stem = path.name[: -len(".tar.gz")]
    file_name, _, file_version = stem.rpartition("-")
    if (canonicalize_name(file_name) != canonicalize_name(name)
            or file_version != norm_version):
        raise PublishError(str(path), f"the file name does not match PKG-INFO ({name} "
                                      f"{version}); " + fix)
    return Checked(path, name, norm_version)


HINTS = {
    400: "the index refused the file",
    401: "give --username/--password (or TWINE_USERNAME/TWINE_PASSWORD)",
    403: "check --username/--password (or TWINE_USERNAME/TWINE_PASSWORD)",
    409: "this version is already on the index; bump the version",
}


def _http_reason(response: Any) -> str:
    if response is None:
        return "the upload failed"
    status = int(response.status_code)
    text = re.sub(r"(?s)<(style|title|head)\b.*?</\1>|<[^>]+>", " ", response.text or "")
    said = " ".join(html.unescape(text).split())[:200]
    hint = HINTS.get(status, "try again later or check --repository-url")
    return f"upload answered HTTP {status} {response.reason}{f' ({said})' if said else ''}; {hint}"


def publish(paths: Sequence[Path], repository_url: str, username: str | None,
            password: str | None, quiet: bool = False) -> list[Checked]:
    """Check every file, then upload them all with twine."""
    checked = [check(p) for p in paths]
    try:
        from twine.commands.upload import upload
        from twine.exceptions import TwineException
        from twine.settings import Settings
    except ImportError:
        raise PublishError("twine", "upip publish uploads with twine, which is not "
                                    "installed; pip install 'upip[publish]'") from None
    import requests

    settings = Settings(repository_url=repository_url, username=username or "__token__",
                        password=password or "", non_interactive=True,
                        disable_progress_bar=quiet)
    # twine's own warning points at a --verbose flag upip does not have; our
    # error line below says what went wrong.
    logging.getLogger("twine").setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext():
            upload(settings, [str(c.path) for c in checked])
    except requests.HTTPError as exc:
        raise PublishError(repository_url, _http_reason(exc.response)) from None
    except requests.RequestException as exc:
        found = re.search(r"\[Errno -?\d+\] [^'\")]+", str(exc))
        why = found.group(0) if found else type(exc).__name__
        raise PublishError(repository_url, f"cannot upload ({why}); check the URL and "
                                           "your network") from None
    except TwineException as exc:
        raise PublishError(repository_url, " ".join(str(exc).split())) from None
    return checked
