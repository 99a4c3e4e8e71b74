"""Telegram's webhook deliveries as Telegram makes them: several at once, each chat in order.

`WebhookTelegram` is the fake Telegram of `tests.botapi` with another way of pushing
updates once a webhook is set: up to CONNECTIONS calls at once (Telegram's `max_connections`,
40 by default), at most one per chat, a chat's next update only once the previous one was
answered 200; a call that fails, is refused or is not answered within DELIVERY_TIMEOUT is made
again (after a short pause, as Telegram retries later), and meanwhile that chat waits. With
DUPLICATE_EVERY, every so many updates are also sent a second time at once, as when the answer
to a call is lost and Telegram makes it again while the bot is still handling the first. Every
call of the bot is stamped with the time it is answered, so that a chat's replies can be placed
among the turns of the bot's own log: the bot was still waiting for the answer then, unless it
had already hung up (its call timed out, or it was killed), and such a call is marked so.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.botapi import FakeTelegram

CONNECTIONS = 40
DELIVERY_TIMEOUT = 10.0
RETRY_SECONDS = (0.05, 0.1, 0.2, 0.4, 0.8)


@dataclass
class Delivery:
    """One webhook call: which update, when, and how it ended (status, or the error)."""

    update_id: int
    chat_id: int | None
    attempt: int
    started: float
    ended: float = 0.0
    status: int | None = None
    error: str | None = None


@dataclass
class Stamped:
    """A Bot API call of the bot, with the time (time.time()) it was answered.

    The bot made the call before AT and, unless CALLER_GONE, was still waiting for the answer
    at AT. With CALLER_GONE the bot had hung up first (a timeout, or the process died): the
    call may have waited unread for any time, and AT does not place it.
    """

    at: float
    method: str
    params: dict[str, Any]
    caller_gone: bool = False

    @property
    def chat_id(self) -> int | None:
        """The chat the call is about, if any."""
        chat = self.params.get("chat_id")
        return int(chat) if chat is not None else None


def chat_of(update: dict[str, Any]) -> int | None:
    """The chat an update belongs to (its order), or None."""
    for kind in ("message", "edited_message", "callback_query"):
        body = update.get(kind)
        if not isinstance(body, dict):
            continue
        message = body.get("message", body) if kind == "callback_query" else body
        chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict) and "id" in chat:
            return int(chat["id"])
    return None


@dataclass
class _Line:
    """A chat's delivery state: busy while a call is out; when its next try may go."""

    busy: bool = False
    not_before: float = 0.0
    attempts: dict[int, int] = field(default_factory=dict)


class WebhookTelegram(FakeTelegram):
    """A fake Telegram that delivers webhook updates concurrently, per chat in order."""

    def __init__(
        self,
        token: str,
        *,
        connections: int = CONNECTIONS,
        delivery_timeout: float = DELIVERY_TIMEOUT,
        duplicate_every: int = 0,
    ) -> None:
        """Deliver with up to CONNECTIONS calls at once, each given DELIVERY_TIMEOUT seconds."""
        super().__init__(token)
        self.connections = connections
        self.delivery_timeout = delivery_timeout
        self.duplicate_every = duplicate_every
        self.stamped: list[Stamped] = []
        self.webhook_calls: list[Delivery] = []
        self._lines: dict[int | None, _Line] = {}
        self._out: set[asyncio.Task[None]] = set()

    def received(
        self, method: str, params: dict[str, Any], *, at: float, caller_gone: bool
    ) -> None:
        """Stamp the call; the fake Telegram answers it next."""
        self.stamped.append(Stamped(at, method, dict(params), caller_gone))

    def _push(self) -> Coroutine[Any, Any, None]:
        """Deliver pending updates several at once, each chat's in order."""
        return self._deliver_all()

    def in_flight(self) -> int:
        """How many webhook calls are out right now."""
        return len(self._out)

    def _ready(self, now: float) -> list[dict[str, Any]]:
        """The next update of every chat that may get a call now, oldest first."""
        seen: set[int | None] = set()
        ready = []
        for update in self.pending:
            chat = chat_of(update)
            key = chat if chat is not None else -update["update_id"]
            if key in seen:
                continue
            seen.add(key)
            line = self._lines.setdefault(key, _Line())
            if not line.busy and line.not_before <= now:
                ready.append(update)
        return ready

    async def _deliver_all(self) -> None:
        limits = httpx.Limits(max_connections=self.connections)
        timeout = httpx.Timeout(self.delivery_timeout)
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as client:
            try:
                while self.webhook_url is not None:
                    now = time.monotonic()
                    for update in self._ready(now):
                        if len(self._out) >= self.connections:
                            break
                        self._start(self._deliver(client, update))
                        if self._duplicated(update):
                            self._start(self._deliver(client, update, duplicate=True))
                    waits = [
                        line.not_before - now
                        for line in self._lines.values()
                        if not line.busy and line.not_before > now
                    ]
                    changed = self._changed
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(changed.wait(), min(waits, default=3600))
            finally:
                for task in list(self._out):
                    task.cancel()
                await asyncio.gather(*self._out, return_exceptions=True)

    def _start(self, delivery: Any) -> None:
        task = asyncio.get_running_loop().create_task(delivery)
        self._out.add(task)
        task.add_done_callback(self._out.discard)

    def _duplicated(self, update: dict[str, Any]) -> bool:
        """Whether this first call of UPDATE is also made a second time, at once."""
        chat = chat_of(update)
        line = self._lines[chat if chat is not None else -update["update_id"]]
        every = self.duplicate_every
        return (
            bool(every)
            and line.attempts.get(update["update_id"]) is None
            and (update["update_id"] % every == 0)
        )

    async def _deliver(
        self, client: httpx.AsyncClient, update: dict[str, Any], *, duplicate: bool = False
    ) -> None:
        update_id = update["update_id"]
        chat = chat_of(update)
        line = self._lines[chat if chat is not None else -update_id]
        if duplicate:
            attempt = 0  # the second of two calls made at once; only the first counts
        else:
            line.busy = True
            attempt = line.attempts.get(update_id, 0) + 1
            line.attempts[update_id] = attempt
        delivery = Delivery(update_id, chat, attempt, time.time())
        self.webhook_calls.append(delivery)
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret or ""}
        try:
            response = await client.post(self.webhook_url or "", json=update, headers=headers)
            delivery.status = response.status_code
        except httpx.HTTPError as exc:
            delivery.error = type(exc).__name__
        finally:
            delivery.ended = time.time()
            if not duplicate:
                line.busy = False
        if duplicate:
            return
        if delivery.status == 200:
            self.taken_by[update_id] = self.generation
            with contextlib.suppress(ValueError):
                self.pending.remove(update)
        else:
            pause = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS)) - 1]
            line.not_before = time.monotonic() + pause
        self.notify()
