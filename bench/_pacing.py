"""A PROTOTYPE rate limiter (not the product's): one message a second per private chat, no bursts.

What `bot.app.default_rate_limiter` would need to keep the conversation within Telegram's limits,
measured by bench/conversation.py beside the real one. Only calls that make a new message are
paced (edits, deletions and answerCallbackQuery go at once):

- per private chat: one message at a time, each at least `chat_interval` after the previous one
  to that chat was sent (stamped when it actually goes, after any wait for the overall limit);
- overall: evenly spaced, `overall_rate` a second, first come first served, with no burst (a
  leaky bucket such as AIORateLimiter's lets 30 through at once after a quiet moment, which a
  strict "30 in any second" count then refuses).

A 429 is not retried here: it is raised, so that the benchmark counts it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import BaseRateLimiter

from bench._fakeapi import NEW_MESSAGE_METHODS


class PacedRateLimiter(BaseRateLimiter[int]):
    """Paces new messages per private chat and overall (see the module's docstring)."""

    def __init__(self, overall_rate: float = 29.0, chat_interval: float = 1.05) -> None:
        """At most OVERALL_RATE new messages a second, CHAT_INTERVAL seconds apart per chat."""
        self.spacing = 1.0 / overall_rate
        self.chat_interval = chat_interval
        self._next_slot = 0.0
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._chat_next: dict[int, float] = {}

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def _overall_turn(self) -> None:
        """Reserve the next free overall slot (FIFO) and wait for it."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(now, self._next_slot)
        self._next_slot = slot + self.spacing
        if slot > now:
            await asyncio.sleep(slot - now)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        """Wait for the chat's turn and an overall slot, then make the call."""
        if endpoint not in NEW_MESSAGE_METHODS:
            return await callback(*args, **kwargs)
        chat_id = data.get("chat_id")
        if not isinstance(chat_id, int) or chat_id <= 0:
            await self._overall_turn()
            return await callback(*args, **kwargs)
        lock = self._chat_locks.setdefault(chat_id, asyncio.Lock())
        loop = asyncio.get_running_loop()
        async with lock:
            wait = self._chat_next.get(chat_id, 0.0) - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            await self._overall_turn()
            self._chat_next[chat_id] = loop.time() + self.chat_interval
        return await callback(*args, **kwargs)
