"""Answers shared by every part of the bot."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.error import BadRequest

from handlers.context import BotContext
from handlers.engine.language import of as reader_language
from handlers.texts import text

log = logging.getLogger("reportbot.handlers")

ButtonCallback = Callable[[Update, BotContext], Coroutine[Any, Any, None]]

# user_data: a language this person picked by hand (the account's own is never taken as a choice).
CHOSEN_LANGUAGE = "chosen_language"


def chosen_language(context: BotContext) -> str | None:
    """The language this user picked with the language buttons, if they did."""
    return context.user_data.get(CHOSEN_LANGUAGE) if context.user_data is not None else None


def is_private(update: Update) -> bool:
    """Whether the update comes from a private chat."""
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE


def private_buttons(callback: ButtonCallback) -> ButtonCallback:
    """Run a button's CALLBACK in private chats only; elsewhere just stop the spinner.

    A press in a group (forged, or a copied message) stores, sends and edits nothing there.
    """

    @functools.wraps(callback)
    async def guarded(update: Update, context: BotContext) -> None:
        if is_private(update):
            await callback(update, context)
            return
        query = update.callback_query
        if query is None:
            return
        try:
            await query.answer()
        except BadRequest:
            log.info("could not answer a callback query (too old)")

    return guarded


def private_link(context: BotContext) -> str:
    """The t.me link that opens a private chat with this bot."""
    return f"https://t.me/{context.bot.username}"


async def answer_unknown_command(update: Update, context: BotContext) -> None:
    """What anyone gets for a command the bot does not know (or they may not use).

    In a group the bot only says that it works in private, whatever the command.
    """
    message = update.effective_message
    if message is None:
        return
    language = reader_language(update, context)
    if is_private(update):
        await message.reply_text(text("common.unknown_command", language))
    else:
        await message.reply_text(
            text("common.private_only", language, link=private_link(context)),
            disable_web_page_preview=True,
        )
