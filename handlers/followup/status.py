"""/status REF CODE and the deep link /start REF_CODE: prove access, then show the report."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import filters

from handlers.common import is_private, private_link
from handlers.context import BotContext
from handlers.engine import clock
from handlers.followup import access, table, waiting
from handlers.followup.reading import reading_language, shown, user_language, view_parts
from handlers.i18n import formats
from handlers.texts import Html, describe, text
from models.errors import RegisterError
from models.services.followup import Denied, Granted, Limited
from models.services.reports import ReportView
from models.values.reference import Reference, parse_deep_link_payload

log = logging.getLogger("reportbot.followup")

# A deep link's payload is SPR<reference>_<code> (even cut short); any other /start, with or
# without a payload, goes to the conversation.
DEEP_LINK = filters.Regex(
    re.compile(r"^/start(@\w+)?\s+SPR[A-Z0-9]{1,12}_[A-Z0-9]{0,16}\s*$", re.IGNORECASE)
)


async def _in_private(update: Update, context: BotContext) -> tuple[Message, str] | None:
    """The message and the reader's language, or None once a group was told to ask in private."""
    message = update.effective_message
    assert message is not None
    language = user_language(update, context)
    if not is_private(update):
        await _private_only(message, context, language)
        return None
    return message, language


async def status_command(update: Update, context: BotContext) -> None:
    """/status REF CODE: the report's status, if the code is right."""
    asked = await _in_private(update, context)
    if asked is None:
        return
    message, language = asked
    try:
        reference, code = access.parse_status_args(context.args or [])
    except access.MissingArguments:
        await message.reply_text(text("followup.status_usage", language))
        return
    except access.MissingCode:
        await message.reply_text(text("followup.status_missing_code", language))
        return
    except RegisterError as exc:
        reason = Html(describe(exc, language))
        await message.reply_text(text("followup.status_bad_input", language, reason=reason))
        return
    await verify_and_show(update, context, reference, code, via="code")


async def start_with_payload(update: Update, context: BotContext) -> None:
    """/start REF_CODE from the deep link: the same as /status, in one tap."""
    asked = await _in_private(update, context)
    if asked is None:
        return
    message, language = asked
    try:
        reference, code = parse_deep_link_payload((context.args or [""])[0])
    except ValueError:
        await message.reply_text(text("followup.link_bad", language))
        return
    await verify_and_show(update, context, reference, code, via="deep_link")


async def _private_only(message: Message, context: BotContext, language: str | None) -> None:
    await message.reply_text(
        text("followup.status_private_only", language, link=private_link(context)),
        disable_web_page_preview=True,
    )


async def verify_and_show(
    update: Update, context: BotContext, reference: Reference, code: str, *, via: str
) -> None:
    """Check the code (counting wrong ones against this chat) and show the report."""
    message = update.effective_message
    chat = update.effective_chat
    assert message is not None and chat is not None
    language = user_language(update, context)
    police = context.config.non_emergency_number
    result = await context.register.followup.check_access(chat.id, reference, code)
    if isinstance(result, Limited):
        await message.reply_text(
            text(
                "followup.status_limited",
                language,
                time=formats.local(result.retry_at, context.config.zone).time(),
                minutes=_minutes_until(result.retry_at),
                police=police,
            )
        )
        return
    if isinstance(result, Denied):
        await message.reply_text(
            text("followup.status_denied", language, tries_left=result.tries_left)
        )
        return
    assert isinstance(result, Granted)
    report = result.report
    token = access.open_session(context.chat_state, report.reference, report.id, via)
    removed = await _remove_code_message(message)
    await send_view(context, chat.id, report, token, note_removed=removed)


def _minutes_until(moment: datetime) -> int:
    return max(1, int((moment - clock.now()).total_seconds() // 60) + 1)


async def _remove_code_message(message: Message) -> bool:
    """Delete the user's message that holds the access code (it may be a borrowed phone)."""
    try:
        return bool(await message.delete())
    except TelegramError:
        return False


async def send_view(
    context: BotContext, chat_id: int, report: ReportView, token: str, *, note_removed: bool
) -> None:
    """Send the status view as a new message."""
    body, keyboard = await view_parts(context, chat_id, report, token)
    if note_removed:
        language = await reading_language(context, chat_id, report)
        body = text("followup.code_removed", language) + "\n\n" + body
    await context.bot.send_message(chat_id, body, reply_markup=keyboard)


@dataclass(frozen=True, slots=True)
class Reading:
    """What to show once a language is picked: a message and its buttons.

    QUESTION: it is the question the follow-up waits on, so the chat's next message answers it.
    """

    body: str
    keyboard: Any
    question: bool


async def read_in(context: BotContext, chat_id: int, code: str) -> Reading | None:
    """After a language is picked, the reports this chat follows speak CODE.

    Returns what to show in CODE: the question the follow-up waits on, asked again (the wait
    kept), else the newest followed report's status view; None when the chat follows none. The
    report shown is read once, and what the view needs besides it is known already: the language
    is CODE, and whether the chat is subscribed is what storing CODE found.
    """
    sessions = access.live_sessions(context.chat_data)
    subscribed = await context.register.subscriptions.choose_language_of(
        {session.report_id for session in sessions}, chat_id, code
    )
    wait = waiting.get_wait(context.chat_data)
    waited = access.get_session(context.chat_data, wait["token"]) if wait else None
    # The waiting question's report first, then the newest: the first that is still there.
    for session in ([waited] if waited else []) + [s for s in reversed(sessions) if s != waited]:
        visit = await table.visit_of(context, chat_id, session, wait if session == waited else None)
        if visit is None:
            continue
        question = table.reask(visit)
        if question is not None:
            return Reading(*question, question=True)
        following = visit.report.id in subscribed
        body, keyboard = shown(
            context, visit.report, session.token, subscribed=following, language=visit.language
        )
        return Reading(body, keyboard, question=False)
    return None
