"""Processing updates: each chat's in order, different chats at once, each effect once.

PTB calls `process_update` for every update as soon as it arrives, under a semaphore of
`max_concurrent_updates`. That semaphore is sized generously here: an update waiting for its
chat's turn must not take a slot from another chat. The real bound is `max_concurrent_chats`,
taken only once an update is at the head of its chat's line.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from models.storage.database import Database
from models.storage.processed import processing_update

log = logging.getLogger("reportbot.processing")

# Updates that PTB may hand over at once before they queue in its own semaphore.
BACKLOG_PER_CHAT_SLOT = 64
MIN_BACKLOG = 4096


@dataclass(slots=True)
class _ChatLine:
    """One chat's turn-taking: a FIFO lock and how many updates hold or wait for it."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


def chat_key(update: object) -> int | None:
    """The chat whose order UPDATE belongs to, or None for updates outside any chat."""
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Runs one chat's updates strictly in order and up to MAX_CHATS chats concurrently.

    With a database, every update runs inside `processing_update`, so its first committed
    write records it, and an update already recorded is skipped (a redelivery).
    """

    def __init__(self, max_chats: int, *, db: Database | None = None) -> None:
        """Allow MAX_CHATS chats at once; with DB, make each update's effect happen once."""
        super().__init__(max(MIN_BACKLOG, max_chats * BACKLOG_PER_CHAT_SLOT))
        self.max_chats = max_chats
        self.db = db
        self._slots = asyncio.Semaphore(max_chats)
        self._chats: dict[int, _ChatLine] = {}

    @property
    def active_chats(self) -> int:
        """How many chats have an update running or waiting (idle chats are forgotten)."""
        return len(self._chats)

    async def initialize(self) -> None:
        """Nothing to allocate: chat lines are made on demand."""

    async def shutdown(self) -> None:
        """Nothing to free: PTB waits for every pending update before calling this."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for this chat's turn and a free slot, then process UPDATE."""
        try:
            key = chat_key(update)
            if key is None:
                async with self._slots:
                    await self._run(update, coroutine)
            else:
                await self._in_turn(key, update, coroutine)
        finally:
            # A no-op once it ran; otherwise (skipped, cancelled, failed check) it never will.
            _close(coroutine)

    async def _in_turn(self, key: int, update: object, coroutine: Awaitable[Any]) -> None:
        line = self._chats.get(key)
        if line is None:
            line = self._chats[key] = _ChatLine()
        line.users += 1
        try:
            # The lock is FIFO and taken without yielding when free, so the chat's updates
            # enter in the order PTB handed them over, which is the order Telegram sent them.
            async with line.lock, self._slots:
                await self._run(update, coroutine)
        finally:
            line.users -= 1
            if line.users == 0:
                del self._chats[key]

    async def _run(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self.db is None or not isinstance(update, Update):
            await coroutine
            return
        if await self.db.is_processed(update.update_id):
            log.info(
                "update already processed; acknowledged without running it again",
                extra={"update_id": update.update_id},
            )
            return
        with processing_update(update.update_id):
            await coroutine


def _close(coroutine: Awaitable[Any]) -> None:
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
