"""A question that waits for the chat's next message: which step, until when, in chat_data.

An exchange whose question is answered by a later message (the follow-up's "send the IMEI", the
staff's "send the file") starts a `ChatWait` when it asks: the step's name and a deadline on the
one clock, kept in chat_data under the exchange's own key, so that a restart loses it and the
person asks again. `Awaited` is the routes' filter for a message that answers such a step: the
chat waits, the wait has not run out, and the step has a handler for this kind of answer (a
document, a location pin, typed text). The handler that takes the message takes the wait out
(`take`) before its first await, so a second answer finds none.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import Message
from telegram.ext import filters

from handlers.engine import clock
from handlers.engine.steps import Step

UNTIL = "until"
WHAT = "what"


@dataclass(frozen=True, slots=True)
class ChatWait:
    """One exchange's wait in a chat: at most one at a time, under KEY, living TTL."""

    key: str
    ttl: timedelta

    def start(self, chat_data: MutableMapping[str, Any], what: str, **extra: Any) -> dict[str, Any]:
        """Wait for the answer to the step WHAT (EXTRA kept beside it) from now; the wait."""
        wait = {WHAT: what, UNTIL: clock.deadline(self.ttl), **extra}
        chat_data[self.key] = wait
        return wait

    def get(self, chat_data: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The chat's live wait, or None (none, or run out)."""
        if not chat_data:
            return None
        wait: dict[str, Any] | None = chat_data.get(self.key)
        if not wait or clock.passed(wait.get(UNTIL)):
            return None
        return wait

    def end(self, chat_data: MutableMapping[str, Any] | None) -> None:
        """Stop waiting."""
        if chat_data is not None:
            chat_data.pop(self.key, None)

    def take(self, chat_data: MutableMapping[str, Any] | None) -> dict[str, Any] | None:
        """The chat's live wait, ended (a second answer finds none); None if there was none."""
        wait = self.get(chat_data)
        self.end(chat_data)
        return wait


def takes(step: Step[Any], message: Message) -> bool:
    """Whether STEP has a handler for MESSAGE's kind of answer (a command is never one)."""
    if message.document is not None:
        return step.on_document is not None
    if message.location is not None:
        return step.on_location is not None
    if message.text is not None:
        return step.on_text is not None and not message.text.startswith("/")
    return False


class Awaited(filters.MessageFilter):
    """A message that answers the step its chat waits on, of a kind that step takes."""

    def __init__(
        self,
        chat_data: Mapping[int, Mapping[str, Any]],
        wait: ChatWait,
        steps: Mapping[str, Step[Any]],
    ) -> None:
        """Look the chat's WAIT up in the application's CHAT_DATA (filters get no context)."""
        super().__init__(name=f"Awaited({wait.key})")
        self._chat_data = chat_data
        self._wait = wait
        self._steps = steps

    def filter(self, message: Message) -> bool:
        """Whether MESSAGE answers its chat's live wait."""
        wait = self._wait.get(self._chat_data.get(message.chat.id))
        step = self._steps.get(wait[WHAT]) if wait is not None else None
        return step is not None and takes(step, message)
