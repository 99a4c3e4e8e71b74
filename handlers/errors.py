"""The one error handler: log with a traceback, apologise to the user briefly."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter
from telegram.ext import Application, ApplicationHandlerStop

from handlers.context import BotContext
from handlers.texts import Html, text
from models.idempotency import UpdateAlreadyProcessed

log = logging.getLogger("reportbot.errors")


async def on_error(update: object, context: BotContext) -> None:
    """Log the failure (no message text) and tell the user we are sorry."""
    error = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    extra = {"update_id": update_id}
    if isinstance(error, UpdateAlreadyProcessed):
        # A duplicate delivery met the original's record: its effect is stored once already.
        log.info("update already processed by another delivery; dropped", extra=extra)
        raise ApplicationHandlerStop  # no other group may act on it either
    if isinstance(error, RetryAfter | Forbidden | NetworkError):
        log.warning("telegram refused a call: %s", type(error).__name__, extra=extra)
        return
    log.error("handler failed: %s", type(error).__name__, exc_info=error, extra=extra)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    language = context.user_data.get("language") if context.user_data is not None else None
    draft = context.chat_data.get("draft_reference") if context.chat_data is not None else None
    draft_line = text("common.error_draft_line", language, draft=draft) if draft else ""
    try:
        await context.bot.send_message(
            update.effective_chat.id,
            text("common.error_apology", language, draft_line=Html(draft_line)),
        )
    except Exception:
        log.warning("could not send the apology", extra=extra)


def add_handlers(application: Application) -> None:
    """Install the error handler."""
    application.add_error_handler(on_error)  # type: ignore[arg-type]
