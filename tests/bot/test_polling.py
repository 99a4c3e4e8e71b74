"""Our long polling: Telegram is never told an update is done before its processing is."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TimedOut

from bot.polling import Poller
from bot.processing import ChatOrderedProcessor

WAIT = 10.0


@dataclass
class Call:
    """One getUpdates call the poller made."""

    offset: int | None
    limit: int | None
    timeout: float | None


class FakeBot:
    """Telegram's getUpdates: pending updates stay until an offset above them confirms them."""

    def __init__(self) -> None:
        self.pending: list[Update] = []
        self.calls: list[Call] = []
        self.errors: list[Exception] = []
        self.webhook_deleted: list[bool] = []
        self._changed = asyncio.Event()

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def queue(self, update_id: int, chat_id: int) -> None:
        self.pending.append(
            Update.de_json(
                {
                    "update_id": update_id,
                    "message": {
                        "message_id": update_id,
                        "date": 0,
                        "chat": {"id": chat_id, "type": "private"},
                        "text": f"m{update_id}",
                    },
                },
                None,
            )
        )
        self.notify()

    async def wait_for_call(self, condition) -> Call:
        """Wait until the poller makes a call meeting CONDITION; returns it."""
        while True:
            found = next((call for call in self.calls if condition(call)), None)
            if found is not None:
                return found
            await asyncio.wait_for(self._changed.wait(), WAIT)

    async def delete_webhook(self, drop_pending_updates: bool = False) -> bool:
        self.webhook_deleted.append(drop_pending_updates)
        return True

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (the Bot API parameter)
        allowed_updates: Any = None,
    ) -> list[Update]:
        self.calls.append(Call(offset, limit, timeout))
        self.notify()
        if self.errors:
            raise self.errors.pop(0)
        if offset is not None:
            self.pending = [u for u in self.pending if u.update_id >= offset]
        while True:
            ready = self.pending[: limit or 100]
            if ready or not timeout:
                return ready
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout)
                continue
            return []


class Handler:
    """Processes updates through the chat-ordered processor; some are held until released."""

    def __init__(self) -> None:
        self.processor = ChatOrderedProcessor(8)
        self.runs: Counter[int] = Counter()
        self.order: dict[int, list[int]] = defaultdict(list)
        self.held: dict[int, asyncio.Event] = {}
        self.started: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.finished: dict[int, asyncio.Event] = defaultdict(asyncio.Event)

    def hold(self, update_id: int) -> asyncio.Event:
        self.held[update_id] = asyncio.Event()
        return self.held[update_id]

    async def _handle(self, update: Update) -> None:
        update_id = update.update_id
        self.runs[update_id] += 1
        self.order[update.effective_chat.id].append(update_id)
        self.started[update_id].set()
        if update_id in self.held:
            await self.held[update_id].wait()
        self.finished[update_id].set()

    def __call__(self, update: Update):
        return self.processor.process_update(update, self._handle(update))


async def _finished(handler: Handler, *update_ids: int) -> None:
    for update_id in update_ids:
        await asyncio.wait_for(handler.finished[update_id].wait(), WAIT)


@pytest.fixture
def bot() -> FakeBot:
    return FakeBot()


@pytest.fixture
def handler() -> Handler:
    return Handler()


async def test_the_offset_never_passes_an_update_still_in_flight(bot: FakeBot, handler: Handler):
    slow = handler.hold(1)
    bot.queue(1, chat_id=100)  # chat 100's update is slow
    bot.queue(2, chat_id=200)
    bot.queue(3, chat_id=200)
    poller = Poller(bot, handler, stalled_poll=0.05)
    await poller.start()
    assert bot.webhook_deleted == [False]

    await _finished(handler, 2, 3)
    # Chat 200 goes on while chat 100 waits, also with an update fetched later.
    bot.queue(4, chat_id=200)
    await _finished(handler, 4)
    assert not handler.finished[1].is_set()
    assert poller.offset == 1
    # Telegram kept handing over update 1 (and the finished ones above it): none ran twice.
    assert all(call.offset in (None, 1) for call in bot.calls)
    assert len(bot.calls) > 2
    assert handler.runs == {1: 1, 2: 1, 3: 1, 4: 1}
    assert handler.order[200] == [2, 3, 4]

    slow.set()
    await _finished(handler, 1)
    await bot.wait_for_call(lambda call: call.offset == 5)
    await poller.stop()
    assert handler.runs == {1: 1, 2: 1, 3: 1, 4: 1}
    assert bot.pending == []


async def test_one_chat_keeps_its_order_across_fetches(bot: FakeBot, handler: Handler):
    first = handler.hold(10)
    bot.queue(10, chat_id=7)
    poller = Poller(bot, handler, stalled_poll=0.05)
    await poller.start()
    await asyncio.wait_for(handler.started[10].wait(), WAIT)
    bot.queue(11, chat_id=7)
    bot.queue(12, chat_id=7)
    await bot.wait_for_call(lambda call: call.offset == 10 and len(bot.pending) == 3)
    first.set()
    await _finished(handler, 10, 11, 12)
    await poller.stop()
    assert handler.order[7] == [10, 11, 12]
    assert handler.runs == {10: 1, 11: 1, 12: 1}


async def test_a_stalled_poller_waits_for_progress_instead_of_spinning(
    bot: FakeBot, handler: Handler
):
    slow = handler.hold(20)
    bot.queue(20, chat_id=1)
    poller = Poller(bot, handler, stalled_poll=60)
    await poller.start()
    await asyncio.wait_for(handler.started[20].wait(), WAIT)
    await bot.wait_for_call(lambda call: call.offset == 20)
    calls = len(bot.calls)
    for _ in range(200):
        await asyncio.sleep(0)
    assert len(bot.calls) <= calls + 1  # at most the one that found only update 20 again

    slow.set()
    # The update's end wakes the poller at once (not after the 60 s fallback).
    await bot.wait_for_call(lambda call: call.offset == 21)
    await poller.stop()


async def test_new_updates_below_the_limit_do_not_trigger_an_immediate_repeat(
    bot: FakeBot, handler: Handler
):
    # While updates are in flight every answer repeats them; one that brought fewer new
    # updates than the limit means nothing more was waiting, so the next call waits too.
    first, second = handler.hold(1), handler.hold(2)
    bot.queue(1, chat_id=1)
    bot.queue(2, chat_id=2)
    poller = Poller(bot, handler, stalled_poll=60)
    await poller.start()
    await asyncio.wait_for(handler.started[2].wait(), WAIT)
    await bot.wait_for_call(lambda call: call.offset == 1)

    handler.hold(3)
    bot.queue(3, chat_id=3)
    first.set()  # the offset moves to 2: the next call brings update 3
    await asyncio.wait_for(handler.started[3].wait(), WAIT)
    for _ in range(200):
        await asyncio.sleep(0)
    assert [call.offset for call in bot.calls if call.offset == 2] == [2]

    second.set()  # progress wakes the poller at once
    await bot.wait_for_call(lambda call: call.offset == 3)
    handler.held[3].set()
    await _finished(handler, 3)
    await poller.stop()
    assert handler.runs == {1: 1, 2: 1, 3: 1}


async def test_a_full_answer_is_followed_by_another_call_at_once(bot: FakeBot, handler: Handler):
    # LIMIT updates came back: more may be waiting, so the poller asks again without waiting
    # for progress (the fallback here is a minute: the test would time out).
    for update_id in (1, 2):
        handler.hold(update_id)
        bot.queue(update_id, chat_id=update_id)
    poller = Poller(bot, handler, limit=3, stalled_poll=60)
    await poller.start()
    await asyncio.wait_for(handler.started[2].wait(), WAIT)
    await bot.wait_for_call(lambda call: call.offset == 1)

    for update_id in (3, 4):
        handler.hold(update_id)
        bot.queue(update_id, chat_id=update_id)
    handler.held[1].set()  # the offset moves to 2: the next call brings 2, 3 and 4 (full)
    await asyncio.wait_for(handler.started[4].wait(), WAIT)
    await bot.wait_for_call(lambda _: sum(call.offset == 2 for call in bot.calls) >= 2)
    assert not handler.finished[2].is_set()
    for update_id in (2, 3, 4):
        handler.held[update_id].set()
    await _finished(handler, 1, 2, 3, 4)
    await poller.stop()
    assert handler.runs == {1: 1, 2: 1, 3: 1, 4: 1}


async def test_stop_lets_the_update_in_flight_finish_then_confirms_it(
    bot: FakeBot, handler: Handler
):
    slow = handler.hold(30)
    bot.queue(30, chat_id=1)
    poller = Poller(bot, handler)
    await poller.start()
    await asyncio.wait_for(handler.started[30].wait(), WAIT)

    stopping = asyncio.create_task(poller.stop())
    for _ in range(50):
        await asyncio.sleep(0)
    assert not stopping.done()
    assert poller.task is not None and poller.task.done()  # no more fetching
    assert all(call.offset in (None, 30) for call in bot.calls)
    bot.queue(31, chat_id=2)  # arrives during the stop: not taken, not confirmed

    slow.set()
    await asyncio.wait_for(stopping, WAIT)
    final = bot.calls[-1]
    assert (final.offset, final.limit, final.timeout) == (31, 1, 0)
    assert [u.update_id for u in bot.pending] == [31]
    assert handler.runs == {30: 1}


async def test_network_errors_and_conflicts_are_retried_with_backoff(
    bot: FakeBot, handler: Handler, caplog
):
    bot.errors = [NetworkError("down"), TimedOut(), Conflict("terminated by other getUpdates")]
    bot.queue(40, chat_id=1)
    poller = Poller(bot, handler, backoff=(0.001, 0.002))
    with caplog.at_level(logging.WARNING, logger="reportbot.polling"):
        await poller.start()
        await _finished(handler, 40)
        await poller.stop()
    assert handler.runs == {40: 1}
    assert sum("409 Conflict" in record.getMessage() for record in caplog.records) == 1
    assert sum("retrying in" in record.getMessage() for record in caplog.records) == 2


async def test_an_invalid_token_ends_polling(bot: FakeBot, handler: Handler):
    bot.errors = [InvalidToken("Unauthorized")]
    poller = Poller(bot, handler)
    task = await poller.start()
    with pytest.raises(InvalidToken):
        await asyncio.wait_for(task, WAIT)
    await poller.stop()


async def test_an_answer_from_before_an_update_finished_does_not_run_it_again(
    bot: FakeBot, handler: Handler
):
    bot.queue(50, chat_id=1)
    held = bot.pending[0]
    poller = Poller(bot, handler)
    await poller.start()
    await _finished(handler, 50)
    # A getUpdates sent while update 50 was in flight (offset 50) answers only now.
    assert poller._dispatch([held]) == 0
    await poller.stop()
    assert handler.runs == {50: 1}
