"""docs/conversation.md stays true to the code: its diagram names exactly the declared steps."""

from __future__ import annotations

import re
from pathlib import Path

from handlers.conversation import diagram, flow
from handlers.conversation.turn import QUESTIONS

DOC = Path(__file__).resolve().parents[2] / "docs" / "conversation.md"


def test_the_state_diagram_names_every_step_and_no_other():
    diagram = DOC.read_text().split("```mermaid", 1)[1].split("```", 1)[0]
    edges = re.findall(r"^\s*(\S+) --> (\S+?):?(?:\s|$)", diagram, flags=re.MULTILINE)
    named = {state for edge in edges for state in edge} - {"[*]"}
    assert named == set(QUESTIONS)


def test_every_step_is_described():
    table = DOC.read_text().split("## Steps", 1)[1]
    described = set(re.findall(r"`([a-z_0-9]+)`", table))
    assert set(QUESTIONS) <= described


def test_the_diagram_is_drawn_from_the_flow_table():
    """docs/conversation.md holds exactly what `python -m handlers.conversation.diagram` draws."""
    assert diagram.written(DOC.read_text()) == diagram.render()


def test_every_move_of_the_table_joins_declared_steps_and_each_step_is_reached():
    steps = set(QUESTIONS) | {flow.OUTSIDE}
    assert {move.source for move in flow.FLOW} <= steps
    assert {move.target for move in flow.FLOW} <= steps
    reached = {move.target for move in flow.FLOW if move.source != move.target}
    assert set(QUESTIONS) <= reached


def test_the_check_fails_on_a_diagram_that_differs(monkeypatch, tmp_path):
    stale = tmp_path / "conversation.md"
    stale.write_text(DOC.read_text().replace("consent --> account", "consent --> make"))
    monkeypatch.setattr(diagram, "DOC", stale)
    assert diagram.main(["--check"]) == 1
    assert diagram.main(["--write"]) == 0
    assert diagram.main(["--check"]) == 0
    assert stale.read_text() == DOC.read_text()
