"""Showing reports to staff: the report card, statuses, times and status buttons."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.engine import callbacks
from handlers.texts import MAX_MESSAGE_LENGTH, text
from models.services.outbox import DeliverySummary
from models.services.reports import HistoryEntry, ReportView
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


def when(moment: datetime | None) -> str:
    """A time for staff, in UTC."""
    if moment is None:
        return text("staff.unknown_value")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


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


def describe_device(report: ReportView) -> str:
    """Make, model and colour in one phrase."""
    parts = [report.make.capitalize(), short(report.get("model"))]
    device = " ".join(part for part in parts if part)
    colour = short(report.get("colour"))
    return f"{device} ({colour})" if colour else device


def coordinates(lat: float | None, lon: float | None) -> str:
    """A coordinate pair, or nothing."""
    if lat is None or lon is None:
        return ""
    return f"({lat:.5f}, {lon:.5f})"


def place(name: str | None, lat: float | None, lon: float | None) -> str:
    """A typed place and its coordinates, whichever are known."""
    shown = " ".join(part for part in (short(name), coordinates(lat, lon)) if part)
    return shown or text("staff.unknown_value")


def _method(report: ReportView) -> str:
    return (report.theft_method or text("staff.unknown_value")).replace("_", " ")


def _history(entries: list[HistoryEntry]) -> list[str]:
    lines = []
    for entry in entries:
        lines.append(
            text(
                "staff.card_history_entry",
                when=when(entry.changed_at),
                status=entry.status.value,
                actor=entry.actor,
            )
        )
        if entry.note:
            lines.append(text("staff.card_history_note", note=entry.note))
    return lines


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


def delivery_lines(delivery: DeliverySummary) -> list[str]:
    """Who follows the report and how its notifications fared (no chat ids)."""
    counts = delivery.counts
    states = ", ".join(
        text("staff.delivery_count", state=state, count=counts[state]) for state in sorted(counts)
    )
    lines = [
        text("staff.delivery_title"),
        text(
            "staff.delivery_subscriptions",
            active=delivery.active_subscriptions,
            ended=delivery.ended_subscriptions,
        ),
        text("staff.delivery_states", states=states or text("staff.delivery_none")),
    ]
    troubled = [n for n in delivery.notifications if n.state == "failed" or n.attempts > 1]
    for item in troubled[-MAX_DELIVERY_PROBLEMS:]:
        lines.append(
            text(
                "staff.delivery_problem",
                kind=item.kind.removeprefix("status:"),
                state=item.state,
                attempts=item.attempts,
                reason=short(item.last_error) or text("staff.unknown_value"),
            )
        )
    return lines


def report_card(
    report: ReportView, *, with_contact: bool, delivery: DeliverySummary | None = None
) -> str:
    """Everything staff need about one report, under Telegram's message length."""
    head = [
        text("staff.card_title", reference=report.reference, status=report.status.value),
        text("staff.card_device", device=describe_device(report)),
    ]
    if report.imeis:
        head.append(text("staff.card_imeis", imeis=", ".join(report.imeis)))
    head += [
        text("staff.card_filed", when=when(report.created_at)),
        text("staff.card_taken", when=when(report.incident_at), method=_method(report)),
        text(
            "staff.card_place",
            place=place(report.get("place"), report.incident_lat, report.incident_lon),
        ),
    ]
    if report.duplicate_imei_at is not None:
        head.append(
            text(
                "staff.card_duplicate_imei",
                when=when(report.duplicate_imei_at),
                references=", ".join(report.duplicates) or text("staff.unknown_value"),
            )
        )
    if report.tracked_at or report.tracked_lat is not None or report.get("tracked_place"):
        tracked = place(report.get("tracked_place"), report.tracked_lat, report.tracked_lon)
        head.append(text("staff.card_tracked", place=tracked, when=when(report.tracked_at)))
    tail = contact_lines(report) if with_contact else []
    if delivery is not None:
        tail += ["", *delivery_lines(delivery), ""]
    tail.append(text("staff.card_setstatus_hint", reference=report.reference))
    # Keep the newest history when a long one would not fit in one message.
    cut = 0
    while True:
        history = [text("staff.card_history")]
        if cut:
            history.append(text("staff.card_history_cut", count=cut))
        history += _history(report.history[cut:])
        message = "\n".join([*head, "", *history, "", *tail])
        if len(message) <= MAX_MESSAGE_LENGTH or cut >= len(report.history):
            return message
        cut += 1
