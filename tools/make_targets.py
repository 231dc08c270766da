#!/usr/bin/env python3
"""Write ``src/upip/targets.json``: what each port's firmware has built in.

For each port and MicroPython release this reads a git mirror of
micropython/micropython (no work tree needed) at the newest tag of that
release and records the port's *default* board (or, for unix, the standard
variant):

* built-in modules: every ``MP_REGISTER_MODULE(MP_QSTR_x, ...)`` and
  ``MP_REGISTER_EXTENSIBLE_MODULE(...)`` in ``py/``, ``extmod/`` and the port's
  own sources whose enclosing ``#if`` holds for that build (the extensible ones
  are also listed apart);
* frozen modules: the top-level names the board's frozen manifest brings in,
  following ``include``, ``require`` (into micropython-lib, at the commit the
  tag pins as its ``lib/micropython-lib`` submodule), ``freeze``, ``package``
  and ``module``;
* the ``.mpy`` version and the native arch of the default board.

How "holds for that build" is decided, a heuristic rather than a compiler:

1. The build files are evaluated by two tiny interpreters. Make: variable
   assignments (``=``, ``:=``, ``?=``, ``+=``), ``ifeq``/``ifneq``/``ifdef``/
   ``ifndef``/``else``/``endif``, ``include`` (port files, ``py/*.mk`` and
   ``extmod/extmod.mk``), and a few functions (``notdir``, ``wildcard``,
   ``shell echo X | tr`` for case changes, ``subst``, ``strip``, ``filter``,
   ``findstring``); other functions expand to nothing. CMake: ``set``,
   ``unset``, ``list(APPEND)``, ``option``, ``if``/``elseif``/``else``/``endif``,
   ``include``; ``foreach``/``function``/``macro`` bodies are skipped. The
   ``-D`` flags that end up in ``CFLAGS*`` (make) or in
   ``target_compile_definitions``/``add_compile_definitions`` (CMake) become
   predefined macros, as a compiler would see them. ESP-IDF ``sdkconfig``
   defaults of the board become ``CONFIG_*`` macros.
2. ``py/mpconfig.h`` is then run through a small C preprocessor that follows
   only ``mpconfig*.h`` includes (the port's ``mpconfigport.h``, the board's
   ``mpconfigboard.h``, the variant's ``mpconfigvariant.h``, ...), so the
   feature-level defaults (``MICROPY_CONFIG_ROM_LEVEL``) apply as in a build.
   ``#if`` expressions are evaluated with macro expansion; an unknown name is
   0 and an unknown function-like macro call is 0, as for a compiler that
   lacks the vendor SDK headers (so SDK-derived features read as absent).
3. Each C file holding a registration is run through the same preprocessor
   (with the config macros) and a registration on an active line counts. Port
   files count only when a build file of the port names them; board files only
   for the default board.

Per-port predefined macros that come from the compiler or vendor SDK headers
are listed in ``PORTS`` below with the reason for each.

Where it may be wrong: a profile describes the *default* board only (other
boards of a port differ: a Pico W has ``network``, a Pico has not); headers
that are not ``mpconfig*.h`` are not followed (nrf's ``bluetooth_conf.h``
enables ``ble``/``ubluepy`` only in SoftDevice builds, which the default build
is not); ESP-IDF ``SOC_*`` capabilities and ``Kconfig`` defaults are unknown
(0), which touches ``machine`` features rather than modules; unix ``btree`` and
``ffi`` need libraries at build time that some builds (the PyPI wheel) leave
out. Run it again and read the diff when a new release is added.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import posixpath
import re
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "upip" / "targets.json"
MIRRORS = Path(os.environ.get("UPIP_MIRRORS", "/work/.mirror"))
DEFAULT_REPO = MIRRORS / "micropython+micropython" / "repo"
DEFAULT_LIB = MIRRORS / "micropython+micropython-lib" / "repo"

VERSIONS = ["1.23", "1.24", "1.25", "1.26", "1.27", "1.28", "1.29"]
#: .mpy version of each release (see upip.mpy.FIRMWARE_MPY: 1.23 and later load 6.3)
FIRST_MPY = [((1, 23), "6.3"), ((1, 22), "6.2"), ((1, 20), "6.1"), ((1, 19), "6.0")]


@dataclass(frozen=True)
class Port:
    name: str
    build: str  # "make" or "cmake"
    #: native arch of the default board's .mpy files (mpy-cross -march), when the
    #: firmware loads native code at all (checked from MICROPY_PERSISTENT_CODE_LOAD_NATIVE)
    arch: str
    variant: str = ""  # unix only
    #: macros a compiler or vendor SDK header defines, which no MicroPython file does
    predefined: dict[str, str] = field(default_factory=dict)
    #: CMake variables the SDK's own cmake files would set
    cmake_vars: dict[str, str] = field(default_factory=dict)
    #: CMake files the SDK includes on the port's behalf (after CMakeLists.txt)
    cmake_extra: tuple[str, ...] = ()


PORTS = [
    # The standard variant on x86-64 Linux, as the PyPI wheel and distributions build it.
    Port("unix", "make", "x64", variant="standard",
         predefined={"__linux__": "1", "__x86_64__": "1", "__LP64__": "1", "__GNUC__": "12"}),
    # ESP32_GENERIC: an original ESP32 (xtensa LX6), ESP-IDF sets these from IDF_TARGET.
    Port("esp32", "cmake", "xtensawin",
         predefined={"CONFIG_IDF_TARGET_ESP32": "1", "CONFIG_IDF_TARGET_ARCH_XTENSA": "1",
                     "CONFIG_IDF_TARGET": '"esp32"'},
         cmake_vars={"IDF_TARGET": "esp32"}, cmake_extra=("esp32_common.cmake",)),
    # ESP8266_GENERIC (its default variant, 2 MiB+ flash).
    Port("esp8266", "make", "xtensa"),
    # RPI_PICO: RP2040, a Cortex-M0+; the pico-sdk's cmake sets PICO_PLATFORM and friends.
    Port("rp2", "cmake", "armv6m", predefined={"PICO_RP2040": "1"},
         cmake_vars={"PICO_PLATFORM": "rp2040", "PICO_RP2040": "1", "PICO_ARM": "1",
                     "PICO_BOARD": "pico"}),
    # PYBV10: STM32F405 (Cortex-M4F); STM32F4 comes from the CMSIS device header.
    Port("stm32", "make", "armv7emsp", predefined={"STM32F4": "1"}),
    # ADAFRUIT_ITSYBITSY_M4_EXPRESS: SAMD51 (its mpconfigmcu.mk asks mpy-cross for armv7m).
    Port("samd", "make", "armv7m"),
    # PCA10040: nRF52832 (Cortex-M4F).
    Port("nrf", "make", "armv7emsp"),
    # TEENSY40: i.MX RT1062 (Cortex-M7); the port's Makefile asks mpy-cross for armv7m.
    Port("mimxrt", "make", "armv7m"),
]

REGISTER = re.compile(r"\bMP_REGISTER_(EXTENSIBLE_)?MODULE\(\s*MP_QSTR_(\w+)\s*,")


def log(message: str) -> None:
    print(message, file=sys.stderr)


# --------------------------------------------------------------------------- git


class Git:
    """Blobs of a bare repository through one ``git cat-file --batch``."""

    def __init__(self, repo: Path) -> None:
        self.repo = str(repo)
        self._proc = subprocess.Popen(
            ["git", "-C", self.repo, "cat-file", "--batch"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._cache: dict[str, bytes] = {}

    def blob(self, sha: str) -> bytes:
        if sha not in self._cache:
            assert self._proc.stdin and self._proc.stdout
            self._proc.stdin.write(sha.encode() + b"\n")
            self._proc.stdin.flush()
            header = self._proc.stdout.readline().split()
            if len(header) < 3 or header[1] == b"missing":
                raise LookupError(f"{sha} missing in {self.repo}")
            data = self._proc.stdout.read(int(header[2]))
            self._proc.stdout.read(1)
            self._cache[sha] = data
        return self._cache[sha]

    def has_commit(self, rev: str) -> bool:
        found = subprocess.run(["git", "-C", self.repo, "cat-file", "-e", rev + "^{commit}"],
                               capture_output=True)
        return found.returncode == 0

    def tags(self) -> list[str]:
        out = subprocess.run(["git", "-C", self.repo, "tag"], capture_output=True, text=True,
                             check=True)
        return out.stdout.split()

    def close(self) -> None:
        if self._proc.stdin:
            self._proc.stdin.close()
        self._proc.wait()


class Tree:
    """The files of one commit: ``path -> (mode, sha)``, directories derived."""

    def __init__(self, git: Git, rev: str) -> None:
        self.git, self.rev = git, rev
        out = subprocess.run(["git", "-C", git.repo, "ls-tree", "-r", "-z", "--full-tree", rev],
                             capture_output=True, check=True).stdout
        self.entries: dict[str, tuple[str, str]] = {}
        self.dirs: set[str] = {""}
        for record in out.split(b"\0"):
            if not record:
                continue
            meta, path = record.decode().split("\t", 1)
            mode, _kind, sha = meta.split()
            self.entries[path] = (mode, sha)
            parent = posixpath.dirname(path)
            while parent not in self.dirs:
                self.dirs.add(parent)
                parent = posixpath.dirname(parent)

    def is_file(self, path: str) -> bool:
        return path in self.entries and self.entries[path][0] != "160000"

    def is_dir(self, path: str) -> bool:
        return norm(path) in self.dirs

    def exists(self, path: str) -> bool:
        """Whether ``path`` is in the tree; anything inside a submodule counts as there
        (the build assumes submodules are checked out)."""
        path = norm(path)
        if self.is_file(path) or self.is_dir(path):
            return True
        parent = path
        while parent:
            if self.submodule(parent):
                return True
            parent = posixpath.dirname(parent)
        return False

    def submodule(self, path: str) -> str | None:
        entry = self.entries.get(path)
        return entry[1] if entry and entry[0] == "160000" else None

    def read(self, path: str) -> str | None:
        path = norm(path)
        for _ in range(8):  # follow symlinks inside the tree
            entry = self.entries.get(path)
            if entry is None or entry[0] == "160000":
                return None
            data = self.git.blob(entry[1])
            if entry[0] != "120000":
                return data.decode("utf-8", "replace")
            path = norm(posixpath.join(posixpath.dirname(path), data.decode()))
        return None

    def listdir(self, folder: str) -> list[str]:
        folder = norm(folder)
        prefix = folder + "/" if folder else ""
        names = {p[len(prefix):].split("/", 1)[0] for p in self.entries if p.startswith(prefix)}
        return sorted(names)

    def walk(self, top: str) -> list[str]:
        """Every directory under ``top`` (itself first), top-down, sorted."""
        top = norm(top)
        found = [top]
        for name in self.listdir(top):
            child = posixpath.join(top, name) if top else name
            if self.is_dir(child):
                found += self.walk(child)
        return found


def norm(path: str) -> str:
    path = posixpath.normpath(path) if path else ""
    return "" if path == "." else path.lstrip("/")


# --------------------------------------------------------------------------- make


MAKE_ASSIGN = re.compile(r"^(?:export\s+|override\s+)?([A-Za-z_][\w.-]*)\s*(\?=|:=|::=|\+=|=)(.*)$")


class Make:
    """Just enough of GNU make to know a port's variables and CFLAGS."""

    def __init__(self, tree: Tree, port_dir: str, variables: dict[str, str]) -> None:
        self.tree, self.port_dir = tree, port_dir
        self.vars: dict[str, str] = dict(variables)

    def expand(self, text: str, depth: int = 0) -> str:
        if depth > 20 or "$" not in text:
            return text
        out, i = [], 0
        while i < len(text):
            ch = text[i]
            if ch != "$" or i + 1 >= len(text):
                out.append(ch)
                i += 1
                continue
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
            elif nxt in "({":
                close = ")" if nxt == "(" else "}"
                level, j = 1, i + 2
                while j < len(text) and level:
                    if text[j] == nxt:
                        level += 1
                    elif text[j] == close:
                        level -= 1
                    j += 1
                out.append(self._reference(text[i + 2:j - 1], depth))
                i = j
            else:
                out.append(self.expand(self.vars.get(nxt, ""), depth + 1))
                i += 2
        return "".join(out)

    def _reference(self, inner: str, depth: int) -> str:
        func, _, rest = inner.partition(" ")
        if rest and func in {"notdir", "wildcard", "shell", "subst", "strip", "filter",
                             "findstring", "addprefix", "patsubst", "if", "dir", "abspath",
                             "realpath", "foreach", "call", "sort", "filter-out", "error",
                             "warning", "info", "eval", "addsuffix", "basename", "word",
                             "words", "firstword", "lastword", "origin", "value", "or", "and"}:
            return self._function(func, rest, depth)
        name = self.expand(inner, depth + 1)
        if ":" in name and "=" in name:  # $(VAR:a=b)
            var, _, pattern = name.partition(":")
            old, _, new = pattern.partition("=")
            words = self.expand(self.vars.get(var, ""), depth + 1).split()
            return " ".join(w[: -len(old)] + new if old and w.endswith(old) else w for w in words)
        return self.expand(self.vars.get(name, ""), depth + 1)

    def _function(self, func: str, rest: str, depth: int) -> str:
        args = [self.expand(a, depth + 1) for a in split_args(rest)]
        if func == "notdir":
            return " ".join(posixpath.basename(w) for w in args[0].split())
        if func == "dir":
            return " ".join(posixpath.dirname(w) + "/" for w in args[0].split())
        if func == "wildcard":
            return " ".join(w for w in args[0].split() if self.tree.exists(self.path(w)))
        if func == "strip":
            return " ".join(args[0].split())
        if func == "subst" and len(args) == 3:
            return args[2].replace(args[0], args[1])
        if func == "findstring" and len(args) == 2:
            return args[0] if args[0] in args[1] else ""
        if func == "filter" and len(args) == 2:
            keep = args[0].split()
            return " ".join(w for w in args[1].split() if w in keep)
        if func == "if" and len(args) >= 2:
            return args[1] if args[0].strip() else (args[2] if len(args) > 2 else "")
        if func == "shell":  # only `echo X | tr '[:upper:]' '[:lower:]'` and the reverse
            found = re.fullmatch(r"\s*echo\s+(.*?)\s*\|\s*tr\s+'\[:(upper|lower):\]'\s+"
                                 r"'\[:(upper|lower):\]'\s*", args[0])
            if found:
                return found.group(1).lower() if found.group(3) == "lower" else \
                    found.group(1).upper()
        return ""

    def path(self, path: str) -> str:
        return norm(posixpath.join(self.port_dir, path))

    def run(self, path: str, optional: bool = False) -> None:
        text = self.tree.read(path)
        if text is None:
            if not optional:
                log(f"  make: {path} not found")
            return
        lines = text.replace("\\\n", " ").splitlines()
        stack: list[tuple[bool, bool]] = []  # (this branch active, some branch taken)
        active = True
        in_recipe = in_define = False
        for raw in lines:
            if in_define:
                in_define = not raw.strip().startswith("endef")
                continue
            if raw.startswith("\t") and in_recipe:
                continue
            in_recipe = False
            line = strip_make_comment(raw).strip()
            if not line:
                continue
            word = line.split(None, 1)[0]
            if word in {"ifeq", "ifneq", "ifdef", "ifndef"}:
                parent = active
                cond = parent and self._condition(line)
                stack.append((parent, cond))
                active = cond
                continue
            if word == "else":
                if not stack:
                    continue
                parent, taken = stack[-1]
                rest = line[4:].strip()
                cond = (not taken) and parent and (self._condition(rest) if rest else True)
                stack[-1] = (parent, taken or cond)
                active = cond
                continue
            if word == "endif":
                if stack:
                    active = stack.pop()[0]
                continue
            if not active:
                continue
            if word == "define":
                in_define = True
                continue
            if word in {"include", "-include", "sinclude"}:
                for item in self.expand(line.split(None, 1)[1] if " " in line else "").split():
                    target = self.path(item)
                    if target.startswith(("py/", "extmod/", self.port_dir + "/")):
                        self.run(target, optional=word != "include")
                continue
            assign = MAKE_ASSIGN.match(line)
            if assign and ":" not in assign.group(1):
                name, op, value = assign.group(1), assign.group(2), assign.group(3).strip()
                if op == "?=":
                    self.vars.setdefault(name, value)
                elif op in {":=", "::="}:
                    self.vars[name] = self.expand(value)
                elif op == "+=":
                    old = self.vars.get(name, "")
                    self.vars[name] = f"{old} {value}".strip()
                else:
                    self.vars[name] = value
                continue
            if ":" in line and not line.startswith("$"):
                in_recipe = True  # a rule: its recipe lines follow, tab-indented

    def _condition(self, line: str) -> bool:
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if word in {"ifdef", "ifndef"}:
            defined = bool(self.expand(self.vars.get(self.expand(rest), "")).strip())
            return defined if word == "ifdef" else not defined
        if rest.startswith("("):
            left, right = [*split_args(rest[1:-1]), "", ""][:2]
        else:
            quoted = re.findall(r"\"([^\"]*)\"|'([^']*)'", rest)
            left, right = ([a or b for a, b in quoted] + ["", ""])[:2]
        same = self.expand(left).strip() == self.expand(right).strip()
        return same if word == "ifeq" else not same

    def defines(self) -> dict[str, str]:
        """The ``-D`` flags of every CFLAGS-like variable, expanded."""
        found: dict[str, str] = {}
        for name in sorted(self.vars):
            if not re.search(r"CFLAGS|DEFINES|CPPFLAGS", name):
                continue
            for flag in self.expand(self.vars[name]).split():
                if flag.startswith("-D") and len(flag) > 2:
                    key, _, value = flag[2:].partition("=")
                    found[key] = value or "1"
        return found


def split_args(text: str) -> list[str]:
    """Split make function arguments at top-level commas."""
    args: list[str] = []
    cur: list[str] = []
    level = 0
    for ch in text:
        if ch in "({":
            level += 1
        elif ch in ")}":
            level -= 1
        if ch == "," and level == 0:
            args.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    args.append("".join(cur))
    return args


def strip_make_comment(line: str) -> str:
    out = re.sub(r"(?<!\\)#.*", "", line)
    return out


# --------------------------------------------------------------------------- cmake


CMAKE_FALSE = {"", "0", "OFF", "NO", "FALSE", "N", "IGNORE", "NOTFOUND"}
CMAKE_TRUE = {"1", "ON", "YES", "TRUE", "Y"}


def cmake_commands(text: str) -> list[tuple[str, list[str]]]:
    """``name(args)`` commands of a CMake file, arguments split (quotes kept apart)."""
    text = re.sub(r"#\[\[.*?\]\]", "", text, flags=re.S)
    commands: list[tuple[str, list[str]]] = []
    pos = 0
    ident = re.compile(r"\s*([A-Za-z_]\w*)\s*\(")
    while pos < len(text):
        if text[pos] == "#":
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end + 1
            continue
        if text[pos].isspace():
            pos += 1
            continue
        found = ident.match(text, pos)
        if not found:
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end + 1
            continue
        pos = found.end()
        args: list[str] = []
        cur: list[str] = []
        level, quoted, had = 1, False, False
        while pos < len(text):
            ch = text[pos]
            pos += 1
            if quoted:
                if ch == "\\" and pos < len(text):
                    cur.append(text[pos])
                    pos += 1
                elif ch == '"':
                    quoted = False
                else:
                    cur.append(ch)
                continue
            if ch == "\\" and pos < len(text):  # an escape outside quotes: take it as is
                cur.append(text[pos])
                pos += 1
            elif ch == '"':
                quoted = had = True
            elif ch == "#":
                end = text.find("\n", pos)
                pos = len(text) if end < 0 else end
            elif ch == "(":
                level += 1
                if cur or had:
                    args.append("".join(cur))
                    cur, had = [], False
                args.append("(")
            elif ch == ")":
                level -= 1
                if cur or had:
                    args.append("".join(cur))
                    cur, had = [], False
                if level == 0:
                    break
                args.append(")")
            elif ch.isspace():
                if cur or had:
                    args.append("".join(cur))
                    cur, had = [], False
            else:
                cur.append(ch)
        commands.append((found.group(1).lower(), args))
    return commands


class CMake:
    """Just enough of CMake to know a port's variables and compile definitions."""

    def __init__(self, tree: Tree, variables: dict[str, str]) -> None:
        self.tree = tree
        self.vars: dict[str, str] = dict(variables)
        self.definitions: dict[str, str] = {}

    def expand(self, text: str) -> str:
        for _ in range(10):
            new = re.sub(r"\$ENV\{[^{}]*\}", "", text)
            new = re.sub(r"\$\{([^{}$]*)\}", lambda m: self.vars.get(m.group(1), ""), new)
            if new == text:
                break
            text = new
        return text

    def run(self, path: str, optional: bool = False) -> None:
        text = self.tree.read(path)
        if text is None:
            if not optional:
                log(f"  cmake: {path} not found")
            return
        saved = self.vars.get("CMAKE_CURRENT_LIST_DIR")
        self.vars["CMAKE_CURRENT_LIST_DIR"] = posixpath.dirname(path)
        commands = cmake_commands(text)
        stack: list[tuple[bool, bool]] = []
        active = True
        skip_block, skip_depth = "", 0
        for name, raw in commands:
            if skip_block:
                if name == skip_block:
                    skip_depth += 1
                elif name == "end" + skip_block:
                    skip_depth -= 1
                    if not skip_depth:
                        skip_block = ""
                continue
            if name == "if":
                parent = active
                cond = parent and self.condition(raw)
                stack.append((parent, cond))
                active = cond
                continue
            if name in {"elseif", "else"}:
                if not stack:
                    continue
                parent, taken = stack[-1]
                cond = (not taken) and parent and (self.condition(raw) if name == "elseif"
                                                   else True)
                stack[-1] = (parent, taken or cond)
                active = cond
                continue
            if name == "endif":
                if stack:
                    active = stack.pop()[0]
                continue
            if not active:
                continue
            if name in {"foreach", "function", "macro", "while"}:
                skip_block, skip_depth = name, 1
                continue
            args = [self.expand(a) for a in raw if a not in "()"]
            self._command(name, args)
        if saved is not None:
            self.vars["CMAKE_CURRENT_LIST_DIR"] = saved

    def _command(self, name: str, args: list[str]) -> None:
        if name == "set" and args:
            values = []
            for a in args[1:]:
                if a in {"CACHE", "PARENT_SCOPE"}:
                    break
                values.append(a)
            self.vars[args[0]] = ";".join(values)
        elif name == "unset" and args:
            self.vars.pop(args[0], None)
        elif name == "option" and len(args) >= 3:
            self.vars.setdefault(args[0], args[2])
        elif name == "list" and len(args) >= 2 and args[0] == "APPEND":
            old = self.vars.get(args[1], "")
            self.vars[args[1]] = ";".join(x for x in [old, *args[2:]] if x)
        elif name == "include" and args:
            target = norm(args[0])
            if target.startswith(("ports/", "py/", "extmod/")):
                self.run(target, optional="OPTIONAL" in args[1:])
        elif name in {"target_compile_definitions", "add_compile_definitions",
                      "add_definitions"}:
            items = args[1:] if name == "target_compile_definitions" else args
            for item in items:
                for flag in item.split(";"):
                    if flag in {"PUBLIC", "PRIVATE", "INTERFACE"} or not flag:
                        continue
                    key, _, value = flag.removeprefix("-D").partition("=")
                    if re.fullmatch(r"[A-Za-z_]\w*", key):
                        self.definitions[key] = value or "1"

    def truthy(self, token: str) -> bool:
        upper = token.upper()
        if upper in CMAKE_TRUE or re.fullmatch(r"-?\d+(\.\d+)?", token):
            return upper in CMAKE_TRUE or float(token) != 0
        if upper in CMAKE_FALSE or upper.endswith("-NOTFOUND"):
            return False
        value = self.vars.get(token)
        if value is None:
            return False
        value = value.upper()
        return value not in CMAKE_FALSE and not value.endswith("-NOTFOUND")

    def value(self, token: str) -> str:
        return self.vars.get(token, token)

    def condition(self, raw: list[str]) -> bool:
        tokens = [self.expand(t) if t not in "()" else t for t in raw]
        pos = 0

        def primary() -> bool:
            nonlocal pos
            tok = tokens[pos] if pos < len(tokens) else ""
            pos += 1
            if tok == "(":
                result = disjunction()
                pos += 1  # ")"
                return result
            if tok == "NOT":
                return not primary()
            if tok == "DEFINED":
                name = tokens[pos]
                pos += 1
                return name in self.vars
            if tok == "EXISTS":
                target = tokens[pos]
                pos += 1
                return self.tree.exists(norm(target))
            if tok in {"COMMAND", "TARGET", "POLICY", "IS_DIRECTORY"}:
                pos += 1
                return False
            if pos < len(tokens) and tokens[pos] in {
                    "STREQUAL", "EQUAL", "MATCHES", "VERSION_LESS", "VERSION_GREATER",
                    "VERSION_EQUAL", "VERSION_GREATER_EQUAL", "VERSION_LESS_EQUAL", "LESS",
                    "GREATER", "IN_LIST"}:
                op, right = tokens[pos], tokens[pos + 1] if pos + 1 < len(tokens) else ""
                pos += 2
                left = self.value(tok)
                if op == "STREQUAL":
                    return left == self.value(right)
                if op == "MATCHES":
                    return re.search(right, left) is not None
                if op == "IN_LIST":
                    return tok in self.vars.get(right, "").split(";")
                return False
            return self.truthy(tok)

        def conjunction() -> bool:
            nonlocal pos
            result = primary()
            while pos < len(tokens) and tokens[pos] == "AND":
                pos += 1
                right = primary()
                result = result and right
            return result

        def disjunction() -> bool:
            nonlocal pos
            result = conjunction()
            while pos < len(tokens) and tokens[pos] == "OR":
                pos += 1
                right = conjunction()
                result = result or right
            return result

        try:
            return disjunction()
        except (IndexError, ValueError, re.error):
            return False


# --------------------------------------------------------------------------- C preprocessor


@dataclass(frozen=True)
class Macro:
    params: tuple[str, ...] | None  # None: object-like
    body: str


COMMENTS = re.compile(r'("(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\')|/\*.*?\*/|//[^\n]*', re.S)
TOKEN = re.compile(r"\s*(0[xX][0-9a-fA-F]+|\d+|[A-Za-z_]\w*|<<|>>|<=|>=|==|!=|&&|\|\||"
                   r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'|.)")


def tokenize(text: str) -> list[str]:
    tokens = []
    for found in TOKEN.finditer(text):
        tok = found.group(1)
        if tok.strip():
            tokens.append(tok)
    return tokens


class Preprocessor:
    """A C preprocessor for config headers: defines, conditionals, mpconfig includes."""

    def __init__(self, tree: Tree, search: list[str], macros: dict[str, Macro]) -> None:
        self.tree, self.search = tree, search
        self.macros = dict(macros)

    def copy(self) -> Preprocessor:
        return Preprocessor(self.tree, self.search, self.macros)

    def define(self, name: str, value: str = "1") -> None:
        self.macros[name] = Macro(None, value)

    def run(self, path: str, on_line: Callable[[str], None] | None = None,
            depth: int = 0) -> None:
        text = self.tree.read(path)
        if text is None or depth > 16:
            return
        text = COMMENTS.sub(lambda m: m.group(1) or " ", text.replace("\\\n", " "))
        stack: list[tuple[bool, bool]] = []
        active = True
        for line in text.splitlines():
            stripped = line.strip()
            if not stripped.startswith("#"):
                if active and on_line is not None and stripped:
                    on_line(stripped)
                continue
            directive = stripped[1:].strip()
            word = re.match(r"\w*", directive).group(0)  # type: ignore[union-attr]
            rest = directive[len(word):].strip()
            if word in {"if", "ifdef", "ifndef"}:
                parent = active
                if word == "if":
                    cond = parent and self.evaluate(rest) != 0
                else:
                    name = rest.split()[0] if rest else ""
                    cond = parent and ((name in self.macros) == (word == "ifdef"))
                stack.append((parent, cond))
                active = cond
            elif word in {"elif", "else", "elifdef", "elifndef"}:
                if not stack:
                    continue
                parent, taken = stack[-1]
                if word == "else":
                    cond = not taken and parent
                elif word == "elif":
                    cond = not taken and parent and self.evaluate(rest) != 0
                else:
                    name = rest.split()[0] if rest else ""
                    cond = not taken and parent and ((name in self.macros) ==
                                                     (word == "elifdef"))
                stack[-1] = (parent, taken or cond)
                active = cond
            elif word == "endif":
                if stack:
                    active = stack.pop()[0]
            elif not active:
                continue
            elif word == "define":
                found = re.match(r"([A-Za-z_]\w*)(\(([^)]*)\))?\s*(.*)", rest)
                if found:
                    params = None
                    if found.group(2) is not None:
                        params = tuple(p.strip() for p in found.group(3).split(",") if p.strip())
                    self.macros[found.group(1)] = Macro(params, found.group(4).strip())
            elif word == "undef":
                self.macros.pop(rest.split()[0] if rest else "", None)
            elif word == "include":
                target = self.resolve(rest, path)
                if target:
                    self.run(target, on_line, depth + 1)

    def resolve(self, spec: str, current: str) -> str | None:
        found = re.match(r'["<]([^">]+)[">]', spec)
        if not found:
            return None
        name = found.group(1)
        if not posixpath.basename(name).startswith("mpconfig"):
            return None
        for folder in [posixpath.dirname(current), *self.search, ""]:
            candidate = norm(posixpath.join(folder, name))
            if self.tree.is_file(candidate):
                return candidate
        return None

    # -- #if expressions

    def expand(self, tokens: list[str], hidden: frozenset[str] = frozenset()) -> list[str]:
        out: list[str] = []
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok == "defined":
                j = i + 1
                if j < len(tokens) and tokens[j] == "(":
                    name, i = tokens[j + 1], j + 3
                else:
                    name, i = (tokens[j] if j < len(tokens) else ""), j + 1
                out.append("1" if name in self.macros else "0")
                continue
            macro = self.macros.get(tok) if tok not in hidden else None
            if macro is None:
                out.append(tok)
                i += 1
                continue
            if macro.params is None:
                out += self.expand(tokenize(macro.body), hidden | {tok})
                i += 1
                continue
            if i + 1 >= len(tokens) or tokens[i + 1] != "(":
                out.append(tok)
                i += 1
                continue
            args, i = collect_args(tokens, i + 1)
            args = [self.expand(a, hidden) for a in args]
            body: list[str] = []
            for btok in tokenize(macro.body):
                if btok in macro.params:
                    index = macro.params.index(btok)
                    body += args[index] if index < len(args) else []
                else:
                    body.append(btok)
            out += self.expand(body, hidden | {tok})
        return out

    def evaluate(self, text: str) -> int:
        tokens = self.expand(tokenize(text))
        try:
            return Expression(tokens).value()
        except (IndexError, ValueError, ZeroDivisionError):
            log(f"  cpp: cannot evaluate {text!r}")
            return 0

    def value(self, name: str) -> int:
        return self.evaluate(name) if name in self.macros else 0


def collect_args(tokens: list[str], start: int) -> tuple[list[list[str]], int]:
    """Arguments of a call whose ``(`` is at ``start``; returns them and the index after ``)``."""
    args: list[list[str]] = [[]]
    level, i = 0, start
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if tok == "(":
            level += 1
            if level == 1:
                continue
        elif tok == ")":
            level -= 1
            if level == 0:
                break
        elif tok == "," and level == 1:
            args.append([])
            continue
        args[-1].append(tok)
    return ([] if args == [[]] else args), i


class Expression:
    """Integer evaluation of an expanded ``#if`` expression (C precedence)."""

    BINARY: ClassVar[list[list[str]]] = [["||"], ["&&"], ["|"], ["^"], ["&"], ["==", "!="], ["<", "<=", ">", ">="],
              ["<<", ">>"], ["+", "-"], ["*", "/", "%"]]

    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.pos = tokens, 0

    def peek(self) -> str:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ""

    def take(self) -> str:
        tok = self.peek()
        self.pos += 1
        return tok

    def value(self) -> int:
        result = self.ternary()
        return result

    def ternary(self) -> int:
        cond = self.binary(0)
        if self.peek() == "?":
            self.take()
            yes = self.ternary()
            self.take()  # ":"
            no = self.ternary()
            return yes if cond else no
        return cond

    def binary(self, level: int) -> int:
        if level == len(self.BINARY):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in self.BINARY[level]:
            op = self.take()
            right = self.binary(level + 1)
            left = apply(op, left, right)
        return left

    def unary(self) -> int:
        tok = self.take()
        if tok == "!":
            return int(not self.unary())
        if tok == "-":
            return -self.unary()
        if tok == "+":
            return self.unary()
        if tok == "~":
            return ~self.unary()
        if tok == "(":
            result = self.ternary()
            self.take()  # ")"
            return result
        number = re.fullmatch(r"(0[xX][0-9a-fA-F]+|\d+)[uUlL]*", tok)
        if number:
            return int(number.group(1), 0) if not re.fullmatch(r"0\d+", number.group(1)) \
                else int(number.group(1), 8)
        if tok.startswith("'"):
            return ord(ast.literal_eval(tok)[0])
        if re.fullmatch(r"[A-Za-z_]\w*", tok):
            if self.peek() == "(":  # an unknown function-like macro: 0
                _, self.pos = collect_args(self.tokens, self.pos)
            return 0
        raise ValueError(tok)


def apply(op: str, a: int, b: int) -> int:
    ops: dict[str, Callable[[int, int], int]] = {
        "||": lambda x, y: int(bool(x) or bool(y)), "&&": lambda x, y: int(bool(x) and bool(y)),
        "|": lambda x, y: x | y, "^": lambda x, y: x ^ y, "&": lambda x, y: x & y,
        "==": lambda x, y: int(x == y), "!=": lambda x, y: int(x != y),
        "<": lambda x, y: int(x < y), "<=": lambda x, y: int(x <= y),
        ">": lambda x, y: int(x > y), ">=": lambda x, y: int(x >= y),
        "<<": lambda x, y: x << y, ">>": lambda x, y: x >> y, "+": lambda x, y: x + y,
        "-": lambda x, y: x - y, "*": lambda x, y: x * y,
        "/": lambda x, y: int(x / y), "%": lambda x, y: x % y,
    }
    return ops[op](a, b)


# --------------------------------------------------------------------------- manifests


class Manifest:
    """Top-level module names a frozen manifest brings in (read with ``ast``, never run)."""

    LIB = "lib/micropython-lib"

    def __init__(self, tree: Tree, lib: Tree | None, variables: dict[str, str]) -> None:
        self.tree, self.lib, self.vars = tree, lib, variables
        self.names: set[str] = set()
        self.library_dirs: list[str] = [f"{self.LIB}/{n}" for n in
                                        ("micropython", "python-stdlib", "python-ecosys")]
        self.libraries: dict[str, str] = {}
        self.required: set[str] = set()

    # paths under lib/micropython-lib are read from the micropython-lib tree
    def _where(self, path: str) -> tuple[Tree | None, str]:
        path = norm(path)
        if path == self.LIB or path.startswith(self.LIB + "/"):
            return self.lib, norm(path[len(self.LIB) + 1:])
        return self.tree, path

    def _is_dir(self, path: str) -> bool:
        tree, inner = self._where(path)
        return tree is not None and tree.is_dir(inner)

    def _is_file(self, path: str) -> bool:
        tree, inner = self._where(path)
        return tree is not None and tree.is_file(inner)

    def _listdir(self, path: str) -> list[str]:
        tree, inner = self._where(path)
        return tree.listdir(inner) if tree is not None and tree.is_dir(inner) else []

    def _resolve(self, path: str, here: str) -> str:
        for name, value in self.vars.items():
            path = path.replace(f"$({name})", value)
        return norm(posixpath.join(here, path))

    def include(self, path: str) -> None:
        if self._is_dir(path):
            path = posixpath.join(path, "manifest.py")
        tree, inner = self._where(path)
        text = tree.read(inner) if tree is not None else None
        if text is None:
            log(f"  manifest: {path} not found")
            return
        here = posixpath.dirname(path)
        for node in ast.parse(text).body:
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
                    and isinstance(node.value.func, ast.Name)):
                log(f"  manifest: {path}:{node.lineno}: skipped a statement that is not a call")
                continue
            call = node.value
            func = call.func.id if isinstance(call.func, ast.Name) else ""
            try:
                args = [ast.literal_eval(a) for a in call.args]
                kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
            except ValueError:
                log(f"  manifest: {path}:{node.lineno}: skipped a call with computed arguments")
                continue
            self._call(func, args, kwargs, here)

    def _call(self, func: str, args: list[object], kwargs: dict[str, object], here: str) -> None:
        def arg(index: int, name: str, default: object = None) -> object:
            return args[index] if len(args) > index else kwargs.get(name, default)

        if func == "include":
            paths = arg(0, "manifest_path")
            for p in paths if isinstance(paths, (list, tuple)) else [paths]:
                self.include(self._resolve(str(p), here))
        elif func == "require":
            self.require(str(arg(0, "name")), arg(3, "library"))
        elif func == "add_library":
            library_path = self._resolve(str(arg(1, "library_path")), here)
            self.libraries[str(arg(0, "library"))] = library_path
            if arg(2, "prepend", False):
                self.library_dirs.insert(0, library_path)
            else:
                self.library_dirs.append(library_path)
        elif func == "package":
            self.names.add(str(arg(0, "package_path")).strip("/").split("/")[0])
        elif func == "module":
            first = str(arg(0, "module_path")).split("/")[0]
            self.names.add(first.removesuffix(".py"))
        elif func in {"freeze", "freeze_as_str", "freeze_as_mpy", "freeze_mpy"}:
            self.freeze(self._resolve(str(arg(0, "path")), here), arg(1, "script"))
        # metadata(), options and anything else name no module

    def freeze(self, path: str, script: object) -> None:
        if not self._is_dir(path):
            log(f"  manifest: freeze({path!r}): no such folder")
            return
        if script is None:
            for name in self._listdir(path):
                child = posixpath.join(path, name)
                if self._is_dir(child):
                    self.names.add(name)
                elif name.endswith((".py", ".mpy")):
                    self.names.add(name.rsplit(".", 1)[0])
            return
        for item in [script] if isinstance(script, str) else list(script):  # type: ignore[call-overload]
            first = str(item).split("/")[0]
            self.names.add(first.rsplit(".", 1)[0] if first.endswith((".py", ".mpy")) else first)

    def require(self, name: str, library: object = None) -> None:
        if name in self.required:
            return
        self.required.add(name)
        if self.lib is None:  # no micropython-lib at this commit: the package name it is
            self.names.add(name)
            return
        dirs = [self.libraries[str(library)]] if library else self.library_dirs
        for top in dirs:
            tree, inner = self._where(top)
            if tree is None:
                continue
            for folder in tree.walk(inner):
                if posixpath.basename(folder) == name and tree.is_file(folder + "/manifest.py"):
                    prefix = self.LIB + "/" if tree is self.lib else ""
                    self.include(prefix + folder)
                    return
        log(f"  manifest: require({name!r}) not found; keeping the name")
        self.names.add(name)


# --------------------------------------------------------------------------- profiles


def newest_tag(tags: Iterable[str], version: str) -> str:
    releases: list[tuple[tuple[int, ...], str]] = []
    previews: list[str] = []
    for tag in tags:
        found = re.fullmatch(r"v(\d+)\.(\d+)(?:\.(\d+))?(-preview)?", tag)
        if not found or f"{found.group(1)}.{found.group(2)}" != version:
            continue
        if found.group(4):
            previews.append(tag)
        else:
            releases.append(((int(found.group(3) or 0),), tag))
    if releases:
        return max(releases)[1]
    if previews:
        return previews[0]
    raise LookupError(f"no tag for MicroPython {version}")


def mpy_version(version: str) -> str:
    numbers = tuple(int(p) for p in version.split("."))
    for first, mpy in FIRST_MPY:
        if numbers >= first:
            return mpy
    raise ValueError(version)


def default_board(tree: Tree, port: Port) -> str:
    if port.variant:
        return port.variant
    text = tree.read(f"ports/{port.name}/Makefile") or ""
    found = re.findall(r"^\s*BOARD\s*\?=\s*([A-Z0-9_]+)\s*$", text, re.M)
    if not found:
        raise LookupError(f"no default BOARD in ports/{port.name}/Makefile")
    return str(found[-1])


def build_config(tree: Tree, port: Port, board: str) -> tuple[dict[str, str], dict[str, str],
                                                                list[str]]:
    """(C macros predefined by the build, build variables, header search folders)."""
    port_dir = f"ports/{port.name}"
    board_dir = f"{port_dir}/variants/{board}" if port.variant else f"{port_dir}/boards/{board}"
    defines = dict(port.predefined)
    search = [board_dir]
    if port.build == "make":
        make = Make(tree, port_dir, {"BOARD": board, "TOP": "../..", "BUILD": "build",
                                     "VARIANT": port.variant, "BOARD_DIR": f"boards/{board}",
                                     "VARIANT_DIR": f"variants/{board}"})
        if not port.variant:
            make.vars.pop("VARIANT_DIR")
            make.vars.pop("VARIANT")
        make.run(f"{port_dir}/Makefile")
        defines.update(make.defines())
        variables = make.vars
        for flag in make.expand(make.vars.get("INC", "")).split():
            if flag.startswith("-I"):
                folder = make.path(flag[2:])
                if folder.startswith(port_dir) and tree.is_dir(folder):
                    search.append(folder)
    else:
        cmake = CMake(tree, {"MICROPY_DIR": ".", "MICROPY_PORT_DIR": port_dir,
                             "CMAKE_CURRENT_LIST_DIR": port_dir,
                             "CMAKE_BINARY_DIR": "build", **port.cmake_vars})
        cmake.run(f"{port_dir}/CMakeLists.txt")
        for extra in port.cmake_extra:
            cmake.run(f"{port_dir}/{extra}", optional=True)
        defines.update(cmake.definitions)
        variables = cmake.vars
        for item in re.split(r"[;\s]+", cmake.vars.get("SDKCONFIG_DEFAULTS", "")):
            text = tree.read(norm(posixpath.join(port_dir, item))) if item else None
            for line in (text or "").splitlines():
                found = re.fullmatch(r"(CONFIG_\w+)=(.*)", line.strip())
                if found and found.group(2) == "y":
                    defines[found.group(1)] = "1"
                elif found and found.group(2) == "n":
                    defines.pop(found.group(1), None)
                elif found:
                    defines[found.group(1)] = found.group(2)
    search.append(port_dir)
    return defines, variables, search


def port_sources(tree: Tree, port: Port, board_dir: str) -> list[str]:
    """C files that register a module: all of py/ and extmod/, the port's files that its
    build names, and the default board's own files."""
    port_dir = f"ports/{port.name}"

    def is_build_file(path: str) -> bool:
        inner = path[len(port_dir):]
        return (path.startswith(port_dir + "/") and "/boards/" not in inner
                and "/variants/" not in inner
                and (posixpath.basename(path) in {"Makefile", "CMakeLists.txt"}
                     or path.endswith((".mk", ".cmake"))))

    build_text = "\n".join(tree.read(p) or "" for p in sorted(tree.entries) if is_build_file(p))
    files = []
    for path in sorted(tree.entries):
        if not path.endswith((".c", ".cpp")):
            continue
        core = path.startswith(("py/", "extmod/")) and path.count("/") == 1
        board = path.startswith(board_dir + "/")
        port_file = (path.startswith(port_dir + "/") and "/boards/" not in path
                     and "/variants/" not in path and posixpath.basename(path) in build_text)
        if core or board or port_file:
            files.append(path)
    return files


def profile(tree: Tree, lib: Tree | None, port: Port, version: str) -> dict[str, object]:
    board = default_board(tree, port)
    port_dir = f"ports/{port.name}"
    board_dir = f"{port_dir}/variants/{board}" if port.variant else f"{port_dir}/boards/{board}"
    defines, variables, search = build_config(tree, port, board)

    cpp = Preprocessor(tree, search, {k: Macro(None, v) for k, v in defines.items()})
    cpp.run("py/mpconfig.h")

    builtins: set[str] = set()
    extensible: set[str] = set()
    for path in port_sources(tree, port, board_dir):
        text = tree.read(path) or ""
        if "MP_REGISTER_" not in text:
            continue

        def found(line: str) -> None:
            match = REGISTER.search(line)
            if match:
                builtins.add(match.group(2))
                if match.group(1):
                    extensible.add(match.group(2))

        cpp.copy().run(path, found)

    manifest_path = variables.get("FROZEN_MANIFEST") or variables.get("MICROPY_FROZEN_MANIFEST")
    frozen: set[str] = set()
    if manifest_path:
        make_like = Make(tree, port_dir, variables)
        resolved = make_like.expand(manifest_path) if port.build == "make" else manifest_path
        resolved = make_like.path(resolved) if port.build == "make" else norm(resolved)
        # absolute (leading "/") so that they do not join the including manifest's folder
        manifest = Manifest(tree, lib, {
            "MPY_DIR": "/", "PORT_DIR": "/" + port_dir, "BOARD_DIR": "/" + board_dir,
            "VARIANT_DIR": "/" + board_dir, "MPY_LIB_DIR": "/" + Manifest.LIB})
        manifest.include(resolved)
        frozen = manifest.names

    # 1.28 names the switch; before it, loading native code followed these two
    native = cpp.evaluate("MICROPY_PERSISTENT_CODE_LOAD_NATIVE"
                          if "MICROPY_PERSISTENT_CODE_LOAD_NATIVE" in cpp.macros
                          else "MICROPY_PERSISTENT_CODE_LOAD && MICROPY_EMIT_MACHINE_CODE")
    return {
        "port": port.name, "version": version, "tag": tree.rev, "board": board,
        "mpy": mpy_version(version), "arch": port.arch if native else None,
        "builtins": sorted(builtins), "extensible": sorted(extensible),
        "frozen": sorted(frozen - builtins),
    }


# Left out of "generic": nrf's default board (PCA10040, an nRF52832) is built at
# the BASIC feature level, without json, re, select, errno or hashlib, which
# every other port has; counting it would make upip install ffi-era stand-ins
# for them on every board. `--target nrf` covers such a board.
GENERIC_EXCLUDES = frozenset({"nrf"})


def generic(profiles: dict[str, dict[str, object]], version: str) -> dict[str, object]:
    """What every port but those of GENERIC_EXCLUDES has at ``version``: built in
    everywhere, or at least provided (built in or frozen) everywhere."""
    chosen = [p for p in profiles.values()
              if p["version"] == version and p["port"] not in GENERIC_EXCLUDES]

    def names(p: dict[str, object], key: str) -> set[str]:
        value = p[key]
        assert isinstance(value, list)
        return set(value)

    builtins = set.intersection(*(names(p, "builtins") for p in chosen))
    extensible = set.intersection(*(names(p, "extensible") for p in chosen))
    provided = set.intersection(*(names(p, "builtins") | names(p, "frozen") for p in chosen))
    return {
        "port": "generic", "version": version, "tag": chosen[0]["tag"], "board": "",
        "mpy": mpy_version(version), "arch": None, "builtins": sorted(builtins),
        "extensible": sorted(extensible & builtins), "frozen": sorted(provided - builtins),
    }


def dump(profiles: dict[str, dict[str, object]]) -> str:
    """Compact, sorted JSON with one profile a line (readable diffs)."""
    lines = [f"{json.dumps(name)}:{json.dumps(profiles[name], sort_keys=True, separators=(',', ':'))}"
             for name in sorted(profiles)]
    return '{"profiles":{\n' + ",\n".join(lines) + "\n}}\n"


def generate(repo: Path, lib_repo: Path | None, versions: list[str],
             ports: list[str] | None = None) -> dict[str, dict[str, object]]:
    git = Git(repo)
    lib_git = Git(lib_repo) if lib_repo and lib_repo.exists() else None
    profiles: dict[str, dict[str, object]] = {}
    try:
        tags = git.tags()
        for version in versions:
            tag = newest_tag(tags, version)
            tree = Tree(git, tag)
            commit = tree.submodule("lib/micropython-lib")
            lib = Tree(lib_git, commit) if lib_git and commit and lib_git.has_commit(commit) \
                else None
            if lib is None:
                log(f"{tag}: micropython-lib {commit} not available; required packages keep "
                    "their names")
            for port in PORTS:
                if ports and port.name not in ports:
                    continue
                log(f"{tag} {port.name}")
                profiles[f"{port.name}-{version}"] = profile(tree, lib, port, version)
        if not ports or len(ports) == len(PORTS):
            profiles["generic"] = generic(profiles, versions[-1])
    finally:
        git.close()
        if lib_git:
            lib_git.close()
    return profiles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=DEFAULT_REPO,
                        help="git mirror of micropython/micropython")
    parser.add_argument("--lib", type=Path, default=DEFAULT_LIB,
                        help="git mirror of micropython/micropython-lib")
    parser.add_argument("--version", action="append", dest="versions",
                        help="a MicroPython release such as 1.29 (repeatable; default: all)")
    parser.add_argument("--port", action="append", dest="ports",
                        help="only this port (repeatable; the generic profile needs all)")
    parser.add_argument("-o", "--output", type=Path, default=OUT,
                        help="where to write the JSON ('-' for stdout)")
    args = parser.parse_args(argv)
    profiles = generate(args.repo, args.lib, args.versions or VERSIONS, args.ports)
    text = dump(profiles)
    if str(args.output) == "-":
        sys.stdout.write(text)
    else:
        args.output.write_text(text, encoding="utf-8")
        log(f"wrote {len(profiles)} profiles to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
