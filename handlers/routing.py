"""Every handler of the bot, in one ordered list: the one place that says who takes an update.

Why this order. python-telegram-bot gives an update to the first handler of the list whose check
takes it, so the list goes from the narrowest claim to the widest:

1. Ending a follow-up's wait: a command or another feature's button ends the follow-up's question
   (but /language and the language buttons keep it, to ask it again in the new language; its
   check never takes the update, so the update goes on down the list).
2. Staff: their commands, the file of seized handsets an admin sends after /recover, their
   buttons ("s:"). Named commands and a document only an admin in the middle of /recover sends:
   nothing below may see them first, least of all the conversation's catch-all.
3. The follow-up: /status REF CODE, /start with a deep-link payload, its buttons ("f:"), and the
   message that answers the question it asked. Before the conversation, which would otherwise take
   the deep link as a plain /start and the awaited answer as an answer to its own question.
4. The victim's conversation: its commands, its buttons ("c:"), then any other private message;
   last of all, the answer to a command nobody knows (in a group: "I work in private").

The list has one group: no handler runs "as well as" another. Timed work (expiring drafts,
refreshing the command menus) is scheduled here too, beside the handlers it belongs with.
"""

from __future__ import annotations

from datetime import timedelta

from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers import errors, menus
from handlers.common import answer_unknown_command, private_buttons
from handlers.conversation import commands as conversation_commands
from handlers.conversation import expire_drafts, fallback, router
from handlers.engine import callbacks
from handlers.followup import status, table, waiting
from handlers.staff import COMMANDS as STAFF_COMMANDS
from handlers.staff import lookup, recover, stale_button
from handlers.staff import status as staff_status
from handlers.staff.render import RECOVERY, REVEAL, SET_STATUS, STAFF

PRIVATE = filters.ChatType.PRIVATE
# Edited messages are not re-run: an edit must not spend another code attempt, nor move a report
# a second time.
NEW_MESSAGE = filters.UpdateType.MESSAGE
EXPIRY_INTERVAL = timedelta(hours=1)

# The victim's commands, in the order of the command menu (see handlers/menus.py).
CONVERSATION_COMMANDS = {
    "start": conversation_commands.start,
    "cancel": conversation_commands.cancel,
    "back": conversation_commands.back,
    "help": conversation_commands.help_command,
    "language": conversation_commands.language,
    "advice": conversation_commands.advice,
    "forget": conversation_commands.forget,
}


def routes(application: Application) -> list[BaseHandler]:
    """Every handler, in the order in which they are tried (see the module's docstring)."""
    return [
        # 1. A command or another feature's button ends the follow-up's wait.
        waiting.EndWaitOnOtherInput(application.chat_data),
        # 2. Staff.
        *(
            CommandHandler(name, callback, filters=NEW_MESSAGE)
            for name, callback in STAFF_COMMANDS.items()
        ),
        MessageHandler(NEW_MESSAGE & recover.answers(application), recover.on_file),
        CallbackQueryHandler(staff_status.on_button, pattern=callbacks.pattern(SET_STATUS)),
        CallbackQueryHandler(lookup.reveal, pattern=callbacks.pattern(REVEAL)),
        CallbackQueryHandler(recover.on_button, pattern=callbacks.pattern(RECOVERY)),
        CallbackQueryHandler(stale_button, pattern=callbacks.pattern(STAFF)),
        # 3. The follow-up.
        CommandHandler("status", status.status_command, filters=NEW_MESSAGE),
        CommandHandler(
            "start",
            status.start_with_payload,
            filters=NEW_MESSAGE & status.DEEP_LINK,
        ),
        CallbackQueryHandler(
            private_buttons(table.on_button),
            pattern=callbacks.pattern("f"),
        ),
        waiting.AwaitingInput(application.chat_data, table.on_input),
        # 4. The victim's conversation, then whatever is left.
        *(
            CommandHandler(name, callback, filters=PRIVATE)
            for name, callback in CONVERSATION_COMMANDS.items()
        ),
        CommandHandler(
            # Only an edited "/status" gets here (the follow-up takes new ones): how to use it.
            "status",
            conversation_commands.status_help,
            filters=PRIVATE,
            has_args=False,
        ),
        CallbackQueryHandler(
            private_buttons(router.on_button),
            pattern=callbacks.pattern("c"),
        ),
        MessageHandler(PRIVATE & NEW_MESSAGE & ~filters.COMMAND, router.on_message),
        MessageHandler(fallback.UnknownCommand(application), answer_unknown_command),
    ]


def install(application: Application) -> None:
    """Install every handler in one group, the error handler, and the timed work."""
    application.add_handlers(routes(application))
    application.add_error_handler(errors.on_error)
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            expire_drafts, interval=EXPIRY_INTERVAL, first=EXPIRY_INTERVAL, name="expire-drafts"
        )
        menus.schedule(application)
