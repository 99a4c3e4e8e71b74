"""Processing updates: each chat's in order, different chats at once, each effect once.

PTB calls `process_update` for every update as soon as it arrives, under a semaphore of
`max_concurrent_updates`. That semaphore is sized generously here: an update waiting for its
chat's turn must not take a slot from another chat. The real bound is `max_concurrent_chats`,
taken only once an update is at the head of its chat's line.

A chat's line is kept in this process (a FIFO lock per chat) and, with a database, across every
process that shares it (`models.storage.turns`): on PostgreSQL several workers behind a load
balancer each receive some of a chat's updates, and the chat's turn there is what keeps them one
at a time. The turn is held until the update's replies have been sent.

When the bot stops (`close`), updates that have not started yet are not started: they end with
`UpdateDeferred`, so that the webhook answers 503 and polling does not confirm them, and
Telegram hands them over again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from models.storage.database import Database
from models.storage.processed import processing_update
from models.storage.turns import ChatTurns

log = logging.getLogger("reportbot.processing")

# Updates that PTB may hand over at once before they queue in its own semaphore.
BACKLOG_PER_CHAT_SLOT = 64
MIN_BACKLOG = 4096


class UpdateDeferred(Exception):
    """The bot is stopping and did not start this update: Telegram must hand it over again."""

    def __init__(self, update_id: int | None) -> None:
        """Remember which update it was."""
        super().__init__(f"update {update_id} was not started: the bot is stopping")
        self.update_id = update_id


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
    write records it, and an update already recorded is skipped (a redelivery); and a chat's
    updates also take turns with the other processes on the same database.
    """

    def __init__(self, max_chats: int, *, db: Database | None = None) -> None:
        """Allow MAX_CHATS chats at once; with DB, make each update's effect happen once."""
        super().__init__(max(MIN_BACKLOG, max_chats * BACKLOG_PER_CHAT_SLOT))
        self.max_chats = max_chats
        self.db = db
        self.turns = ChatTurns(db, size=max_chats) if db is not None else None
        self._slots = asyncio.Semaphore(max_chats)
        self._chats: dict[int, _ChatLine] = {}
        self._waiting: set[asyncio.Task[Any]] = set()
        self._deferring: set[asyncio.Task[Any]] = set()
        self.closed = False

    @property
    def active_chats(self) -> int:
        """How many chats have an update running or waiting (idle chats are forgotten)."""
        return len(self._chats)

    @property
    def waiting_updates(self) -> int:
        """How many updates wait for their chat's turn or a slot (they have not started)."""
        return len(self._waiting)

    async def initialize(self) -> None:
        """Nothing to allocate: chat lines are made on demand, connections when first used."""

    async def shutdown(self) -> None:
        """Close the connections that hold chats' turns (when the application shuts down)."""
        if self.turns is not None:
            await self.turns.close()

    def close(self) -> int:
        """Start nothing more: updates still waiting end with UpdateDeferred; returns how many."""
        self.closed = True
        waiting = [task for task in self._waiting if not task.done()]
        for task in waiting:
            self._deferring.add(task)
            task.cancel()
        return len(waiting)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Wait for this chat's turn and a free slot, then process UPDATE."""
        task = asyncio.current_task()
        try:
            if self.closed:
                raise UpdateDeferred(_update_id(update))
            key = chat_key(update)
            if key is None:
                async with self._waiting_for(update, task, self._slots):
                    await self._run(update, coroutine, time.monotonic())
            else:
                await self._in_turn(key, update, coroutine, task)
        finally:
            # A no-op once it ran; otherwise (skipped, cancelled, failed check) it never will.
            _close(coroutine)

    def _waiting_for(self, update: object, task: asyncio.Task[Any] | None, *locks: Any) -> _Waiting:
        return _Waiting(self, _update_id(update), task, locks)

    async def _in_turn(
        self, key: int, update: object, coroutine: Awaitable[Any], task: asyncio.Task[Any] | None
    ) -> None:
        line = self._chats.get(key)
        if line is None:
            line = self._chats[key] = _ChatLine()
        line.users += 1
        arrived = time.monotonic()
        try:
            # The lock is FIFO and taken without yielding when free, so the chat's updates
            # enter in the order PTB handed them over, which is the order Telegram sent them.
            async with self._waiting_for(update, task, line.lock, self._slots):
                if self.turns is None:
                    await self._run(update, coroutine, arrived)
                    return
                async with self._waiting_for(update, task, self.turns.turn(key)):
                    await self._run(update, coroutine, arrived)
        finally:
            line.users -= 1
            if line.users == 0:
                del self._chats[key]

    async def _run(self, update: object, coroutine: Awaitable[Any], arrived: float) -> None:
        started = time.monotonic()
        if self.db is None or not isinstance(update, Update):
            await coroutine
            return
        timing = {"update_id": update.update_id, "waited_ms": _ms(started - arrived)}
        outcome = "update handled"
        with processing_update(update.update_id, chat_key(update)) as scope:
            # One read: is it a redelivery, and (if not) the chat's rows the handlers will need.
            if await self.db.check_update(scope):
                log.info(
                    "update already processed; acknowledged without running it again",
                    extra={**timing, "took_ms": _ms(time.monotonic() - started)},
                )
                return
            try:
                await coroutine
            except asyncio.CancelledError:
                outcome = "update cut short; Telegram hands it over again"
                raise
            finally:
                # Logged while the chat's turn is held: a worker's lines order a chat's updates.
                log.info(outcome, extra={**timing, "took_ms": _ms(time.monotonic() - started)})


class _Waiting:
    """Enter LOCKS (context managers) as an update that has not started yet.

    Until every lock is held, `ChatOrderedProcessor.close` may cancel the waiting task; the
    cancellation then surfaces as UpdateDeferred.
    """

    def __init__(
        self,
        processor: ChatOrderedProcessor,
        update_id: int | None,
        task: asyncio.Task[Any] | None,
        locks: tuple,
    ) -> None:
        self.processor = processor
        self.update_id = update_id
        self.task = task
        self.locks = locks
        self.entered: list[Any] = []

    async def __aenter__(self) -> None:
        processor, task = self.processor, self.task
        if task is not None:
            processor._waiting.add(task)
        try:
            for lock in self.locks:
                await lock.__aenter__()
                self.entered.append(lock)
            if processor.closed:
                raise UpdateDeferred(self.update_id)
        except BaseException as exc:
            await self._leave(type(exc), exc, exc.__traceback__)
            if task is not None and task in processor._deferring:
                processor._deferring.discard(task)
                if isinstance(exc, asyncio.CancelledError):
                    task.uncancel()
                raise UpdateDeferred(self.update_id) from None
            raise
        finally:
            if task is not None:
                processor._waiting.discard(task)

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._leave(*exc_info)

    async def _leave(self, *exc_info: Any) -> None:
        while self.entered:
            await self.entered.pop().__aexit__(*exc_info)


async def finish_in_flight(in_flight: dict[int, asyncio.Task[Any]], deadline: float | None) -> int:
    """Wait for IN_FLIGHT's tasks until DEADLINE (loop time), then cancel the rest; how many."""
    loop = asyncio.get_running_loop()
    cancelled = 0
    while in_flight:
        tasks = set(in_flight.values())
        timeout = None if deadline is None else max(0.0, deadline - loop.time())
        _, late = await asyncio.wait(tasks, timeout=timeout)
        if late:
            for task in late:
                task.cancel()
            cancelled += len(late)
            await asyncio.wait(late)
        for update_id, task in list(in_flight.items()):
            if task.done():  # also one cancelled before it ran
                in_flight.pop(update_id, None)
    return cancelled


def _update_id(update: object) -> int | None:
    return update.update_id if isinstance(update, Update) else None


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _close(coroutine: Awaitable[Any]) -> None:
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
