"""The victim adds the police's crime reference (and the force, if known) from /status.

Two questions: the crime reference (checked loosely, as police forces number crimes
differently), then the force (a name, a short name such as "Met", or "I don't know"). Nothing
is stored until both are answered; Cancel or any command leaves the report as it was.
"""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from handlers.context import BotContext
from handlers.followup import views, waiting
from handlers.followup.access import callback
from handlers.texts import Html, describe, text
from models.errors import RegisterError
from models.services.followup import Change
from models.services.reports import ReportView
from models.values.crime import FORCES, BadCrimeReference, PoliceForce, normalise_crime_reference

MAX_TYPED = 100
ACTIONS = frozenset({views.ADD_CRIME, views.FORCE_UNKNOWN})
WAITS = frozenset({waiting.CRIME, waiting.FORCE})


def _force_keyboard(token: str, language: str | None) -> InlineKeyboardMarkup:
    """ "I don't know" and Cancel, side by side."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(text(key, language), callback_data=callback(action, token))
                for key, action in (
                    ("followup.button_force_unknown", views.FORCE_UNKNOWN),
                    ("followup.button_cancel", views.CANCEL),
                )
            ]
        ]
    )


async def on_button(
    query: CallbackQuery,
    context: BotContext,
    report: ReportView,
    token: str,
    language: str | None,
    action: str,
) -> bool:
    """Add crime reference (ask for it), or "I don't know" the force (store what was given).

    False when the report can no longer take one (the caller says it has ended).
    """
    assert query.message is not None
    chat_id = query.message.chat.id
    if action == views.ADD_CRIME:
        if not views.can_add_crime(report):
            return False
        waiting.set_wait(context.chat_state, waiting.CRIME, token)
        await query.answer()
        await context.bot.send_message(
            chat_id,
            text("followup.ask_crime", language),
            reply_markup=views.single("followup.button_cancel", views.CANCEL, token, language),
        )
        return True
    wait = waiting.get_wait(context.chat_data)
    await query.answer()
    if wait is None or wait["what"] != waiting.FORCE:
        return True  # a second tap, or a wait that ran out
    body = await _store(context, report, wait["crime"], None, language)
    await query.edit_message_text(body)
    return True


async def on_input(
    message: Message, context: BotContext, report: ReportView, wait: dict, language: str | None
) -> None:
    """The typed crime reference (then ask the force), or the typed force (then store both)."""
    typed = (message.text or "")[:MAX_TYPED]
    token = wait["token"]
    cancel = views.single("followup.button_cancel", views.CANCEL, token, language)
    if wait["what"] == waiting.CRIME:
        try:
            crime = normalise_crime_reference(typed)
        except BadCrimeReference as exc:
            reason = Html(describe(exc, language))
            await message.reply_text(
                text("followup.crime_bad", language, reason=reason), reply_markup=cancel
            )
            return
        waiting.set_wait(context.chat_state, waiting.FORCE, token, crime=crime)
        await message.reply_text(
            text("followup.ask_force", language), reply_markup=_force_keyboard(token, language)
        )
        return
    try:
        force = PoliceForce.parse(typed).code
    except RegisterError as exc:
        reason = Html(describe(exc, language))
        await message.reply_text(
            text("followup.force_bad", language, reason=reason),
            reply_markup=_force_keyboard(token, language),
        )
        return
    await message.reply_text(await _store(context, report, wait["crime"], force, language))


async def _store(
    context: BotContext,
    report: ReportView,
    crime: str,
    force: str | None,
    language: str | None,
) -> str:
    waiting.clear_wait(context.chat_data)
    done = await context.register.police.set_by_victim(
        report.reference, crime_reference=crime, police_force=force
    )
    if done.change in (Change.NOT_FOUND, Change.ENDED):
        label = views.status_label(report.status, language)
        return text("followup.report_ended", language, status=label)
    name = FORCES.get(done.police_force or "")
    return text(
        "followup.crime_added",
        language,
        crime_reference=done.crime_reference or crime,
        force=f"({name})" if name else "",
        reference=report.reference,
    ).replace("  ", " ")
