"""Sending within Telegram's limits: about 30 new messages a second overall, one a second a chat.

Telegram answers 429 (RetryAfter) beyond those limits, and a refused reply is a victim left
waiting. So each new message gets a time slot before it is sent: no sooner than 1/rate after the
previous message overall, and no sooner than a second after the previous one to the same chat.
Edits, deletions and callback answers are not new messages and are not delayed. Should Telegram
still answer RetryAfter, every new message of the process waits as asked, and the call is tried
again.

A caller that holds something while it waits (the outbox's dispatcher holds a claim with a
lease) says how long it may wait, through python-telegram-bot's `rate_limit_args`:
`{"max_wait": seconds, "max_retries": 0}`. A slot further away than that raises `NoSlotSoon`
(nothing booked, nothing sent), and RetryAfter is raised at once instead of waited out, so the
caller can give back what it holds first. See docs/delivery.md.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections import deque
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

NEW_MESSAGE_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "sendLocation",
        "sendSticker",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendContact",
        "sendVenue",
        "sendAnimation",
        "sendMediaGroup",
        "sendPoll",
        "sendDice",
        "copyMessage",
        "forwardMessage",
    }
)
# A little under Telegram's figures, so that network jitter never pushes a burst over them.
DEFAULT_OVERALL_RATE = 28.0
DEFAULT_CHAT_INTERVAL = 1.05
# Booked slots can fire together after the event loop was busy; the sends actually made are
# also counted, at most OVERALL_RATE in any window this long.
WINDOW = 1.05
MAX_RETRIES = 3
# Forget chats that have been quiet for this long (seconds), so memory stays bounded.
FORGET_AFTER = 60.0

log = logging.getLogger("reportbot.ratelimit")


class NoSlotSoon(Exception):
    """No slot for this message within the caller's `max_wait`; nothing was sent."""

    def __init__(self, wait: float) -> None:
        """Remember how long until a slot (seconds)."""
        super().__init__(f"no slot within the wait allowed; the next is in {wait:.1f} s")
        self.wait = wait


def retry_seconds(error: RetryAfter) -> float:
    """How long Telegram asks us to wait, in seconds (PTB gives an int or a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


class PacedRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """Gives every new message a slot within the overall and per-chat limits, in arrival order."""

    def __init__(
        self,
        overall_rate: float = DEFAULT_OVERALL_RATE,
        chat_interval: float = DEFAULT_CHAT_INTERVAL,
        *,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], Coroutine[Any, Any, None]] = asyncio.sleep,
        max_retries: int = MAX_RETRIES,
    ) -> None:
        """Pace at OVERALL_RATE messages a second and CHAT_INTERVAL seconds a chat."""
        self.overall_interval = 1.0 / overall_rate
        self.chat_interval = chat_interval
        self.max_retries = max_retries
        self._clock = clock
        self._sleep = sleep
        self._next_overall = 0.0
        self._next_for_chat: dict[int | str, float] = {}
        self._pruned_at = 0.0
        self._paused_until = 0.0
        self._window_size = max(1, int(overall_rate))
        self._sent: deque[float] = deque()

    def _now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def reserve(
        self, chat_id: int | str | None, now: float, max_wait: float | None = None
    ) -> float:
        """The time at which a new message to CHAT_ID may go, and book it.

        NoSlotSoon (and nothing booked) if that is more than MAX_WAIT seconds from NOW.
        """
        slot = max(now, self._next_overall, self._paused_until)
        if chat_id is not None:
            slot = max(slot, self._next_for_chat.get(chat_id, 0.0))
        if max_wait is not None and slot - now > max_wait:
            raise NoSlotSoon(slot - now)
        if chat_id is not None:
            self._next_for_chat[chat_id] = slot + self.chat_interval
        self._next_overall = slot + self.overall_interval
        if now - self._pruned_at > FORGET_AFTER:
            self._prune(now)
        return slot

    def _prune(self, now: float) -> None:
        self._pruned_at = now
        quiet = [chat for chat, free in self._next_for_chat.items() if free < now - FORGET_AFTER]
        for chat in quiet:
            del self._next_for_chat[chat]

    async def _within_window(self) -> float:
        """Wait until the last WINDOW seconds hold fewer than the rate's worth; the send time."""
        while True:
            now = self._now()
            while self._sent and self._sent[0] <= now - WINDOW:
                self._sent.popleft()
            if len(self._sent) < self._window_size:
                self._sent.append(now)
                return now
            await self._sleep(self._sent[0] + WINDOW - now)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for the message's slot, send it, and honour RetryAfter."""
        paced = endpoint in NEW_MESSAGE_METHODS
        chat_id = data.get("chat_id")
        limits = rate_limit_args or {}
        max_wait = limits.get("max_wait")
        max_retries = limits.get("max_retries", self.max_retries)
        attempt = 0
        while True:
            if paced:
                now = self._now()
                delay = self.reserve(chat_id, now, max_wait) - now
                if delay > 0:
                    await self._sleep(delay)
                sent_at = await self._within_window()
                if chat_id is not None:
                    # The window may have held the message past its slot: the chat's next
                    # message counts from when this one really goes.
                    booked = self._next_for_chat.get(chat_id, 0.0)
                    self._next_for_chat[chat_id] = max(booked, sent_at + self.chat_interval)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_seconds(exc)
                # Everyone waits: Telegram's answer is about this bot, not this chat alone.
                self._paused_until = max(self._paused_until, self._now() + seconds)
                attempt += 1
                if attempt > max_retries:
                    raise
                log.warning("telegram asked to wait %.0f s (%s); waiting", seconds, endpoint)
                await self._sleep(seconds)
