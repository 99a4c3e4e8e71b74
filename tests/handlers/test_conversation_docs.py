"""docs/conversation.md stays true to the code: its diagram names exactly the declared steps."""

from __future__ import annotations

import re
from pathlib import Path

from handlers.conversation.states import QUESTIONS

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
