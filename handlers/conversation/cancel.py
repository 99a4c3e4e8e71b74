"""/cancel in the middle of the flow: ask first, then discard the answers or carry on."""

from __future__ import annotations

from handlers.conversation import states
from handlers.conversation.turn import Turn

YES = "cancel_yes"
NO = "cancel_no"


def _unfinished(turn: Turn) -> bool:
    return turn.draft is not None and turn.draft.step not in states.FINISHED


def _nothing_to_cancel(turn: Turn) -> None:
    if turn.draft is not None and turn.draft.step == states.FILED:
        turn.say("cancel_after_filing", reference=turn.answers["filed"]["reference"])
    else:
        turn.say("nothing_to_cancel")


def confirm(turn: Turn) -> None:
    """/cancel: one tap discards the report, the other returns to the question (draft untouched)."""
    if not _unfinished(turn):
        _nothing_to_cancel(turn)
        return
    buttons = [turn.any_button(YES, YES), turn.any_button(NO, NO)]
    turn.say("confirm_cancel", turn.keyboard(buttons, per_row=1))


def cancel(turn: Turn) -> None:
    """Yes: the answers go; the message ids stay, so that the chat can still be cleared."""
    if not _unfinished(turn):
        _nothing_to_cancel(turn)
        return
    assert turn.draft is not None
    turn.accepted_press = True
    turn.draft.answers = {"language": turn.lang}
    turn.draft.step = states.CANCELLED
    turn.dirty = True
    turn.say("cancelled")
    turn.ask()


def keep(turn: Turn) -> None:
    """No: nothing changed; the question they were at, asked again."""
    if not _unfinished(turn):
        _nothing_to_cancel(turn)
        return
    turn.accepted_press = True
    turn.say("cancel_kept")
    turn.ask()
