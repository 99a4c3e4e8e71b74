"""Follow-up to victims: /status REF CODE, the deep link, and the status view's buttons.

Follow-up buttons' callback data start with "f:". These handlers go after the staff commands
and before the victim's conversation: a plain /start (no deep-link payload) and every message
that is not the answer to a follow-up question fall through to the conversation.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, TypeHandler, filters

from handlers.common import private_buttons
from handlers.followup import actions, status, waiting


def add_handlers(application: Application) -> None:
    """Install /status, the deep-link /start, the buttons and the awaited answers."""
    application.add_handler(
        TypeHandler(Update, waiting.end_wait_on_other_input),  # type: ignore[arg-type]
        group=waiting.RESET_GROUP,
    )
    # Edited messages are not re-run: an edit must not spend another code attempt.
    application.add_handler(
        CommandHandler(
            "status",
            status.status_command,  # type: ignore[arg-type]
            filters=filters.UpdateType.MESSAGE,
        )
    )
    application.add_handler(
        CommandHandler(
            "start",
            status.start_with_payload,  # type: ignore[arg-type]
            filters=filters.UpdateType.MESSAGE & status.DEEP_LINK,
        )
    )
    application.add_handler(
        CallbackQueryHandler(private_buttons(actions.on_button), pattern=r"^f:")  # type: ignore[arg-type]
    )
    application.add_handler(
        waiting.AwaitingInput(application.chat_data, actions.on_input)  # type: ignore[arg-type]
    )
