"""Clear this chat: delete every message of the conversation that Telegram still allows."""

from __future__ import annotations

import logging

from telegram.error import TelegramError

from handlers.conversation import states
from handlers.conversation.turn import Turn

log = logging.getLogger("reportbot.conversation")


def confirm(turn: Turn) -> None:
    """Ask before deleting: the reference and the code go too."""
    if turn.draft is None:
        turn.say("nothing_to_forget")
        return
    if turn.draft.step == states.FILED:
        key = "confirm_clear_filed"
    elif turn.draft.step == states.CANCELLED:
        key = "confirm_clear"
    else:
        key = "confirm_forget"
    buttons = [turn.any_button("clear_yes", "clear_yes"), turn.any_button("clear_no", "clear_no")]
    turn.say(key, turn.keyboard(buttons, per_row=1))


async def clear(turn: Turn) -> None:
    """Delete the conversation's messages (the bot's and the user's) and forget the draft."""
    assert turn.draft is not None
    deleted = failed = 0
    for message_id in sorted(set(turn.draft.message_ids)):
        try:
            await turn.context.bot.delete_message(turn.chat_id, message_id)
            deleted += 1
        except TelegramError as exc:
            # Too old, already deleted by the user, or gone: Telegram decides, we report it.
            log.info("could not delete message %s: %s", message_id, type(exc).__name__)
            failed += 1
    turn.discard()
    if failed:
        turn.say("cleared_some", deleted=deleted, failed=failed)
    else:
        turn.say("cleared", deleted=deleted)


def keep(turn: Turn) -> None:
    """Not now: carry on where they were."""
    turn.say("clear_kept")
    if turn.draft is not None and turn.draft.step not in states.FINISHED:
        turn.ask()
