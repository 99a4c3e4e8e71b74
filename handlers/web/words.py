"""Words for the console (English, like every staff screen): refusals and report sheets."""

from __future__ import annotations

from dataclasses import dataclass

from handlers.texts import describe, has, plain, text
from models.errors import RegisterError
from models.present.sheet import Sheet, Term


def explain(error: RegisterError) -> str:
    """A coded refusal in words (victims' `errors.<code>`, else staff's `staff.error_<code>`)."""
    if has(f"errors.{error.code}"):
        return describe(error, html_text=False)
    return plain(text(f"staff.error_{error.code}", **error.params))


def word(key: str) -> str:
    """A catalogue phrase as plain text."""
    return plain(text(key))


@dataclass(frozen=True, slots=True)
class Line:
    """One drawn line of a sheet: its label, its value, whether it marks a problem."""

    label: str
    value: str
    warning: bool


@dataclass(frozen=True, slots=True)
class Block:
    """One drawn section of a sheet."""

    title: str
    lines: list[Line]
    history: bool


def sheet_blocks(sheet: Sheet) -> list[Block]:
    """SHEET's sections with every catalogue key put into words (templates escape the rest)."""
    blocks = []
    for section in sheet.sections:
        lines = [
            Line(
                word(item.label),
                "".join(word(p.key) if isinstance(p, Term) else p for p in item.parts),
                item.warning,
            )
            for item in section.fields
        ]
        blocks.append(Block(word(section.title), lines, section.title == "staff.sheet_history"))
    return blocks
