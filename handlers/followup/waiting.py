"""A question the follow-up asked and whose answer the chat's next message is (IMEI, place, time).

The state is the engine's `ChatWait`, in chat_data with an expiry: a restart loses it, and then
the user taps the button again. Any command, or a button of another feature, ends the wait, so
the next message goes to whoever asks for it (the victim's conversation); all but /language and
the language buttons, after which the question is asked again in the language chosen.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler

from handlers.context import BotContext
from handlers.engine import callbacks
from handlers.engine.waits import ChatWait
from handlers.followup.access import PREFIX_DATA

WAIT = "followup_wait"
CONVERSATION_DATA = "c"  # the conversation's buttons: c:<draft token>:<step>:<value>
LANGUAGE_COMMAND = re.compile(r"^/language(@\w+)?(\s|$)", re.IGNORECASE)
WAIT_TTL = timedelta(minutes=15)
WAITING = ChatWait(WAIT, WAIT_TTL)

IMEI = "imei"
IMEI_CHECK = "imei_check"
LOCATION = "location"
LOCATION_TIME = "location_time"
CRIME = "crime"
FORCE = "force"


def set_wait(chat_data: MutableMapping[str, Any], what: str, token: str, **extra: Any) -> None:
    """Wait for the answer to WHAT, for the session TOKEN."""
    WAITING.start(chat_data, what, token=token, **extra)


def get_wait(chat_data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The live wait of this chat, or None."""
    return WAITING.get(chat_data)


def clear_wait(chat_data: MutableMapping[str, Any] | None) -> None:
    """Stop waiting."""
    WAITING.end(chat_data)


def _is_command(update: Update) -> bool:
    message = update.message
    return bool(message and message.text and message.text.startswith("/"))


def _changes_language(update: Update) -> bool:
    """/language, or a button that offers or picks a language: the question waits on, asked
    again in the new language (see status.read_in)."""
    message = update.message
    if message is not None and message.text is not None:
        return LANGUAGE_COMMAND.match(message.text) is not None
    query = update.callback_query
    parts = callbacks.unpack(query.data if query else None, CONVERSATION_DATA, 3)
    return parts is not None and (parts[2] == "language" or parts[2].startswith("lang:"))


class AwaitingInput(BaseHandler[Update, BotContext, None]):
    """Takes a chat's next message (not a command) while a follow-up question waits."""

    def __init__(self, chat_data: Mapping[int, Mapping[str, Any]], callback: Any) -> None:
        """Look waits up in the application's CHAT_DATA."""
        super().__init__(callback)
        self._chat_data = chat_data

    def check_update(self, update: object) -> bool:
        """A new message in a chat that has a live wait."""
        if not isinstance(update, Update) or update.message is None or _is_command(update):
            return False
        chat = update.effective_chat
        return chat is not None and get_wait(self._chat_data.get(chat.id)) is not None


def ends_wait(update: Update) -> bool:
    """Whether UPDATE is other input that ends a follow-up's wait: a command, another button."""
    query = update.callback_query
    other_button = query is not None and not (query.data or "").startswith(f"{PREFIX_DATA}:")
    return (_is_command(update) or other_button) and not _changes_language(update)


class EndWaitOnOtherInput(BaseHandler[Update, BotContext, None]):
    """First in the routes: ends the chat's wait on other input, and never takes the update.

    Being a check that always answers "not mine", it lets the update go on down the one list to
    whichever handler takes it, with no handler group of its own.
    """

    def __init__(self, chat_data: Mapping[int, MutableMapping[str, Any]]) -> None:
        """Look waits up in the application's CHAT_DATA."""
        super().__init__(self._never_called)
        self._chat_data = chat_data

    @staticmethod
    async def _never_called(update: Update, context: BotContext) -> None:
        """Never called: check_update always declines."""

    def check_update(self, update: object) -> bool:
        """End the wait if UPDATE is other input; always False."""
        if isinstance(update, Update) and update.effective_chat is not None and ends_wait(update):
            chat_data = self._chat_data.get(update.effective_chat.id)
            if chat_data is not None and WAIT in chat_data:
                clear_wait(chat_data)
        return False
