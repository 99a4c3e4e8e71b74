"""Commands that work at every step: /start /cancel /back /help /language /advice /forget..."""

from __future__ import annotations

from collections.abc import Callable

from telegram import Update

from handlers.context import BotContext
from handlers.conversation import advice_menu, clear_chat, states, welcome
from handlers.conversation import cancel as cancelling
from handlers.conversation.router import is_replay, start_new, unfinished
from handlers.conversation.turn import EDITING, Turn


async def _run(update: Update, context: BotContext, action: Callable[[Turn], None]) -> None:
    turn = await Turn.load(update, context)
    if is_replay(turn):
        return
    action(turn)
    await turn.finish()


def _start(turn: Turn) -> None:
    if unfinished(turn):
        welcome.offer_resume(turn)
    else:
        start_new(turn)


def _back(turn: Turn) -> None:
    if not unfinished(turn):
        turn.say("nothing_to_go_back_to")
    elif turn.editing:
        turn.unset(EDITING)
        turn.goto(states.REVIEW)
    elif not turn.back():
        turn.say("first_question")
        turn.ask()


def _help(turn: Turn) -> None:
    turn.say("help", emergency=turn.context.config.emergency_number)
    if unfinished(turn):
        turn.ask()


def _language(turn: Turn) -> None:
    welcome.offer_languages(turn)


def _advice(turn: Turn) -> None:
    advice_menu.offer(turn)
    known = turn.draft is not None and turn.draft.answers.get("platform")
    if unfinished(turn) and known:
        turn.ask()


def _forget(turn: Turn) -> None:
    clear_chat.confirm(turn)


def _status_help(turn: Turn) -> None:
    turn.say("status_help")
    if unfinished(turn):
        turn.ask()


async def start(update: Update, context: BotContext) -> None:
    """/start: begin, or offer to continue an unfinished report."""
    await _run(update, context, _start)


async def cancel(update: Update, context: BotContext) -> None:
    """/cancel: ask, then discard the unfinished report or carry on."""
    await _run(update, context, cancelling.confirm)


async def back(update: Update, context: BotContext) -> None:
    """/back: the previous question."""
    await _run(update, context, _back)


async def help_command(update: Update, context: BotContext) -> None:
    """/help: what the bot does and the commands, then the current question."""
    await _run(update, context, _help)


async def language(update: Update, context: BotContext) -> None:
    """/language: choose the language."""
    await _run(update, context, _language)


async def advice(update: Update, context: BotContext) -> None:
    """/advice: the security advice, with or without a report."""
    await _run(update, context, _advice)


async def forget(update: Update, context: BotContext) -> None:
    """/forget: erase the unsent draft and this conversation's messages (after a yes)."""
    await _run(update, context, _forget)


async def status_help(update: Update, context: BotContext) -> None:
    """/status alone: how to use it (with a reference and code it is the follow-up's)."""
    await _run(update, context, _status_help)
