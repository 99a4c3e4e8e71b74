"""A report as staff read it, drawn the same way by every face (CLI, Telegram /lookup, web).

`report_sheet` builds a small structured form: sections of labelled fields whose labels and fixed
words are catalogue keys (`Term`) and whose other parts are plain text from the register. A face
draws it: `render_text` for a terminal, an HTML face escaping the plain parts. Nothing here knows
a language: the face passes the function that turns a key into words.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from models.services.outbox import DeliverySummary
from models.services.reports import ReportView
from models.services.search import EventEntry
from models.values.crime import FORCES


@dataclass(frozen=True, slots=True)
class Term:
    """A fixed word or phrase, by catalogue key (e.g. `staff.sheet_loss_robbery`)."""

    key: str


Part = str | Term


@dataclass(frozen=True, slots=True)
class Field:
    """One labelled line: LABEL is a catalogue key, PARTS the value; WARNING marks a problem."""

    label: str
    parts: tuple[Part, ...]
    warning: bool = False


@dataclass(slots=True)
class Section:
    """A titled group of fields (title: catalogue key)."""

    title: str
    fields: list[Field] = field(default_factory=list)

    def add(self, label: str, *parts: Part | None, warning: bool = False) -> None:
        """Add a field, leaving out parts that are None."""
        kept = tuple(part for part in parts if part is not None and part != "")
        self.fields.append(Field(f"staff.sheet_{label}", kept or (UNKNOWN,), warning))


@dataclass(slots=True)
class Sheet:
    """Everything staff see about one report."""

    reference: str
    status: str
    sections: list[Section] = field(default_factory=list)


UNKNOWN = Term("staff.unknown_value")
MAX_TEXT = 300


def moment(value: datetime | None) -> str | None:
    """A time as staff read it (UTC, to the minute)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def short(value: str | None) -> str | None:
    """Free text cut to MAX_TEXT characters."""
    if not value:
        return None
    return value if len(value) <= MAX_TEXT else value[: MAX_TEXT - 1] + "…"


def _term(prefix: str, value: str | None) -> Term | None:
    return Term(f"staff.sheet_{prefix}_{value}") if value else None


def _device(report: ReportView) -> Section:
    section = Section("staff.sheet_device")
    colour = short(report.get("colour"))
    model = short(report.get("model"))
    section.add(
        "make_model",
        report.make.capitalize(),
        f" {model}" if model else None,
        f" ({colour})" if colour else None,
    )
    if report.tac_make or report.tac_model:
        section.add(
            "tac",
            report.tac_make,
            f" {report.tac_model}" if report.tac_model else None,
            " — " if report.tac_mismatch else None,
            Term("staff.sheet_tac_mismatch") if report.tac_mismatch else None,
            warning=bool(report.tac_mismatch),
        )
    imeis = report.imeis
    section.add("imeis", ", ".join(imeis) if imeis else None)
    return section


def _window(report: ReportView) -> tuple[Part | None, ...]:
    start, end = report.incident_from, report.incident_to
    if start is None and end is None:
        return (moment(report.incident_at),)
    if start == end or end is None:
        return (moment(start),)
    return (moment(start), " ", Term("staff.sheet_until"), " ", moment(end))


def _what(report: ReportView) -> Section:
    section = Section("staff.sheet_what")
    method = report.theft_method
    section.add(
        "loss_kind",
        _term("loss", report.loss_kind),
        f" ({method.replace('_', ' ')})" if method else None,
    )
    section.add("when", *_window(report))
    section.add("filed", moment(report.created_at))
    force = FORCES.get(report.police_force or "", report.police_force)
    section.add(
        "crime_reference",
        report.crime_reference,
        f" ({force})" if force and report.crime_reference else force if force else None,
    )
    return section


def _point(
    name: str | None,
    lat: float | None,
    lon: float | None,
    source: str | None,
    precision: str | None,
) -> tuple[Part | None, ...]:
    parts: list[Part | None] = [short(name)]
    if lat is not None and lon is not None:
        parts.append(f"{' — ' if name else ''}{lat:.5f}, {lon:.5f} (")
        parts.append(_term("source", source) or UNKNOWN)
        parts.append(", ")
        parts.append(_term("precision", precision) or UNKNOWN)
        parts.append(")")
    elif name:
        parts += [" (", Term("staff.sheet_not_on_map"), ")"]
    return tuple(parts)


def _where(report: ReportView) -> Section:
    section = Section("staff.sheet_where")
    section.add(
        "taken_at",
        *_point(
            report.get("place"),
            report.incident_lat,
            report.incident_lon,
            report.incident_point_source,
            report.incident_point_precision,
        ),
    )
    if report.tracked_at or report.tracked_lat is not None or report.get("tracked_place"):
        section.add(
            "tracked_at",
            *_point(
                report.get("tracked_place"),
                report.tracked_lat,
                report.tracked_lon,
                report.tracked_point_source,
                report.tracked_point_precision,
            ),
            " · ",
            moment(report.tracked_at),
        )
    return section


def _contact(report: ReportView) -> Section:
    section = Section("staff.sheet_contact")
    section.add("name", short(report.get("contact_name")))
    section.add("phone", report.get("contact_phone"))
    section.add("email", short(report.get("contact_email")))
    section.add("channel", report.get("preferred_channel"))
    network = short(report.get("network"))
    section.add("stolen_number", report.get("stolen_number"), f" ({network})" if network else None)
    section.add("own_account", Term("staff.yes" if report.own_account else "staff.no"))
    return section


def _history(report: ReportView, events: Sequence[EventEntry]) -> Section:
    section = Section("staff.sheet_history")
    entries: list[tuple[datetime, int, tuple[Part | None, ...]]] = []
    for order, change in enumerate(report.history):
        parts: tuple[Part | None, ...] = (
            change.status.value,
            " · ",
            change.actor,
            f" · “{short(change.note)}”" if change.note else None,
        )
        entries.append((change.changed_at, order, parts))
    for order, event in enumerate(events, start=len(entries)):
        detail = event.detail
        if event.kind == "police_force" and detail:
            detail = FORCES.get(detail, detail)
        parts = (
            Term(f"staff.sheet_event_{event.kind}"),
            f" {detail}" if detail else None,
            " · ",
            event.actor,
        )
        entries.append((event.at, order, parts))
    for at, _, parts in sorted(entries, key=lambda entry: (entry[0], entry[1])):
        section.fields.append(
            Field("staff.sheet_history_entry", (moment(at) or "", " · ", *[p for p in parts if p]))
        )
    return section


def _delivery(delivery: DeliverySummary) -> Section:
    section = Section("staff.sheet_delivery")
    section.add(
        "subscriptions",
        str(delivery.active_subscriptions),
        " / ",
        str(delivery.ended_subscriptions),
    )
    counts = delivery.counts
    section.add(
        "notifications", ", ".join(f"{state} {counts[state]}" for state in sorted(counts)) or None
    )
    for item in delivery.notifications:
        if item.state == "failed" or item.attempts > 1:
            section.add(
                "delivery_problem",
                f"{item.kind.removeprefix('status:')} · {item.state} · {item.attempts} · ",
                short(item.last_error),
                warning=item.state == "failed",
            )
    return section


def report_sheet(
    report: ReportView,
    *,
    events: Sequence[EventEntry] = (),
    delivery: DeliverySummary | None = None,
    with_contact: bool,
) -> Sheet:
    """The whole report as staff see it; the contact section only WITH_CONTACT."""
    sheet = Sheet(report.reference, report.status.value)
    sheet.sections += [_device(report), _what(report), _where(report)]
    if with_contact:
        sheet.sections.append(_contact(report))
    sheet.sections.append(_history(report, events))
    if delivery is not None:
        sheet.sections.append(_delivery(delivery))
    return sheet


def render_text(sheet: Sheet, words: Callable[[str], str]) -> str:
    """SHEET as plain text for a terminal; WORDS turns a catalogue key into words."""

    def value(parts: Sequence[Part]) -> str:
        return "".join(words(part.key) if isinstance(part, Term) else part for part in parts)

    lines = [f"{sheet.reference}  {sheet.status}"]
    for section in sheet.sections:
        lines.append("")
        lines.append(words(section.title))
        for item in section.fields:
            mark = "! " if item.warning else "  "
            if item.label == "staff.sheet_history_entry":
                lines.append(f"{mark}{value(item.parts)}")
                continue
            lines.append(f"{mark}{words(item.label) + ':':<24} {value(item.parts)}")
    return "\n".join(lines)
