"""The victim's conversation: one router over the draft's step (see docs/conversation.md)."""

from __future__ import annotations

from datetime import timedelta

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers.common import answer_unknown_command, private_buttons
from handlers.context import BotContext

# Each step module declares its questions on import.
from handlers.conversation import (  # noqa: F401
    commands,
    contact,
    device,
    fallback,
    how,
    imei,
    number,
    review,
    router,
    submit,
    welcome,
    when,
    where,
)
from models.storage.columns import utcnow

EXPIRY_INTERVAL = timedelta(hours=1)
PRIVATE = filters.ChatType.PRIVATE


async def expire_drafts(context: BotContext) -> None:
    """Delete drafts idle past their time (access also ignores them; purge deletes them too)."""
    await context.register.drafts.expire(now=utcnow())


def add_handlers(application: Application) -> None:
    """Install the conversation; last in group 0, since its fallback takes any command."""
    application.add_handler(CommandHandler("start", commands.start, filters=PRIVATE))
    application.add_handler(CommandHandler("cancel", commands.cancel, filters=PRIVATE))
    application.add_handler(CommandHandler("back", commands.back, filters=PRIVATE))
    application.add_handler(CommandHandler("help", commands.help_command, filters=PRIVATE))
    application.add_handler(CommandHandler("language", commands.language, filters=PRIVATE))
    application.add_handler(CommandHandler("advice", commands.advice, filters=PRIVATE))
    application.add_handler(CommandHandler("forget", commands.forget, filters=PRIVATE))
    application.add_handler(
        CommandHandler("status", commands.status_help, filters=PRIVATE, has_args=False)
    )
    application.add_handler(
        CallbackQueryHandler(private_buttons(router.on_button), pattern=r"^c:"),
    )
    application.add_handler(
        MessageHandler(PRIVATE & filters.UpdateType.MESSAGE & ~filters.COMMAND, router.on_message)
    )
    application.add_handler(
        # In a group this answers "I work in private", with the link.
        MessageHandler(fallback.UnknownCommand(application), answer_unknown_command)
    )
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            expire_drafts, interval=EXPIRY_INTERVAL, first=EXPIRY_INTERVAL, name="expire-drafts"
        )
