"""The house's import rules: no circle anywhere, and no floor imports a floor above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "handlers", "bot")
# What each floor must never import (itself included in nothing above it).
FORBIDDEN = {
    "models": ("handlers", "bot", "telegram", "fastapi", "starlette", "tornado", "jinja2"),
    "handlers": ("bot",),
}


def modules() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imported(path: Path, name: str, known: dict[str, Path]) -> set[str]:
    """Every module NAME imports, anywhere in the file (functions and TYPE_CHECKING included)."""
    is_package = path.name == "__init__.py"
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from package import module` needs the module; any other name needs the package.
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.add(submodule if submodule in known else base)
    return targets


def graph() -> dict[str, set[str]]:
    """Project module -> the project modules it imports (a package's parents excluded)."""
    known = modules()
    edges: dict[str, set[str]] = {}
    for name, path in known.items():
        targets = imported(path, name, known)
        edges[name] = {t for t in targets if t in known and t != name}
    return edges


def external(name: str) -> set[str]:
    """Every top-level name module NAME imports."""
    known = modules()
    return {t.split(".")[0] for t in imported(known[name], name, known) if t}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_round_a_circle() -> None:
    """No circle of imports, however hidden (inside a function or under TYPE_CHECKING)."""
    assert cycles(graph()) == []


@pytest.mark.parametrize("floor", sorted(FORBIDDEN))
def test_no_floor_imports_a_floor_above_it(floor: str) -> None:
    """models knows nothing of Telegram, the web or the application; handlers nothing of bot."""
    offences = {
        name: sorted(external(name) & set(FORBIDDEN[floor]))
        for name in modules()
        if name.split(".")[0] == floor
    }
    assert {name: found for name, found in offences.items() if found} == {}


def test_the_walk_sees_imports_inside_functions(tmp_path: Path) -> None:
    """The checker itself: an import inside a function counts."""
    source = tmp_path / "mod.py"
    source.write_text("def f():\n    from models.storage import database\n")
    known = {"models.storage.database": source, "models.storage": source}
    assert "models.storage.database" in imported(source, "mod", known)
    assert cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b"]]
