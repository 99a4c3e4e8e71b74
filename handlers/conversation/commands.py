"""Commands that work at every step: /start /cancel /back /help /language /advice /forget..."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update

from handlers.context import BotContext
from handlers.conversation import advice_menu, clear_chat, states, welcome
from handlers.conversation import cancel as cancelling
from handlers.conversation.router import is_replay, start_new, unfinished
from handlers.conversation.turn import EDITING, Turn

Command = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


def command(action: Callable[[Turn], None]) -> Command:
    """A command's handler: ACTION on the chat's turn (once per update), then the turn finished."""

    async def handler(update: Update, context: BotContext) -> None:
        turn = await Turn.load(update, context)
        if is_replay(turn):
            return
        action(turn)
        await turn.finish()

    handler.__name__ = handler.__qualname__ = action.__name__
    handler.__doc__ = action.__doc__
    return handler


@command
def start(turn: Turn) -> None:
    """/start: begin, or offer to continue an unfinished report."""
    if unfinished(turn):
        welcome.offer_resume(turn)
    else:
        start_new(turn)


@command
def cancel(turn: Turn) -> None:
    """/cancel: ask, then discard the unfinished report or carry on."""
    cancelling.confirm(turn)


@command
def back(turn: Turn) -> None:
    """/back: the previous question."""
    if not unfinished(turn):
        turn.say("nothing_to_go_back_to")
    elif turn.editing:
        turn.unset(EDITING)
        turn.goto(states.REVIEW)
    elif not turn.back():
        turn.say("first_question")
        turn.ask()


@command
def help_command(turn: Turn) -> None:
    """/help: what the bot does and the commands, then the current question."""
    turn.say("help", emergency=turn.context.config.emergency_number)
    if unfinished(turn):
        turn.ask()


@command
def language(turn: Turn) -> None:
    """/language: choose the language."""
    welcome.offer_languages(turn)


@command
def advice(turn: Turn) -> None:
    """/advice: the security advice, with or without a report."""
    advice_menu.offer(turn)
    known = turn.draft is not None and turn.draft.answers.get("platform")
    if unfinished(turn) and known:
        turn.ask()


@command
def forget(turn: Turn) -> None:
    """/forget: erase the unsent draft and this conversation's messages (after a yes)."""
    clear_chat.confirm(turn)


@command
def status_help(turn: Turn) -> None:
    """/status alone: how to use it (with a reference and code it is the follow-up's)."""
    turn.say("status_help")
    if unfinished(turn):
        turn.ask()
