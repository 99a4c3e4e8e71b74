"""/lookup IMEI_OR_REF and the "Reveal contact" button: audited reads of the register."""

from __future__ import annotations

from telegram import Update

from handlers.context import BotContext
from handlers.engine import callbacks
from handlers.staff.access import StaffUser, staff_only
from handlers.staff.render import REVEAL, contact_lines, report_card, reveal_button
from handlers.texts import Html, describe, text
from models.services.reports import ReportView
from models.services.staff import Role
from models.values.imei import Imei, InvalidImei
from models.values.reference import InvalidReference, Reference

MAX_CARDS = 5


def parse_query(query: str) -> Imei | Reference:
    """An IMEI when the text has no letters, else a reference; ValueError says what is wrong."""
    if any(char.isalpha() for char in query):
        return Reference.parse(query)
    return Imei.parse(query)


async def find(context: BotContext, query: Imei | Reference) -> list[ReportView]:
    """The reports QUERY names (either IMEI slot, or the reference)."""
    if isinstance(query, Imei):
        return await context.register.reports.find_by_imei(query)
    found = await context.register.reports.get(query)
    return [found] if found else []


@staff_only(Role.OFFICER)
async def lookup(update: Update, context: BotContext, staff: StaffUser) -> None:
    """Show the reports that hold an IMEI, or the report with a reference."""
    message = update.effective_message
    assert message is not None
    typed = " ".join(context.args or []).strip()
    if not typed:
        await message.reply_text(text("staff.lookup_usage"))
        return
    try:
        query = parse_query(typed)
    except InvalidImei as exc:
        await message.reply_text(text("staff.bad_imei", reason=Html(describe(exc))))
        return
    except InvalidReference as exc:
        await message.reply_text(text("staff.bad_reference", reason=Html(describe(exc))))
        return
    reports = await find(context, query)
    # The audit trail never holds a full IMEI.
    target = query.masked if isinstance(query, Imei) else str(query)
    await context.register.audit.record(
        staff.actor,
        "lookup",
        target,
        kind=type(query).__name__.lower(),
        found=len(reports),
        contact_shown=staff.is_admin and bool(reports),
        channel="telegram",
    )
    label = query.grouped if isinstance(query, Imei) else str(query)
    if not reports:
        await message.reply_text(text("staff.not_found", query=label))
        return
    if len(reports) > 1:
        await message.reply_text(text("staff.found_many", query=label, count=len(reports)))
    for report in reports[:MAX_CARDS]:
        delivery = await context.register.outbox.delivery_summary(report.id)
        await message.reply_text(
            report_card(report, with_contact=staff.is_admin, delivery=delivery),
            reply_markup=None if staff.is_admin else reveal_button(report.reference),
        )
    if len(reports) > MAX_CARDS:
        await message.reply_text(text("staff.found_more", count=len(reports) - MAX_CARDS))


@staff_only(Role.OFFICER)
async def reveal(update: Update, context: BotContext, staff: StaffUser) -> None:
    """Show a report's contact details, and record that they were revealed."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and query.data is not None and chat is not None
    parts = callbacks.unpack(query.data, REVEAL, 1)
    try:
        report = await context.register.reports.get(Reference.parse(parts[0])) if parts else None
    except InvalidReference:
        report = None
    if report is None:
        await query.answer(text("staff.button_expired"), show_alert=True)
        return
    await context.register.audit.record(
        staff.actor, "contact_reveal", report.reference, channel="telegram"
    )
    await query.answer()
    lines = [text("staff.contact_revealed", reference=report.reference), *contact_lines(report)]
    await context.bot.send_message(chat.id, "\n".join(lines))
