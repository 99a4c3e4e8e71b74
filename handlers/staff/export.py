"""/export [since] [until] [status] [csv|jsonl]: reports as a file, for admins; audited."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from telegram import Update

from handlers.context import BotContext
from handlers.engine import clock
from handlers.staff.access import StaffUser, staff_only
from handlers.staff.render import status_list
from handlers.texts import text
from models.services.export import ExportFilter, ExportFormat, ExportOptionError
from models.services.staff import Role
from models.values.statuses import Status, parse_status

# What the Bot API lets a bot upload.
MAX_UPLOAD_MB = 50


class BadArgument(ValueError):
    """An /export argument that is neither a date, a status nor a format."""


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What /export was asked for."""

    selection: ExportFilter
    export_format: ExportFormat
    since_day: date | None
    until_day: date | None


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def parse_arguments(arguments: list[str]) -> ExportRequest:
    """Dates (first since, then until, both days included), a status and a format, any order."""
    days: list[date] = []
    status: Status | None = None
    export_format = ExportFormat.CSV
    for argument in arguments:
        lowered = argument.lower()
        if lowered in {member.value for member in ExportFormat}:
            export_format = ExportFormat(lowered)
            continue
        try:
            days.append(date.fromisoformat(argument))
            continue
        except ValueError:
            pass
        try:
            status = parse_status(argument)
        except ValueError:
            raise BadArgument(argument) from None
    if len(days) > 2:
        raise BadArgument(days[2].isoformat())
    since_day = days[0] if days else None
    until_day = days[1] if len(days) > 1 else None
    selection = ExportFilter(
        since=_midnight(since_day) if since_day else None,
        until=_midnight(until_day + timedelta(days=1)) if until_day else None,
        status=status,
    )
    return ExportRequest(selection, export_format, since_day, until_day)


def describe(request: ExportRequest) -> str:
    """The filters in words, for the caption."""
    parts = []
    if request.since_day:
        parts.append(text("staff.export_filter_since", date=request.since_day.isoformat()))
    if request.until_day:
        parts.append(text("staff.export_filter_until", date=request.until_day.isoformat()))
    if request.selection.status:
        parts.append(text("staff.export_filter_status", status=request.selection.status.value))
    return ", ".join(parts) or text("staff.export_filter_all")


@staff_only(Role.ADMIN)
async def export(update: Update, context: BotContext, staff: StaffUser) -> None:
    """Write the export to a temporary file and send it as a document."""
    message = update.effective_message
    chat = update.effective_chat
    assert message is not None and chat is not None
    usage = text("staff.export_usage", statuses=status_list())
    try:
        request = parse_arguments(context.args or [])
    except BadArgument as exc:
        await message.reply_text(text("staff.export_bad_argument", argument=str(exc), usage=usage))
        return
    selection = request.selection
    if selection.since and selection.until and selection.since >= selection.until:
        await message.reply_text(text("staff.export_bad_range"))
        return
    try:
        selection.check(request.export_format)
    except ExportOptionError as exc:
        await message.reply_text(text("staff.export_option", usage=usage, **exc.params))
        return
    stamp = clock.now().strftime("%Y%m%d-%H%M%S")
    with tempfile.TemporaryDirectory(prefix="reportbot-export-") as folder:
        target = Path(folder) / f"reports-{stamp}{request.export_format.suffix}"
        result = await context.register.export.to_file(
            target, request.export_format, selection, actor=staff.actor, channel="telegram"
        )
        if result.rows == 0:
            await message.reply_text(text("staff.export_empty", filters=describe(request)))
            return
        size_mb = target.stat().st_size / 1_000_000
        if size_mb > MAX_UPLOAD_MB:
            await message.reply_text(
                text("staff.export_too_big", size=f"{size_mb:.0f}", limit=MAX_UPLOAD_MB)
            )
            return
        caption = text(
            "staff.export_caption",
            rows=result.rows,
            filters=describe(request),
            format=request.export_format.value.upper(),
        )
        await context.bot.send_document(
            chat.id, document=target, filename=target.name, caption=caption
        )
