"""Sending within Telegram's limits: 30 new messages a second overall, one a second a chat.

Telegram answers 429 (RetryAfter) beyond those limits, and a refused reply is a victim left
waiting. So each new message gets a time slot before it is sent: no sooner than 1/rate after the
previous message overall, and no sooner than a second after the previous one to the same chat.

Slots alone can fire together after the event loop stalled, and a request reaches Telegram some
unknown time after it leaves. So the process also keeps a sliding log of its last RATE messages,
each counted from when its request started until a full WINDOW after its answer came back:
Telegram received it somewhere in between, so a new message that starts only when fewer than RATE
of the log are still counted can never make RATE+1 arrive in any WINDOW at Telegram, whatever
the network's or the event loop's delays. That lets RATE = 30 use the whole budget, less only the
round trip (30 / (1 s + round trip)), instead of a safety margin on the rate. The same holds for
one chat (its next message starts a full second after the answer to its previous one, even if
both were booked at once), and for a group (a negative chat id, or an @name): at most
GROUP_LIMIT in any GROUP_WINDOW, counted the same way.
Edits, deletions and callback answers are not new messages and are not delayed. Should Telegram
still answer RetryAfter, every new message of the process waits as asked, and the call is tried
again.

A caller that holds something while it waits (the outbox's dispatcher holds a claim with a
lease) says how long it may wait, through python-telegram-bot's `rate_limit_args`:
`{"max_wait": seconds, "max_retries": 0}`. A slot further away than that raises `NoSlotSoon`
(nothing booked, nothing sent), and RetryAfter is raised at once instead of waited out, so the
caller can give back what it holds first. It may also pass `"still_wanted"`, a function asked
once the slot has come, just before the request: if it says no, nothing is sent and `Withdrawn`
is raised (the dispatcher's claim ran short, or it is stopping). `send()` does the same for a
call that does not go through the bot (a dispatcher whose bot has no limiter of this kind).
See docs/delivery.md.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any, TypeVar

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
# Telegram's figures: the sliding log below keeps them whatever the delays, so no margin.
DEFAULT_OVERALL_RATE = 30.0
DEFAULT_CHAT_INTERVAL = 1.0
# Telegram's window: at most OVERALL_RATE new messages in any WINDOW seconds as it receives them.
WINDOW = 1.0
# Telegram's limit for one group or channel: 20 messages a minute.
GROUP_LIMIT = 20
GROUP_WINDOW = 60.0
MAX_RETRIES = 3
# Forget chats that have been quiet for this long (seconds), so memory stays bounded.
FORGET_AFTER = 60.0

log = logging.getLogger("reportbot.ratelimit")
T = TypeVar("T")


class Withdrawn(Exception):
    """The caller no longer wanted the message when its slot came; nothing was sent."""


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


def is_group(chat_id: int | str | None) -> bool:
    """Whether CHAT_ID names a group or channel (Telegram's ids for them are negative)."""
    if isinstance(chat_id, str):
        return chat_id.startswith("@") or chat_id.startswith("-")
    return chat_id is not None and chat_id < 0


class SlidingLog:
    """At most LIMIT messages counted at once, each from its request to WINDOW after its answer."""

    def __init__(self, limit: int, window: float) -> None:
        """Allow LIMIT messages in any WINDOW seconds as the receiver sees them."""
        self.limit = limit
        self.window = window
        # When each answered message stops counting, in order; those awaiting their answer
        # are counted in in_flight (they stop counting later than every logged one).
        self.free_at: deque[float] = deque()
        self.in_flight = 0
        self._answered = asyncio.Event()

    def wait_needed(self, now: float) -> float:
        """Seconds until a message may start, as far as known now (0 if it may start now)."""
        while self.free_at and self.free_at[0] <= now:
            self.free_at.popleft()
        if len(self.free_at) + self.in_flight < self.limit or not self.free_at:
            return 0.0
        return self.free_at[0] - now

    def idle(self, now: float) -> bool:
        """Nothing counted any more: the log may be forgotten."""
        self.wait_needed(now)
        return self.in_flight == 0 and not self.free_at

    async def acquire(
        self, now: Callable[[], float], sleep: Callable[[float], Coroutine[Any, Any, None]]
    ) -> None:
        """Wait until fewer than LIMIT messages count, then count this one as in flight."""
        while True:
            moment = now()
            wait = self.wait_needed(moment)
            if len(self.free_at) + self.in_flight < self.limit:
                self.in_flight += 1
                return
            if wait > 0:
                await sleep(wait)
            else:
                self._answered.clear()
                await self._answered.wait()

    def give_back(self) -> None:
        """The message was not sent after all: it does not count."""
        self.in_flight -= 1
        self._answered.set()

    def answered(self, now: float) -> None:
        """The message's answer came at NOW: it counts until WINDOW later."""
        self.in_flight -= 1
        self.free_at.append(now + self.window)
        self._answered.set()


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
        self._overall = SlidingLog(max(1, int(overall_rate)), WINDOW)
        self._groups: dict[int | str, SlidingLog] = {}
        # One a second a chat, counted to a second after the answer to its previous message.
        self._chats: dict[int | str, SlidingLog] = {}

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
        if chat_id is not None:
            for logs in (self._chats, self._groups):
                log_ = logs.get(chat_id)
                if log_ is not None:
                    slot = max(slot, now + log_.wait_needed(now))
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
        for logs in (self._groups, self._chats):
            for chat in [chat for chat, log_ in logs.items() if log_.idle(now)]:
                del logs[chat]

    def _logs_for(self, chat_id: int | str | None) -> list[SlidingLog]:
        """The logs a message to CHAT_ID must find room in: its chat's, its group's, overall."""
        if chat_id is None:
            return [self._overall]
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = SlidingLog(1, self.chat_interval)
        logs = [chat]
        if is_group(chat_id):
            group = self._groups.get(chat_id)
            if group is None:
                group = self._groups[chat_id] = SlidingLog(GROUP_LIMIT, GROUP_WINDOW)
            logs.append(group)
        # Overall last, so that no message holds the process's room while it waits for its chat's.
        logs.append(self._overall)
        return logs

    async def _within_window(self, chat_id: int | str | None) -> list[SlidingLog]:
        """Wait until the chat's, the group's and then the overall log have room; those logs."""
        taken: list[SlidingLog] = []
        try:
            for log_ in self._logs_for(chat_id):
                await log_.acquire(self._now, self._sleep)
                taken.append(log_)
        except BaseException:
            for log_ in taken:
                log_.give_back()
            raise
        return taken

    def _answer_came(self, chat_id: int | str | None) -> None:
        """Count a sent message until a window after its answer, in each of its logs."""
        now = self._now()
        self._overall.answered(now)
        if chat_id is not None:
            for logs in (self._chats, self._groups):
                log_ = logs.get(chat_id)
                if log_ is not None:
                    log_.answered(now)

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
        limits = rate_limit_args or {}
        return await self.send(
            lambda: callback(*args, **kwargs),
            data.get("chat_id"),
            paced=endpoint in NEW_MESSAGE_METHODS,
            max_wait=limits.get("max_wait"),
            max_retries=limits.get("max_retries", self.max_retries),
            still_wanted=limits.get("still_wanted"),
            name=endpoint,
        )

    async def send(
        self,
        call: Callable[[], Awaitable[T]],
        chat_id: int | str | None,
        *,
        paced: bool = True,
        max_wait: float | None = None,
        max_retries: int | None = None,
        still_wanted: Callable[[], bool] | None = None,
        name: str = "sendMessage",
    ) -> T:
        """Make CALL (a new message to CHAT_ID if PACED) in its slot, honouring RetryAfter.

        STILL_WANTED, if given, is asked once the slot has come, just before CALL: if it says
        no, nothing is sent and `Withdrawn` is raised.
        """
        retries = self.max_retries if max_retries is None else max_retries
        attempt = 0
        while True:
            taken: list[SlidingLog] = []
            if paced:
                now = self._now()
                delay = self.reserve(chat_id, now, max_wait) - now
                if delay > 0:
                    await self._sleep(delay)
                taken = await self._within_window(chat_id)
                if self._paused_until > self._now():
                    # Telegram asked everyone to wait while this one waited for its slot.
                    for log_ in taken:
                        log_.give_back()
                    continue
            if still_wanted is not None and not still_wanted():
                for log_ in taken:
                    log_.give_back()
                raise Withdrawn
            try:
                try:
                    return await call()
                finally:
                    if paced:
                        # Also after an error: Telegram may have received the request.
                        self._answer_came(chat_id)
            except RetryAfter as exc:
                seconds = retry_seconds(exc)
                # Everyone waits: Telegram's answer is about this bot, not this chat alone.
                self._paused_until = max(self._paused_until, self._now() + seconds)
                attempt += 1
                if attempt > retries:
                    raise
                log.warning("telegram asked to wait %.0f s (%s); waiting", seconds, name)
                await self._sleep(seconds)
