"""Read a distribution (upip sdist, standard sdist, wheel, project directory)
into what an install needs: name, version, dependencies and the files to put
in the image. Nothing is executed (never setup.py) and nothing is written.

Which files an install takes:

* **upip-format sdist** (no setup.py/pyproject.toml/setup.cfg inside): every
  member, minus what old upip skipped (``setup.*``, ``PKG-INFO``, ``README*``,
  ``*.egg-info/*``); dependencies from ``*.egg-info/requires.txt``.
* **standard sdist** and **project directory**: only the packages and modules
  (``*.egg-info/top_level.txt`` when present, otherwise discovered: top-level
  folders holding ``.py`` files and top-level ``.py`` modules, minus tests,
  docs, examples, build files); ``src/`` layout understood. Dependencies from
  ``Requires-Dist`` (PKG-INFO), ``requires.txt``, or ``pyproject.toml``.
* **wheel** (pure Python): everything but ``*.dist-info`` (``.data/purelib``
  and ``.data/platlib`` are unpacked to the root), every file checked against
  the wheel's RECORD.
* **mip and package.json packages**: the files their document lists, at the
  destinations it gives (fetched and hash-checked by the caller).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Callable, Iterable
from email.parser import BytesHeaderParser
from pathlib import Path

from .archives import ArchiveContents, Limits, read_archive
from .errors import CorruptArchive, ImageError, UnsafeArchive
from .fields import Record, field
from .image import check_image_path
from .sources.package_json import FileRef, PackageDoc, dependency_text

SKIP_TOP_LEVEL = frozenset({
    "test", "tests", "testing", "doc", "docs", "example", "examples", "benchmark",
    "benchmarks", "bench", "build", "dist", "script", "scripts", "tools", "tool", "ci",
    "setup", "conftest", "noxfile", "tasks", "fabfile", "manage", "venv", "env",
})
BUILD_FILES = ("setup.py", "pyproject.toml", "setup.cfg")
NATIVE_SUFFIXES = (".c", ".cc", ".cpp", ".h", ".pyx", ".pxd", ".rs", ".so", ".pyd")
PRUNE_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__",
                        "build", "dist", ".tox", ".nox", ".mypy_cache", ".pytest_cache",
                        ".ruff_cache"})


class Distribution(Record):
    name: str
    version: str
    requires: list[str]
    files: dict[str, bytes]  # image path -> content
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (member, why)
    kind: str = "sdist"
    # image path -> the URL it came from (mip, package.json)
    origins: dict[str, str] = field(default_factory=dict)


# -- metadata ----------------------------------------------------------------


def parse_metadata(text: bytes, where: str) -> tuple[str | None, str | None, list[str]]:
    """Name, version and Requires-Dist of a PKG-INFO / METADATA file.

    As ``packaging.metadata.parse_email`` reads them, which parses with the
    email package's compat32 parser too; that parser is imported anyway (by
    http.client), packaging.metadata costs more to import than reading a small
    sdist. Only a value holding non-ASCII bytes, which compat32 hands over as
    a ``Header`` object to be decoded, is left to parse_email.
    """
    msg = BytesHeaderParser().parsebytes(text)
    names, versions, requires = (msg.get_all(f) or [] for f in ("Name", "Version", "Requires-Dist"))
    if all(isinstance(v, str) for v in (*names, *versions, *requires)):
        return (names[0] if len(names) == 1 else None,
                versions[0] if len(versions) == 1 else None, list(requires))
    from packaging.metadata import parse_email

    raw, _ = parse_email(text)
    name = raw.get("name")
    version = raw.get("version")
    return (name if isinstance(name, str) else None,
            version if isinstance(version, str) else None,
            list(raw.get("requires_dist") or []))


def parse_requires_txt(text: str) -> list[str]:
    """setuptools' ``requires.txt``: plain lines, then ``[extra:marker]`` sections."""
    result: list[str] = []
    section_marker = ""
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            extra, _, marker = line[1:-1].partition(":")
            parts = []
            if marker.strip():
                parts.append(f"({marker.strip()})")
            if extra.strip():
                parts.append(f'extra == "{extra.strip()}"')
            section_marker = " and ".join(parts)
            continue
        if section_marker:
            req, _, own = line.partition(";")
            marker = f"({own.strip()}) and {section_marker}" if own.strip() else section_marker
            result.append(f"{req.strip()}; {marker}")
        else:
            result.append(line)
    return result


# -- file selection -----------------------------------------------------------


def never_installed(path: str) -> bool:
    """Files no image wants: CPython's caches, and type stubs (``.pyi``,
    ``py.typed``), which MicroPython never reads and which were a third of a
    ROMFS image of microdot."""
    return ("__pycache__" in path.split("/") or path.endswith((".pyc", ".pyo", ".pyi"))
            or path.rpartition("/")[2] == "py.typed")


def select_upip_format(paths: Iterable[str]) -> list[str]:
    """Old upip's rule: everything but setup.*, PKG-INFO, README*, egg-info."""
    chosen = []
    for path in paths:
        if path.startswith(("setup.", "PKG-INFO", "README")) or ".egg-info" in path:
            continue
        if not never_installed(path):
            chosen.append(path)
    return chosen


def code_root(read: Callable[[str], bytes | None], paths: Iterable[str]) -> str | None:
    """Where a project's build config puts its code (``"python/"``), or None.

    setuptools' ``[tool.setuptools.packages.find] where`` and ``package-dir``
    in pyproject.toml, ``package_dir`` and ``[options.packages.find] where``
    in setup.cfg, then the folder setuptools wrote the egg-info into (it
    writes it beside the packages). ``read`` gives a project file's bytes.
    """
    import configparser
    import tomllib

    found: list[str] = []
    text = read("pyproject.toml")
    if text is not None:
        try:
            tool = tomllib.loads(text.decode("utf-8", "replace")).get("tool", {})
        except tomllib.TOMLDecodeError:
            tool = {}
        setuptools = tool.get("setuptools", {}) if isinstance(tool, dict) else {}
        if isinstance(setuptools, dict):
            where = (setuptools.get("packages") or {})
            where = where.get("find", {}).get("where") if isinstance(where, dict) else None
            if isinstance(where, list) and where:
                found.append(str(where[0]))
            package_dir = setuptools.get("package-dir")
            if isinstance(package_dir, dict) and isinstance(package_dir.get(""), str):
                found.append(package_dir[""])
    text = read("setup.cfg")
    if text is not None:
        cfg = configparser.ConfigParser()
        try:
            cfg.read_string(text.decode("utf-8", "replace"))
            package_dir = cfg.get("options", "package_dir", fallback="")
            for line in package_dir.replace(";", "\n").splitlines():
                key, sep, value = line.partition("=")
                if sep and not key.strip():
                    found.append(value.strip())
            found.append(cfg.get("options.packages.find", "where", fallback=""))
        except configparser.Error:
            pass
    for path in paths:
        head, sep, rest = path.rpartition("/")
        if sep and rest == "PKG-INFO" and head.endswith(".egg-info") and "/" in head:
            found.append(head.rsplit("/", 1)[0])
    for where in found:
        where = where.strip().strip("/")
        if where and where != ".":
            return where + "/"
    return None


def select_package_files(paths: list[str], top_level: list[str] | None,
                         root: str | None = None) -> dict[str, str]:
    """Map image path -> source path for the packages and modules of a project.

    ``paths`` are relative to the project root; ``top_level`` names the
    importable top-level names when known (egg-info ``top_level.txt``);
    ``root`` is where the build config puts the code (else ``src/`` when
    there is code there, else the project root).
    """
    if root is None:
        root = ""
        if any(p.startswith("src/") and p.endswith(".py") for p in paths):
            root = "src/"
    inside = [p[len(root):] for p in paths if p.startswith(root)]
    if top_level is not None:
        wanted = set(top_level)
    else:
        wanted = set()
        for path in inside:
            head, sep, _ = path.partition("/")
            name = head[:-3] if not sep and head.endswith(".py") else head
            if not path.endswith(".py") or not name.isidentifier():
                continue
            if name.lower() in SKIP_TOP_LEVEL or (not sep and name.startswith("test_")):
                continue
            wanted.add(name)
    chosen = {}
    for path in inside:
        head, sep, _ = path.partition("/")
        if never_installed(path) or ".egg-info" in head or ".dist-info" in head:
            continue
        if (sep and head in wanted) or (not sep and path.endswith(".py") and path[:-3] in wanted):
            chosen[path] = root + path
    return chosen


# -- archives ------------------------------------------------------------------


def _strip_top(archive: str, contents: ArchiveContents) -> tuple[str, dict[str, bytes]]:
    tops = {path.split("/", 1)[0] for path in contents.files}
    tops |= {path.split("/", 1)[0] for path, _ in contents.skipped}
    if len(tops) != 1:
        raise CorruptArchive(archive, "an sdist's members must all sit in one NAME-VERSION/ folder")
    top = tops.pop()
    files = {p[len(top) + 1:]: data for p, data in contents.files.items() if "/" in p}
    return top, files


def _find_one(files: dict[str, bytes], suffix: str) -> str | None:
    hits = sorted((p for p in files if p.endswith(suffix)), key=lambda p: (p.count("/"), p))
    return hits[0] if hits else None


def read_sdist(archive: str, contents: ArchiveContents) -> Distribution:
    top, files = _strip_top(archive, contents)
    skipped = [(p.split("/", 1)[-1], why) for p, why in contents.skipped]
    pkg_info = files.get("PKG-INFO") or (
        files[p] if (p := _find_one(files, ".egg-info/PKG-INFO")) else None
    )
    name = version = None
    requires: list[str] = []
    if pkg_info is not None:
        name, version, requires = parse_metadata(pkg_info, archive)
    if not requires and (req_path := _find_one(files, ".egg-info/requires.txt")):
        requires = parse_requires_txt(files[req_path].decode("utf-8", "replace"))
    if not name or not version:
        # NAME-VERSION: the version starts at the first "-" followed by a digit
        # (versions may contain "-": micropython-pystone_lowmem-3.4.2-4).
        match = re.match(r"^(.+?)-(\d.*)$", top)
        if match is None:
            raise CorruptArchive(archive, "no PKG-INFO with Name and Version")
        name, version = match.groups()
    links = [p for p, _ in skipped]
    if any(build in files for build in BUILD_FILES):
        top_level = None
        if (tl := _find_one(files, ".egg-info/top_level.txt")) is not None:
            top_level = [n.strip() for n in files[tl].decode("utf-8", "replace").split()]
        chosen = select_package_files(sorted([*files, *links]), top_level,
                                      code_root(files.get, files))
        kind = "sdist"
    else:
        chosen = {p: p for p in select_upip_format(sorted([*files, *links]))}
        kind = "upip-sdist"
    # A link is reported only where it stood for a file the install would take.
    reported = [(p, why) for p, why in skipped if p in chosen.values()]
    taken = {dst: files[src] for dst, src in chosen.items() if src in files}
    if not taken and (any(p.endswith(".py") for p in files) or not requires):
        native = sorted(p for p in files if p.endswith(NATIVE_SUFFIXES))
        if native and not any(p.endswith(".py") and p not in BUILD_FILES for p in files):
            raise CorruptArchive(archive, f"it is C code ({native[0]}) with no Python package "
                                          "or module: it cannot run on MicroPython")
        raise CorruptArchive(archive, "found no package or module to install in it (upip "
                             "looks where pyproject.toml or setup.cfg put the code, beside the "
                             "egg-info, in src/ or at the top)")
    return Distribution(name, version, requires, taken, reported, kind)


def _record_hashes(record: bytes) -> dict[str, str]:
    hashes = {}
    for line in record.decode("utf-8", "replace").splitlines():
        parts = line.rsplit(",", 2)
        if len(parts) == 3 and parts[1].startswith("sha256="):
            hashes[parts[0]] = parts[1][len("sha256="):]
    return hashes


def read_wheel(archive: str, contents: ArchiveContents) -> Distribution:
    files = contents.files
    infos = {p.split("/", 1)[0] for p in files if p.split("/", 1)[0].endswith(".dist-info")}
    if len(infos) != 1:
        raise CorruptArchive(archive, "a wheel needs exactly one .dist-info folder")
    info = infos.pop()
    if f"{info}/METADATA" not in files:
        raise CorruptArchive(archive, f"no {info}/METADATA")
    name, version, requires = parse_metadata(files[f"{info}/METADATA"], archive)
    if not name or not version:
        raise CorruptArchive(archive, "METADATA has no Name or Version")
    if f"{info}/RECORD" not in files:
        raise CorruptArchive(archive, f"no {info}/RECORD")
    record = _record_hashes(files[f"{info}/RECORD"])
    unhashed = {f"{info}/RECORD", f"{info}/RECORD.jws", f"{info}/RECORD.p7s"}
    chosen: dict[str, bytes] = {}
    skipped = list(contents.skipped)
    for path, data in files.items():
        want = record.get(path)
        if want is None and path not in unhashed:
            raise CorruptArchive(archive, f"{path} is not in the wheel's RECORD")
        if want is not None:
            got = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            if got != want:
                raise CorruptArchive(archive, f"{path} does not match the wheel's RECORD")
        head, _, rest = path.partition("/")
        if head == info or never_installed(path):
            continue
        if head.endswith(".data"):
            scheme, _, inner = rest.partition("/")
            if scheme in ("purelib", "platlib") and inner:
                chosen[inner] = data
            else:
                skipped.append((path, f"wheel {scheme} file (not installed on MicroPython)"))
            continue
        chosen[path] = data
    return Distribution(name, version, requires, chosen, skipped, "wheel")


def read_distribution(archive: str, data: bytes, limits: Limits | None = None) -> Distribution:
    """Read an archive given its file name and bytes."""
    contents = read_archive(archive, data, limits)
    if archive.endswith(".whl"):
        return read_wheel(archive, contents)
    return read_sdist(archive, contents)


# -- project directories -----------------------------------------------------


def _has_project_table(pyproject: Path) -> bool:
    import tomllib

    try:
        return isinstance(tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project"),
                          dict)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False


def _walk(root: Path) -> list[str]:
    from .authoring.project import not_source

    found = []
    for here, dirs, names in os.walk(root):
        rel = Path(here).relative_to(root).as_posix()
        # Tool folders (build, dist, venv...) are pruned at the top only: a
        # package may well have a subpackage called "build". An upip image or
        # a virtual environment is pruned wherever it is.
        prune = PRUNE_DIRS if rel == "." else {"__pycache__"}
        dirs[:] = sorted(d for d in dirs if d not in prune and not d.startswith(".")
                         and not not_source(Path(here) / d))
        prefix = "" if rel == "." else rel + "/"
        found += [prefix + n for n in sorted(names) if not n.startswith(".")]
    return found


def _project_metadata(root: Path) -> tuple[str, str, list[str]]:
    import configparser
    import tomllib

    pyproject = root / "pyproject.toml"
    where = str(pyproject)
    if pyproject.is_file():
        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise CorruptArchive(where, f"invalid TOML: {exc}") from None
        if isinstance(project, dict):
            name, version = project.get("name"), project.get("version")
            if not isinstance(version, str) or not isinstance(name, str):
                raise CorruptArchive(
                    where, "[project] needs a static name and version (upip never runs a "
                    "build backend); set them or build an sdist and install that")
            deps = project.get("dependencies", [])
            return name, version, [str(d) for d in deps] if isinstance(deps, list) else []
    setup_cfg = root / "setup.cfg"
    if setup_cfg.is_file():
        cfg = configparser.ConfigParser()
        try:
            cfg.read(setup_cfg, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError) as exc:
            raise CorruptArchive(str(setup_cfg), str(exc).splitlines()[0]) from None
        name = cfg.get("metadata", "name", fallback=None)
        version = cfg.get("metadata", "version", fallback=None)
        if name and version and not version.startswith(("attr:", "file:")):
            deps = cfg.get("options", "install_requires", fallback="")
            return name, version, [d.strip() for d in deps.splitlines() if d.strip()]
    pkg_info = root / "PKG-INFO"
    if pkg_info.is_file():
        name, version, requires = parse_metadata(pkg_info.read_bytes(), str(pkg_info))
        if name and version:
            return name, version, requires
    raise CorruptArchive(str(root), "no static name and version in pyproject.toml, setup.cfg "
                         "or PKG-INFO (upip never runs setup.py)")


def read_project(root: Path) -> Distribution:
    """Read a project directory as if it were its sdist: a pyproject.toml
    project exactly as ``upip sdist`` reads it (upip.authoring.project: the same
    files, [tool.upip] honoured, R.py resource modules made), so that
    ``install .`` and installing the sdist give one image; a setup.cfg or
    PKG-INFO project by discovery."""
    if _has_project_table(root / "pyproject.toml"):
        from .authoring.project import load
        from .authoring.sdist import project_members

        project = load(root)
        members, _ = project_members(project)
        files = {p: members[p] for p in select_upip_format(sorted(members))}
        meta = project.meta
        return Distribution(meta.name, meta.version, list(meta.dependencies), files, [],
                            "dir")
    name, version, requires = _project_metadata(root)
    paths = _walk(root)

    def read(rel: str) -> bytes | None:
        try:
            return (root / rel).read_bytes()
        except OSError:
            return None

    chosen = select_package_files(paths, None, code_root(read, paths))
    files = {dst: (root / src).read_bytes() for dst, src in chosen.items()}
    return Distribution(name, version, requires, files, [], "dir")


# -- package documents (mip indexes, package.json) ------------------------------


def read_document(name: str, version: str, doc: PackageDoc,
                  fetch: Callable[[FileRef], bytes], where: str, kind: str) -> Distribution:
    """A mip or package.json package: its files as ``fetch`` gets (and checks)
    them, its dependencies as upip specs. Every destination is checked before
    anything is fetched: one that would leave the image is refused (mip
    writes it wherever it points)."""
    for ref in doc.files:
        try:
            check_image_path(ref.dest)
        except ImageError:
            raise UnsafeArchive(where, ref.dest, "a destination outside the image, or one "
                                                 "of upip's own files") from None
    files = {}
    for ref in doc.files:
        if ref.dest in files:
            raise UnsafeArchive(where, ref.dest, "listed twice")
        files[ref.dest] = fetch(ref)
    requires = [dependency_text(n, v) for n, v in doc.deps]
    return Distribution(name, version, requires, files, [], kind,
                        {ref.dest: ref.url for ref in doc.files})
