"""Showing reports to staff: statuses, contact details, and the staff buttons' data."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.engine import callbacks
from handlers.texts import text
from models.services.reports import ReportView
from models.values.statuses import Status, allowed_next

STAFF = "s"  # every staff button's data starts "s:"
SET_STATUS = "s:st"
REVEAL = "s:rv"
RECOVERY = "s:rc"
# Victims' free text is capped on display so that a report card always fits in one message.
MAX_FIELD = 300
MAX_DELIVERY_PROBLEMS = 3


def short(value: str | None) -> str:
    """Free text cut to MAX_FIELD characters for display."""
    if not value:
        return ""
    return value if len(value) <= MAX_FIELD else value[: MAX_FIELD - 1] + "…"


def status_list() -> str:
    """Every status, as staff type them."""
    return ", ".join(status.value for status in Status)


def callback(prefix: str, *parts: str) -> str:
    """Callback data for a staff button: PREFIX (e.g. SET_STATUS), then PARTS."""
    return callbacks.pack(prefix, *parts)


def status_buttons(reference: str, current: Status) -> InlineKeyboardMarkup | None:
    """One button per status REFERENCE may move to from CURRENT."""
    moves = allowed_next(current)
    if not moves:
        return None
    buttons = [
        InlineKeyboardButton(status.value, callback_data=callback(SET_STATUS, reference, status))
        for status in moves
    ]
    return InlineKeyboardMarkup([buttons[i : i + 2] for i in range(0, len(buttons), 2)])


def reveal_button(reference: str) -> InlineKeyboardMarkup:
    """The button that reveals (and audits) a report's contact details."""
    label = text("staff.button_reveal")
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=callback(REVEAL, reference))]]
    )


def contact_lines(report: ReportView) -> list[str]:
    """The victim's contact details (admins, or an audited reveal)."""
    unknown = text("staff.unknown_value")
    network = report.get("network")
    lines = [
        text("staff.card_contact_title"),
        text("staff.card_contact_name", name=short(report.get("contact_name")) or unknown),
        text("staff.card_contact_phone", phone=report.get("contact_phone") or unknown),
        text("staff.card_contact_email", email=short(report.get("contact_email")) or unknown),
        text("staff.card_contact_channel", channel=report.get("preferred_channel") or unknown),
        text(
            "staff.card_stolen_number",
            number=report.get("stolen_number") or unknown,
            network=f"({short(network)})" if network else "",
        ),
        text(
            "staff.card_own_account",
            answer=text("staff.yes" if report.own_account else "staff.no"),
        ),
    ]
    return lines
