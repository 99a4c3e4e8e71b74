"""The one error handler: log with a traceback, apologise to the user briefly."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import ApplicationHandlerStop

from handlers.context import BotContext
from handlers.conversation.turn import LIVE
from handlers.engine.language import of as reader_language
from handlers.texts import Html, text
from models.storage.processed import UpdateAlreadyProcessed

log = logging.getLogger("reportbot.errors")

DRAFT_REFERENCE = "draft_reference"  # chat_data: what the apology names the draft by


def draft_reference(context: BotContext) -> str | None:
    """How the user and the log can name this chat's draft: its reference, else its tag."""
    chat_data = context.chat_data
    if chat_data is None:
        return None
    found = chat_data.get(DRAFT_REFERENCE) or chat_data.get(LIVE)
    return str(found) if found else None


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure (no message text) and tell the user we are sorry."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    extra: dict[str, object] = {"update_id": update_id}
    if isinstance(error, UpdateAlreadyProcessed):
        # A duplicate delivery met the original's record: its effect is stored once already.
        log.info("update already processed by another delivery; dropped", extra=extra)
        raise ApplicationHandlerStop  # no other group may act on it either
    if isinstance(error, RetryAfter | Forbidden | NetworkError):
        log.warning("telegram refused a call: %s", type(error).__name__, extra=extra)
        return
    draft = draft_reference(context) if isinstance(update, Update) else None
    if draft:
        extra["draft"] = draft
    log.error("handler failed: %s", type(error).__name__, exc_info=error, extra=extra)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    language = reader_language(update, context)
    draft_line = text("common.error_draft_line", language, draft=draft) if draft else ""
    try:
        await context.bot.send_message(
            update.effective_chat.id,
            text("common.error_apology", language, draft_line=Html(draft_line)),
        )
    except TelegramError as exc:
        log.warning("could not send the apology: %s", type(exc).__name__, extra=extra)
