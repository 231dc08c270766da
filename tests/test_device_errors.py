"""The device client's errors by name, kept in step (read from its sources, as
the host reads them: the device code never runs under CPython).

* The steps raise ``UpipError(_NAME, ...)``: each ``_NAME = const(N)`` means
  the same N in every module that defines it, N is in throw's message table
  under the same name, and no UpipError is raised by a bare number.
* update.sort() answers by name, never a bare number.
* The extensible built-in modules add guards are the host's
  (upip.shadow.EXTENSIBLE_BUILTINS), less the ones left out for a reason; those
  it refuses to hide (not only warns about) are the ones the client imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.device import SOURCES
from upip.shadow import EXTENSIBLE_BUILTINS

CLIENT = SOURCES / "upip"
# Built-ins add does not check (each name the firmware lacks as a qstr costs
# heap for the whole run): no unix port has them, and a board that has them
# (bluetooth on ESP32, string nowhere yet) is told by the host's check.
NOT_ON_THE_DEVICE = {"bluetooth", "string"}


# const() names that are no error: bounds, and what update.sort() answers
NOT_ERRORS = {"_BIG", "_WAIT", "_RATE", "_CAP", "_ROOM", "_PKG_INFO", "_EGG_PKG_INFO", "_REQUIRES",
              "_TOP_LEVEL", "_FILE", "_DROPPED", "_BUILD"}


def tree(name: str) -> ast.Module:
    return ast.parse((CLIENT / name).read_text(), name)


def consts(module: ast.Module) -> dict[str, int]:
    """The module's ``_NAME = const(N)`` assignments."""
    found = {}
    for node in module.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name) and node.value.func.id == "const"):
            arg = node.value.args[0]
            value = ast.literal_eval(arg)
            assert isinstance(value, int)
            found[node.targets[0].id] = value
    return found


def throw_table() -> dict[str, str]:
    """throw.run's {_NAME: message} dict literal, by name."""
    for node in ast.walk(tree("throw.py")):
        if isinstance(node, ast.Dict) and node.keys and all(
                isinstance(k, ast.Name) and k.id.startswith("_") for k in node.keys):
            return {k.id: ast.literal_eval(v)  # type: ignore[union-attr]
                    for k, v in zip(node.keys, node.values, strict=True)}
    raise AssertionError("no message table in throw.py")


def raised_numbers(module: ast.Module) -> list[tuple[int, str]]:
    """(line, what) of each UpipError(...) whose first argument is a number or a
    local `why` (a name of the module's, which consts() checks)."""
    bad = []
    for node in ast.walk(module):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "UpipError" and node.args):
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, int):
                bad.append((node.lineno, ast.unparse(node)))
            if isinstance(first, ast.IfExp) and any(
                    isinstance(x, ast.Constant) for x in (first.body, first.orelse)):
                bad.append((node.lineno, ast.unparse(node)))
    return bad


def test_every_error_name_means_one_number_and_has_words() -> None:
    throw = consts(tree("throw.py"))
    table = throw_table()
    assert set(table) == set(throw)  # every name throw defines has its words
    assert len(set(throw.values())) == len(throw)  # one number, one name
    for path in sorted(CLIENT.glob("*.py")):
        module = tree(path.name)
        mine = {k: v for k, v in consts(module).items() if k not in NOT_ERRORS}
        for name, value in mine.items():
            assert name in throw, f"{path.name}: {name} is not in throw's table"
            assert throw[name] == value, f"{path.name}: {name} = {value}, throw says {throw[name]}"
        assert raised_numbers(module) == [], path.name


def test_no_error_by_bare_number() -> None:
    """The numbers stay in const() lines: nowhere else is a refusal a literal."""
    for path in sorted(CLIENT.glob("*.py")):
        module = tree(path.name)
        for node in ast.walk(module):
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "why" for t in node.targets):
                assert not (isinstance(node.value, ast.Constant) and node.value.value), (
                    f"{path.name}:{node.lineno}: why = {ast.unparse(node.value)}")
            if isinstance(node, ast.Return) and path.name == "mip.py" and isinstance(
                    node.value, ast.Constant):
                assert node.value.value == 0, f"mip.py:{node.lineno}"


def test_update_sorts_by_name() -> None:
    module = tree("update.py")
    sort = next(n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == "sort")
    for node in ast.walk(sort):
        if isinstance(node, ast.Return):
            assert isinstance(node.value, ast.Name), ast.unparse(node)
    names = consts(module)
    assert sorted(names.values()) == [-3, -2, -1, 0, 1, 2, 3]


def test_the_built_ins_add_guards_are_the_hosts() -> None:
    module = tree("add.py")
    found = None
    for node in ast.walk(module):
        if (isinstance(node, ast.FunctionDef) and node.name == "module"):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Compare) and isinstance(inner.comparators[0], ast.Tuple):
                    found = set(ast.literal_eval(inner.comparators[0]))
    assert found is not None, "add.module() lists no built-ins"
    assert found == EXTENSIBLE_BUILTINS - NOT_ON_THE_DEVICE
    assert NOT_ON_THE_DEVICE <= EXTENSIBLE_BUILTINS  # (an exception for a name the host has)


def test_the_built_ins_add_refuses_to_hide_are_ones_upip_imports() -> None:
    # hiding one of these would stop the client itself (refused unless
    # --force); hiding any other extensible built-in is only warned about
    module = tree("module.py")
    hides = next(n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == "hides")
    refused = None
    for inner in ast.walk(hides):
        if isinstance(inner, ast.Compare) and isinstance(inner.comparators[0], ast.Tuple):
            names = ast.literal_eval(inner.comparators[0])
            if all(isinstance(n, str) for n in names):
                refused = set(names)
    assert refused, "module.hides() refuses no built-in"
    assert refused <= EXTENSIBLE_BUILTINS - NOT_ON_THE_DEVICE
    imported = set()
    for path in sorted(CLIENT.glob("*.py")):
        for node in ast.walk(tree(path.name)):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id == "__import__" and node.args):
                text = ast.unparse(node.args[0])  # __import__(b"usocket".decode())
                imported.update(name[1:] for name in EXTENSIBLE_BUILTINS
                                if f"b'u{name}'" in text)
    assert refused == imported & (EXTENSIBLE_BUILTINS - NOT_ON_THE_DEVICE)


def test_the_test_sees_the_sources() -> None:
    assert (CLIENT / "throw.py").is_file() and Path(SOURCES).name == "device"
