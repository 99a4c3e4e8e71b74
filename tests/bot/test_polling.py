"""Our long polling: Telegram is never told an update is done before its processing is."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import pytest
from telegram import Bot, Update
from telegram.error import Conflict, InvalidToken, NetworkError, TimedOut
from telegram.request import RequestData

from bot.local_api import InProcessRequest
from bot.polling import Poller
from bot.processing import ChatOrderedProcessor

WAIT = 10.0

# The poller silences the one PTB warning it expects (its raw getUpdates) itself.
pytestmark = pytest.mark.filterwarnings("error::telegram.warnings.PTBUserWarning")


@dataclass
class Call:
    """One getUpdates call the poller made."""

    offset: int | None
    limit: int | None
    timeout: float | None


class FakeGetUpdates(InProcessRequest):
    """Telegram's getUpdates: pending updates stay until an offset above them confirms them.

    It answers a real `telegram.Bot` the way Telegram does, with JSON, so the poller's own
    path from the raw answer to `Update` objects runs as in production.
    """

    def __init__(self) -> None:
        self.pending: list[dict[str, Any]] = []
        self.calls: list[Call] = []
        # Raised in place of the next getUpdates' answer, as the request class would raise them.
        self.errors: list[Exception] = []
        self.webhook_deleted: list[bool | None] = []
        self._changed = asyncio.Event()

    def notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def queue(self, update_id: int, chat_id: int) -> None:
        self.pending.append(
            {
                "update_id": update_id,
                "message": {
                    "message_id": update_id,
                    "date": 0,
                    "chat": {"id": chat_id, "type": "private"},
                    "text": f"m{update_id}",
                },
            }
        )
        self.notify()

    async def wait_for_call(self, condition) -> Call:
        """Wait until the poller makes a call meeting CONDITION; returns it."""
        while True:
            found = next((call for call in self.calls if condition(call)), None)
            if found is not None:
                return found
            await asyncio.wait_for(self._changed.wait(), WAIT)

    async def answer(
        self, url: str, method: str, request_data: RequestData | None
    ) -> tuple[int, bytes]:
        params = request_data.parameters if request_data is not None else {}
        endpoint = url.rsplit("/", 1)[-1]
        if endpoint == "deleteWebhook":
            self.webhook_deleted.append(params.get("drop_pending_updates"))
            result: Any = True
        else:
            assert endpoint == "getUpdates", endpoint
            result = await self._get_updates(
                params.get("offset"), params.get("limit"), params.get("timeout")
            )
        return 200, json.dumps({"ok": True, "result": result}).encode()

    async def _get_updates(
        self,
        offset: int | None,
        limit: int | None,
        timeout: float | None,  # noqa: ASYNC109 (the Bot API parameter)
    ) -> list[dict[str, Any]]:
        self.calls.append(Call(offset, limit, timeout))
        self.notify()
        if self.errors:
            raise self.errors.pop(0)
        if offset is not None:
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
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
def telegram() -> FakeGetUpdates:
    return FakeGetUpdates()


@pytest.fixture
def bot(telegram: FakeGetUpdates) -> Bot:
    return Bot("123:TOKEN", request=telegram, get_updates_request=telegram)


@pytest.fixture
def handler() -> Handler:
    return Handler()


async def test_the_offset_never_passes_an_update_still_in_flight(
    telegram: FakeGetUpdates, bot: Bot, handler: Handler
):
    slow = handler.hold(1)
    telegram.queue(1, chat_id=100)  # chat 100's update is slow
    telegram.queue(2, chat_id=200)
    telegram.queue(3, chat_id=200)
    poller = Poller(bot, handler, stalled_poll=0.05)
    await poller.start()
    assert telegram.webhook_deleted == [False]

    await _finished(handler, 2, 3)
    # Chat 200 goes on while chat 100 waits, also with an update fetched later.
    telegram.queue(4, chat_id=200)
    await _finished(handler, 4)
    assert not handler.finished[1].is_set()
    assert poller.offset == 1
    # Telegram kept handing over update 1 (and the finished ones above it): none ran twice.
    assert all(call.offset in (None, 1) for call in telegram.calls)
    assert len(telegram.calls) > 2
    assert handler.runs == {1: 1, 2: 1, 3: 1, 4: 1}
    assert handler.order[200] == [2, 3, 4]

    slow.set()
    await _finished(handler, 1)
    await telegram.wait_for_call(lambda call: call.offset == 5)
    await poller.stop()
    assert handler.runs == {1: 1, 2: 1, 3: 1, 4: 1}
    assert telegram.pending == []


async def test_one_chat_keeps_its_order_across_fetches(
    telegram: FakeGetUpdates, bot: Bot, handler: Handler
):
    first = handler.hold(10)
    telegram.queue(10, chat_id=7)
    poller = Poller(bot, handler, stalled_poll=0.05)
    await poller.start()
    await asyncio.wait_for(handler.started[10].wait(), WAIT)
    telegram.queue(11, chat_id=7)
    telegram.queue(12, chat_id=7)
    await telegram.wait_for_call(lambda call: call.offset == 10 and len(telegram.pending) == 3)
    first.set()
    await _finished(handler, 10, 11, 12)
    await poller.stop()
    assert handler.order[7] == [10, 11, 12]
    assert handler.runs == {10: 1, 11: 1, 12: 1}


async def test_a_stalled_poller_waits_for_progress_instead_of_spinning(
    telegram: FakeGetUpdates, bot: Bot, handler: Handler
):
    slow = handler.hold(20)
    telegram.queue(20, chat_id=1)
    poller = Poller(bot, handler, stalled_poll=60)
    await poller.start()
    await asyncio.wait_for(handler.started[20].wait(), WAIT)
    await telegram.wait_for_call(lambda call: call.offset == 20)
    calls = len(telegram.calls)
    for _ in range(200):
        await asyncio.sleep(0)
    assert len(telegram.calls) <= calls + 1  # at most the one that found only update 20 again

    slow.set()
    # The update's end wakes the poller at once (not after the 60 s fallback).
    await telegram.wait_for_call(lambda call: call.offset == 21)
    await poller.stop()


async def test_new_updates_below_the_limit_do_not_trigger_an_immediate_repeat(
    telegram: FakeGetUpdates, bot: Bot, handler: Handler
):
    # While updates are in flight every answer repeats them; one that brought fewer new
    # updates than the limit means nothing more was waiting, so the next call waits too.
    first, second = handler.hold(1), handler.hold(2)
    telegram.queue(1, chat_id=1)
    telegram.queue(2, chat_id=2)
    poller = Poller(bot, handler, stalled_poll=60)
    await poller.start()
    await asyncio.wait_for(handler.started[2].wait(), WAIT)
    await telegram.wait_for_call(lambda call: call.offset == 1)

    handler.hold(3)
    telegram.queue(3, chat_id=3)
    first.set()  # the offset moves to 2: the next call brings update 3
    await asyncio.wait_for(handler.started[3].wait(), WAIT)
    for _ in range(200):
        await asyncio.sleep(0)
    assert [call.offset for call in telegram.calls if call.offset == 2] == [2]

    second.set()  # progress wakes the poller at once
    await telegram.wait_for_call(lambda call: call.offset == 3)
    handler.held[3].set()
    await _finished(handler, 3)
    await poller.stop()
    assert handler.runs == {1: 1, 2: 1, 3: 1}


async def test_a_full_answer_is_followed_by_another_call_at_once(
    telegram: FakeGetUpdates, bot: Bot, handler: Handler
):
    # LIMIT updates came back: more may be waiting, so the poller asks again without waiting
    # for progress (the fallback here is a minute: the test would time out).
    for update_id in (1, 2):
        handler.hold(update_id)
        telegram.queue(update_id, chat_id=update_id)
    poller = Poller(bot, handler, limit=3, stalled_poll=60)
    await poller.start()
    await asyncio.wait_for(handler.started[2].wait(), WAIT)
    await telegram.wait_for_call(lambda call: call.offset == 1)

    for update_id in (3, 4):
        handler.hold(update_id)
        telegram.queue(update_id, chat_id=update_id)
    handler.held[1].set()  # the offset moves to 2: the next call brings 2, 3 and 4 (full)
    await asyncio.wait_for(handler.started[4].wait(), WAIT)
    await telegram.wait_for_call(lambda _: sum(call.offset == 2 for call in telegram.calls) >= 2)
    assert not handler.finished[2].is_set()
    for update_id in (2, 3, 4):
        handler.held[update_id].set()
    await _finished(handler, 1, 2, 3, 4)
    await poller.stop()
    assert handler.runs == {1: 1, 2: 1, 3: 1, 4: 1}


async def test_stop_lets_the_update_in_flight_finish_then_confirms_it(
    telegram: FakeGetUpdates, bot: Bot, handler: Handler
):
    slow = handler.hold(30)
    telegram.queue(30, chat_id=1)
    poller = Poller(bot, handler)
    await poller.start()
    await asyncio.wait_for(handler.started[30].wait(), WAIT)

    stopping = asyncio.create_task(poller.stop())
    for _ in range(50):
        await asyncio.sleep(0)
    assert not stopping.done()
    assert poller.task is not None and poller.task.done()  # no more fetching
    assert all(call.offset in (None, 30) for call in telegram.calls)
    telegram.queue(31, chat_id=2)  # arrives during the stop: not taken, not confirmed

    slow.set()
    await asyncio.wait_for(stopping, WAIT)
    final = telegram.calls[-1]
    assert (final.offset, final.limit, final.timeout) == (31, 1, 0)
    assert [u["update_id"] for u in telegram.pending] == [31]
    assert handler.runs == {30: 1}


async def test_network_errors_and_conflicts_are_retried_with_backoff(
    telegram: FakeGetUpdates, bot: Bot, handler: Handler, caplog
):
    telegram.errors = [NetworkError("down"), TimedOut(), Conflict("terminated by other getUpdates")]
    telegram.queue(40, chat_id=1)
    poller = Poller(bot, handler, backoff=(0.001, 0.002))
    with caplog.at_level(logging.WARNING, logger="reportbot.polling"):
        await poller.start()
        await _finished(handler, 40)
        await poller.stop()
    assert handler.runs == {40: 1}
    assert sum("409 Conflict" in record.getMessage() for record in caplog.records) == 1
    assert sum("retrying in" in record.getMessage() for record in caplog.records) == 2


async def test_an_invalid_token_ends_polling(telegram: FakeGetUpdates, bot: Bot, handler: Handler):
    telegram.errors = [InvalidToken("Unauthorized")]
    poller = Poller(bot, handler)
    task = await poller.start()
    with pytest.raises(InvalidToken):
        await asyncio.wait_for(task, WAIT)
    await poller.stop()


async def test_an_answer_from_before_an_update_finished_does_not_run_it_again(
    telegram: FakeGetUpdates, bot: Bot, handler: Handler
):
    telegram.queue(50, chat_id=1)
    held = Update.de_json(telegram.pending[0], bot)
    poller = Poller(bot, handler)
    await poller.start()
    await _finished(handler, 50)
    # A getUpdates sent while update 50 was in flight (offset 50) answers only now.
    assert poller._dispatch([held]) == 0
    await poller.stop()
    assert handler.runs == {50: 1}


async def test_updates_already_taken_are_not_parsed_again(
    telegram: FakeGetUpdates, bot: Bot, handler: Handler
):
    slow = handler.hold(60)
    telegram.queue(60, chat_id=1)
    poller = Poller(bot, handler, stalled_poll=0.05)
    await poller.start()
    await asyncio.wait_for(handler.started[60].wait(), WAIT)
    # Telegram hands update 60 over with every answer while it is in flight; from now on in a
    # form that fails to parse (no date), so parsing it again would end polling.
    telegram.pending[0] = {"update_id": 60, "message": {"message_id": 60, "text": "m60"}}
    telegram.queue(61, chat_id=2)
    second = asyncio.ensure_future(handler.finished[61].wait())
    assert poller.task is not None
    await asyncio.wait({second, poller.task}, timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
    assert not poller.task.done(), poller.task.exception()
    assert second.done()

    slow.set()
    await _finished(handler, 60)
    await poller.stop()
    assert handler.runs == {60: 1, 61: 1}
    assert telegram.pending == []
