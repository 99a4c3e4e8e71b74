"""/lookup and the "Reveal contact" button: audited reads of the register.

/lookup finds reports the way `reportbot lookup` does (StaffSearch: IMEI, reference, the victim's
phone, e-mail or name, the crime reference) and shows each one whole, as the same report sheet.
"""

from __future__ import annotations

from telegram import Update

from handlers.context import BotContext
from handlers.engine import callbacks
from handlers.staff.access import StaffUser, staff_only
from handlers.staff.render import REVEAL, contact_lines, reveal_button
from handlers.staff.sheet import render_html
from handlers.texts import Html, describe, split_message, text
from models.present.sheet import report_sheet
from models.services.reports import ReportView
from models.services.search import BadQuery, Query, SearchBy, guess_kind
from models.services.search import parse_query as parse_search
from models.services.staff import Role
from models.values.imei import Imei, InvalidImei
from models.values.reference import InvalidReference, Reference

MAX_SHEETS = 5
# `/lookup phone 07912 345678`: a first word that says how the rest is meant.
KINDS = {
    "imei": SearchBy.IMEI,
    "ref": SearchBy.REFERENCE,
    "reference": SearchBy.REFERENCE,
    "phone": SearchBy.PHONE,
    "email": SearchBy.EMAIL,
    "name": SearchBy.NAME,
    "crime": SearchBy.CRIME_REFERENCE,
}


def parse_query(query: str) -> Imei | Reference:
    """An IMEI when the text has no letters, else a reference; ValueError says what is wrong."""
    if any(char.isalpha() for char in query):
        return Reference.parse(query)
    return Imei.parse(query)


def search_of(words: list[str], region: str) -> Query:
    """The search WORDS ask for: `[how] what`, how guessed when not given; BadQuery if unclear.

    A guessed IMEI or reference is parsed on its own, so that a typo gets its exact refusal.
    """
    by = KINDS.get(words[0].casefold()) if len(words) > 1 else None
    typed = " ".join(words[1:] if by else words)
    if by is None and guess_kind(typed, region) in (SearchBy.IMEI, SearchBy.REFERENCE):
        value = parse_query(typed)
        return Query(SearchBy.IMEI if isinstance(value, Imei) else SearchBy.REFERENCE, value)
    return parse_search(typed, by, region=region)


def label_of(query: Query, typed: str) -> str:
    """How the answer names what was looked for."""
    if query.by is SearchBy.IMEI:
        imei: Imei = query.value
        return imei.grouped
    return str(query.value) if query.by is SearchBy.REFERENCE else typed


async def sheets_of(context: BotContext, report: ReportView, *, with_contact: bool) -> list[str]:
    """The report's whole sheet as Telegram messages (split at line ends when long)."""
    register = context.register
    sheet = report_sheet(
        report,
        events=await register.search.events(report.id),
        delivery=await register.outbox.delivery_summary(report.id),
        with_contact=with_contact,
    )
    return split_message(render_html(sheet))


@staff_only(Role.OFFICER)
async def lookup(update: Update, context: BotContext, staff: StaffUser) -> None:
    """Find reports by IMEI, reference, phone, e-mail, name or crime reference; show each whole."""
    message = update.effective_message
    assert message is not None
    words = list(context.args or [])
    if not words:
        await message.reply_text(text("staff.lookup_usage"))
        return
    try:
        query = search_of(words, context.config.default_region)
    except InvalidImei as exc:
        await message.reply_text(text("staff.bad_imei", reason=Html(describe(exc))))
        return
    except InvalidReference as exc:
        await message.reply_text(text("staff.bad_reference", reason=Html(describe(exc))))
        return
    except BadQuery as exc:
        await message.reply_text(text(f"staff.error_{exc.code}"))
        return
    reports = await context.register.search.find(
        query, actor=staff.actor, channel="telegram", contact_shown=staff.is_admin
    )
    label = label_of(query, " ".join(words))
    if not reports:
        await message.reply_text(text("staff.not_found", query=label))
        return
    if len(reports) > 1:
        await message.reply_text(text("staff.found_many", query=label, count=len(reports)))
    for report in reports[:MAX_SHEETS]:
        parts = await sheets_of(context, report, with_contact=staff.is_admin)
        for part in parts[:-1]:
            await message.reply_text(part)
        await message.reply_text(
            parts[-1], reply_markup=None if staff.is_admin else reveal_button(report.reference)
        )
    if len(reports) > MAX_SHEETS:
        await message.reply_text(text("staff.found_more", count=len(reports) - MAX_SHEETS))


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
