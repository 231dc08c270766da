"""Errors a user can cause.

Each one subclasses :class:`UpipError` *and* the built-in it resembles, carries
the bad input as data, and renders as one line that names the input and says
what to do. The CLI prints ``error: <str(exc)>`` and exits 1; no traceback
unless ``--debug``.
"""

from __future__ import annotations


class UpipError(Exception):
    """Base of every error upip raises on purpose."""


class InvalidSpec(UpipError, ValueError):
    def __init__(self, spec: str, reason: str, origin: str = "") -> None:
        self.spec, self.reason, self.origin = spec, reason, origin
        where = f"{origin}: " if origin else ""
        super().__init__(f"{where}invalid requirement {spec!r}: {reason}")


class RequirementsFileError(UpipError, ValueError):
    def __init__(self, path: str, line: int, reason: str) -> None:
        self.path, self.line, self.reason = path, line, reason
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {reason}")


class ProjectNotFound(UpipError, LookupError):
    def __init__(self, name: str, places: str) -> None:
        self.name, self.places = name, places
        super().__init__(
            f"no project named {places or repr(name)}; check the spelling or pass --index-url"
        )


class NoMatchingVersion(UpipError, LookupError):
    def __init__(self, requirement: str, available: list[str], why: str = "") -> None:
        self.requirement, self.available = requirement, available
        shown = ", ".join(available[-12:]) if available else "none"
        if len(available) > 12:
            shown = "..., " + shown
        extra = f" ({why})" if why else ""
        super().__init__(
            f"no version of {requirement!r} is available{extra}; versions found: {shown}"
        )


class IndexUnreachable(UpipError, OSError):
    def __init__(self, url: str, reason: str) -> None:
        self.url, self.reason = url, reason
        super().__init__(f"cannot reach {url}: {reason}; check the URL and your network")


class HTTPStatusError(UpipError, OSError):
    def __init__(self, url: str, status: int, reason: str = "") -> None:
        self.url, self.status = url, status
        text = f"{status} {reason}".strip()
        advice = {401: "it wants credentials: give them in the URL (https://USER:PASSWORD@"
                       "host/...) or in ~/.netrc",
                  403: "the credentials given are not allowed there",
                  407: "the proxy wants credentials: --proxy http://USER:PASSWORD@host:port"
                  }.get(status, "try again later or check the index")
        super().__init__(f"{url} answered HTTP {text}; {advice}")


class CorruptMetadata(UpipError, ValueError):
    def __init__(self, url: str, reason: str) -> None:
        self.url, self.reason = url, reason
        super().__init__(f"unreadable index data from {url}: {reason}")


class HashMismatch(UpipError, ValueError):
    def __init__(self, what: str, expected: str, actual: str) -> None:
        self.what, self.expected, self.actual = what, expected, actual
        super().__init__(
            f"sha256 of {what} is {actual[:16]}..., the index says {expected[:16]}...;"
            " the download is corrupt or was tampered with, nothing was installed"
        )


class DownloadTooLarge(UpipError, ValueError):
    def __init__(self, what: str, limit: int) -> None:
        self.what, self.limit = what, limit
        super().__init__(f"{what} is larger than {limit} bytes; refusing to download it")


class UnsafeArchive(UpipError, ValueError):
    def __init__(self, archive: str, member: str, reason: str) -> None:
        self.archive, self.member, self.reason = archive, member, reason
        super().__init__(f"{archive}: refusing member {member!r}: {reason}")


class CorruptArchive(UpipError, ValueError):
    def __init__(self, archive: str, reason: str) -> None:
        self.archive, self.reason = archive, reason
        super().__init__(f"{archive} is not a readable distribution: {reason}")


class ResolutionConflict(UpipError, RuntimeError):
    def __init__(self, name: str, demands: list[str]) -> None:
        self.name, self.demands = name, demands
        super().__init__(
            f"conflicting requirements for {name}: {'; '.join(demands)}; relax one of them"
        )


class FileConflict(UpipError, FileExistsError):
    def __init__(self, path: str, owners: list[str], hint: str = "") -> None:
        self.path, self.owners = path, owners
        who = " and ".join(owners)
        super().__init__(f"{who} both want {path!r} with different content{hint}")


class ImageError(UpipError, OSError):
    def __init__(self, directory: str, reason: str) -> None:
        self.directory, self.reason = directory, reason
        super().__init__(f"{directory}: {reason}")


class NotInstalled(UpipError, LookupError):
    def __init__(self, name: str, directory: str, listing: str = "") -> None:
        self.name, self.directory = name, directory
        listing = listing or f"upip list -p {directory}"
        super().__init__(f"{name!r} is not installed in {directory}; see `{listing}`")


class ProjectError(UpipError, ValueError):
    """A project cannot be built: ``path`` names the file, ``reason`` says the fix."""

    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"{path}: {reason}")


class PublishError(UpipError, OSError):
    def __init__(self, target: str, reason: str) -> None:
        self.target, self.reason = target, reason
        super().__init__(f"{target}: {reason}")
