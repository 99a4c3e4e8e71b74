"""The report sheet (models/present/sheet.py) drawn as Telegram HTML for /lookup."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.texts import escape, text
from models.present.sheet import Part, Sheet, Term

HISTORY_ENTRY = "staff.sheet_history_entry"


def _value(parts: Sequence[Part]) -> str:
    return "".join(text(part.key) if isinstance(part, Term) else escape(part) for part in parts)


def render_html(sheet: Sheet) -> str:
    """SHEET as Telegram HTML: every part from the register escaped, warnings marked ⚠️."""
    lines = [f"<b>{escape(sheet.reference)}</b> · <b>{escape(sheet.status)}</b>"]
    for section in sheet.sections:
        lines += ["", f"<b>{text(section.title)}</b>"]
        for item in section.fields:
            mark = "⚠️ " if item.warning else ""
            if item.label == HISTORY_ENTRY:
                lines.append(f"{mark}• {_value(item.parts)}")
            else:
                lines.append(f"{mark}{text(item.label)}: {_value(item.parts)}")
    return "\n".join(lines)
