"""The Mermaid state diagram of the conversation, drawn from flow.FLOW into docs/conversation.md.

`python -m handlers.conversation.diagram` prints it; `--write` puts it in the document, in place
of the diagram there; `--check` exits 1 when the document's diagram differs from the table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from handlers.conversation.flow import FLOW

DOC = Path(__file__).resolve().parents[2] / "docs" / "conversation.md"
OPEN = "```mermaid\n"
CLOSE = "```"


def render() -> str:
    """The diagram's Mermaid source, one line per move, in the table's order."""
    lines = ["stateDiagram-v2"]
    lines += [f"    {move.source} --> {move.target}: {move.label}" for move in FLOW]
    return "\n".join(lines) + "\n"


def written(document: str) -> str:
    """The diagram as DOCUMENT holds it."""
    return document.split(OPEN, 1)[1].split(CLOSE, 1)[0]


def replaced(document: str) -> str:
    """DOCUMENT with its diagram drawn again from the table."""
    before, rest = document.split(OPEN, 1)
    after = rest.split(CLOSE, 1)[1]
    return f"{before}{OPEN}{render()}{CLOSE}{after}"


def main(argv: list[str] | None = None) -> int:
    """Print, write or check the diagram."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help=f"update {DOC.name}")
    action.add_argument("--check", action="store_true", help=f"fail if {DOC.name} differs")
    args = parser.parse_args(argv)
    document = DOC.read_text()
    if args.write:
        DOC.write_text(replaced(document))
    elif args.check:
        if written(document) != render():
            print(
                f"{DOC} differs from flow.FLOW: run python -m handlers.conversation.diagram --write"
            )
            return 1
    else:
        sys.stdout.write(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
