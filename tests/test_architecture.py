"""The layout's rules that import-linter does not check (see ARCHITECTURE.md):
no import cycle between modules, counting imports inside functions; queries
only in ``storage/``; no module over 500 lines; nothing hung on the bot."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "adapters", "storage")
MAX_LINES = 500
#: Calls that build or run a query; they belong in storage/.
QUERY_BUILDERS = {"select", "update", "delete", "insert", "text"}
QUERY_METHODS = {"exec", "execute", "exec_driver_sql"}
SQL_MODULES = {"sqlmodel", "sqlalchemy", "sqlalchemy.sql", "sqlalchemy.dialects.postgresql"}


def _modules(*packages: str) -> Iterator[tuple[str, Path]]:
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            rel = path.relative_to(ROOT).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            yield ".".join(parts), path


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(tree: ast.AST, module: str, known: set[str]) -> set[str]:
    """Every project module this one imports at run time, wherever the import
    statement is (module level or inside a function), except under
    ``if TYPE_CHECKING:``."""
    found: set[str] = set()

    def resolve(name: str) -> str | None:
        while name and name not in known:
            name = name.rpartition(".")[0]
        return name or None

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for alt in child.orelse:
                    visit(alt)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    target = resolve(alias.name)
                    if target:
                        found.add(target)
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                for alias in child.names:
                    target = resolve(f"{child.module}.{alias.name}") or resolve(child.module)
                    if target:
                        found.add(target)
            visit(child)

    visit(tree)
    found.discard(module)
    return found


def _graph() -> dict[str, set[str]]:
    mods = dict(_modules(*PACKAGES))
    known = set(mods)
    graph = {}
    for name, path in mods.items():
        graph[name] = _imports(ast.parse(path.read_text()), name, known)
    # A package's (empty) __init__ is not an edge worth following.
    packages = {n for n, p in mods.items() if p.name == "__init__.py"}
    return {n: deps - packages for n, deps in graph.items() if n not in packages}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


def test_no_import_cycle_counting_imports_inside_functions() -> None:
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _query_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    builders = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module in SQL_MODULES
        for alias in node.names
        if alias.name in QUERY_BUILDERS
    }
    hits = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in builders:
            hits.append(f"{func.id}() at line {node.lineno}")
        elif isinstance(func, ast.Attribute) and (
            func.attr in QUERY_METHODS
            or (
                func.attr in QUERY_BUILDERS
                and isinstance(func.value, ast.Name)
                and func.value.id in ("sa", "sqlalchemy", "sqlmodel")
            )
        ):
            hits.append(f".{func.attr}() at line {node.lineno}")
    return hits


def test_queries_live_in_storage() -> None:
    outside = {
        str(path.relative_to(ROOT)): hits
        for _name, path in _modules("bot", "adapters")
        if (hits := _query_calls(path))
    }
    assert outside == {}


@pytest.mark.parametrize("package", PACKAGES)
def test_no_module_over_500_lines(package: str) -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for _name, path in _modules(package)
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def test_nothing_is_hung_on_the_bot() -> None:
    """Features keep their state in their own modules, not as attributes set
    on the runtime."""
    offenders = []
    for _name, path in _modules("bot", "adapters"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("setattr", "getattr", "hasattr")
                and node.args
                and "bot" in ast.unparse(node.args[0])
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
