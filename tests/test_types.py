"""Typing habits that mypy alone does not enforce (it accepts an explicit Any anywhere)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "models")


def _session_parameters() -> list[tuple[str, int, str]]:
    """(file, line, annotation) of every parameter named `session` in the shipped packages."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    arguments = node.args
                    for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
                        if arg.arg == "session":
                            annotation = ast.unparse(arg.annotation) if arg.annotation else ""
                            found.append((str(path.relative_to(ROOT)), arg.lineno, annotation))
    return found


def test_every_session_parameter_is_an_async_session() -> None:
    """A `session` typed Any (or not at all) hides every statement run on it from mypy."""
    parameters = _session_parameters()
    assert parameters, "no session parameter found: the walk is looking in the wrong place"
    wrong = [item for item in parameters if item[2] != "AsyncSession"]
    assert wrong == []
