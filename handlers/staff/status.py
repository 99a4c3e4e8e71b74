"""/setstatus REF STATUS [note] and the status buttons: move a report through its statuses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Update

from handlers.context import BotContext
from handlers.engine import callbacks
from handlers.engine.actions import Action, Actions
from handlers.staff.access import StaffUser, staff_only
from handlers.staff.press import Press
from handlers.staff.render import SET_STATUS, status_buttons, status_list
from handlers.staff.typed import reference_in
from handlers.texts import Html, describe, text
from models.services.reports import InvalidTransition, ReportNotFound
from models.services.staff import Role
from models.values.reference import InvalidReference, Reference
from models.values.statuses import NOTIFY_VICTIM, Status, UnknownStatus, parse_status

NOTE_LIMIT = 500


@dataclass(frozen=True, slots=True)
class Answer:
    """A reply and its buttons."""

    text: str
    markup: InlineKeyboardMarkup | None = None


async def change(
    context: BotContext,
    staff: StaffUser,
    reference: Reference,
    status: Status,
    note: str | None = None,
) -> Answer:
    """Move REFERENCE to STATUS and say what happened (or which moves are allowed)."""
    try:
        changed = await context.register.reports.change_status(
            reference, status, actor=staff.actor, actor_id=staff.user_id, note=note
        )
    except ReportNotFound:
        return Answer(text("staff.report_missing", reference=reference))
    except InvalidTransition as exc:
        if exc.current is exc.wanted:
            return Answer(text("staff.status_already", reference=reference, status=status.value))
        allowed = ", ".join(move.value for move in exc.allowed)
        return Answer(
            text(
                "staff.status_refused",
                reference=reference,
                status=exc.current.value,
                wanted=status.value,
                allowed=allowed,
            ),
            status_buttons(str(reference), exc.current),
        )
    if status not in NOTIFY_VICTIM:
        notified = text("staff.status_not_notified")
    elif changed.notifications:
        notified = text("staff.status_notified", count=changed.notifications)
    else:
        notified = text("staff.status_no_chat")
    return Answer(
        text(
            "staff.status_changed",
            reference=changed.reference,
            previous=changed.previous.value,
            status=changed.status.value,
            notified=notified,
        )
    )


async def choices(context: BotContext, reference: Reference) -> Answer:
    """Where REFERENCE stands, with a button for every allowed move."""
    report = await context.register.reports.get(reference)
    if report is None:
        return Answer(text("staff.report_missing", reference=reference))
    markup = status_buttons(report.reference, report.status)
    key = "staff.status_choose" if markup else "staff.status_final"
    return Answer(text(key, reference=report.reference, status=report.status.value), markup)


@staff_only(Role.OFFICER)
async def setstatus(update: Update, context: BotContext, staff: StaffUser) -> None:
    """Move a report to a status, or show the allowed moves when no status is given."""
    message = update.effective_message
    assert message is not None
    parts = (message.text or "").split(maxsplit=3)
    if len(parts) < 2:
        await message.reply_text(text("staff.setstatus_usage", statuses=status_list()))
        return
    reference = await reference_in(message, parts[1])
    if reference is None:
        return
    if len(parts) == 2:
        answer = await choices(context, reference)
    else:
        try:
            status = parse_status(parts[2])
        except UnknownStatus as exc:
            await message.reply_text(text("staff.bad_status", reason=Html(describe(exc))))
            return
        note = parts[3].strip() if len(parts) > 3 else None
        if note and len(note) > NOTE_LIMIT:
            await message.reply_text(text("staff.note_too_long", limit=NOTE_LIMIT))
            return
        answer = await change(context, staff, reference, status, note or None)
    await message.reply_text(answer.text, reply_markup=answer.markup)


def _move_to(status: Status) -> Callable[[Press], Awaitable[None]]:
    async def move(press: Press) -> None:
        await press.settle()
        answer = await change(press.context, press.staff, Reference.parse(press.about), status)
        await press.say(answer.text, answer.markup)

    return move


# `s:st:<reference>:<status>`: each status's button moves the report there. The register refuses
# a move from where the report no longer stands, so a second tap applies nothing.
STATUS_BUTTONS: Actions[Press] = Actions(
    *(Action(status.value, _move_to(status)) for status in Status)
)


@staff_only(Role.OFFICER)
async def on_button(update: Update, context: BotContext, staff: StaffUser) -> None:
    """A status button: move the report, then drop the buttons it was pressed on."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and chat is not None
    reference, wanted = callbacks.unpack(query.data, SET_STATUS, 2) or ("", "")
    try:
        about = str(Reference.parse(reference))
    except InvalidReference:
        about = ""
    press = Press(context, staff, chat.id, query, about)
    if not about or not await STATUS_BUTTONS.dispatch(press, wanted):
        await query.answer(text("staff.button_expired"), show_alert=True)
