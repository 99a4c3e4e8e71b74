"""The update processor: one chat in order, chats concurrently (bounded), each effect once."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import defaultdict
from typing import Any

import pytest
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    MessageHandler,
    PollAnswerHandler,
    filters,
)

from bot.app import CONSOLE_TOKEN, build_application
from bot.local_api import ApiCall, LocalBotApi, LocalUser
from bot.polling import application_processor
from bot.processing import ChatOrderedProcessor, UpdateDeferred
from models.register import Register
from models.storage.database import Database
from models.storage.processed import UpdateAlreadyProcessed
from models.storage.tables import AuditEvent, ProcessedUpdate
from tests.conftest import DatabaseFactory
from tests.factories import rows
from tests.models.storage.test_turns import until_someone_waits

# Many PostgreSQL connections at once (a chat's turn holds one): never beside another such test.
pytestmark = pytest.mark.xdist_group("many_connections")

WAIT = 60.0
_update_ids = itertools.count(10_000)


class Tracker:
    """Records what a test handler saw: per-chat order, overlaps, peak concurrency.

    With a BARRIER, the handlers of the first update of each chat wait inside until the
    barrier's number of them are in at once: they get past it only if that many ran together.
    """

    def __init__(self, barrier: asyncio.Barrier | None = None) -> None:
        self.order: dict[int, list[str]] = defaultdict(list)
        self.running: set[int] = set()
        self.overlaps = 0
        self.peak = 0
        self.barrier = barrier

    def enter(self, chat_id: int, text: str) -> None:
        if chat_id in self.running:
            self.overlaps += 1
        self.running.add(chat_id)
        self.peak = max(self.peak, len(self.running))
        self.order[chat_id].append(text)

    def leave(self, chat_id: int) -> None:
        self.running.discard(chat_id)


def _application(settings, register: Register, processor: ChatOrderedProcessor, api) -> Any:
    return build_application(
        settings,
        register,
        request=api,
        token=CONSOLE_TOKEN,
        update_processor=processor,
        with_updater=False,
    )


def _echo_handler(tracker: Tracker, *, write: bool = False) -> MessageHandler:
    async def echo(update: Update, context) -> None:
        chat_id = update.effective_chat.id
        tracker.enter(chat_id, update.effective_message.text)
        try:
            if tracker.barrier is not None and len(tracker.order[chat_id]) == 1:
                await asyncio.wait_for(tracker.barrier.wait(), WAIT)
            if write:
                await context.register.audit.record(
                    "test", "effect", str(update.update_id), text=update.effective_message.text
                )
            await update.effective_message.reply_text(f"got {update.effective_message.text}")
        finally:
            tracker.leave(chat_id)
        raise ApplicationHandlerStop  # the test's handler stands in for the real ones

    return MessageHandler(filters.TEXT, echo)


def _update(application: Application, user: LocalUser, text: str, update_id: int | None = None):
    payload = user.message(text=text)
    update_id = update_id if update_id is not None else next(_update_ids)
    return Update.de_json({"update_id": update_id, **payload}, application.bot)


async def _run(application: Application, updates: list[Update]) -> None:
    """Feed UPDATES through the application's queue as the Updater would; wait until done."""
    for update in updates:
        await application.update_queue.put(update)
    await asyncio.wait_for(application.update_queue.join(), WAIT)


@pytest.fixture
async def running():
    """Start applications the way `run` does, and stop them at the end."""
    started: list[Application] = []

    async def start(application: Application) -> Application:
        await application.initialize()
        await application.start()
        started.append(application)
        return application

    yield start
    for application in started:
        await application.stop()
        await application.shutdown()


async def test_fifty_victims_progress_concurrently_each_in_order(settings, register, running):
    # Each victim's first update waits inside its handler until all fifty are inside at once:
    # handled one after another, the first would wait for ever (and the test time out).
    tracker = Tracker(asyncio.Barrier(50))
    processor = ChatOrderedProcessor(64, db=register.db)
    api = LocalBotApi()
    application = await running(_application(settings, register, processor, api))
    application.add_handler(_echo_handler(tracker, write=True), group=-1)
    victims = [LocalUser(application, api, user_id=500_000 + n) for n in range(50)]
    steps = ("make", "model", "imei")
    # Interleaved as they would arrive: everyone's first message, then everyone's second...
    updates = [_update(application, victim, step) for step in steps for victim in victims]

    await _run(application, updates)

    assert tracker.peak == 50
    assert tracker.overlaps == 0
    for victim in victims:
        assert tracker.order[victim.chat_id] == list(steps)
        assert [m.text for m in api.bot_messages(victim.chat_id)] == [f"got {s}" for s in steps]
    assert processor.active_chats == 0  # idle chats are forgotten
    assert len(await rows(register.db, ProcessedUpdate)) == 150


async def test_concurrency_is_bounded_by_max_concurrent_chats(settings, register, running):
    # Five chats' first updates meet inside (so five ran at once); a sixth never got in beside
    # them: the peak is counted at every entry.
    tracker = Tracker(asyncio.Barrier(5))
    processor = ChatOrderedProcessor(5)
    api = LocalBotApi()
    application = await running(_application(settings, register, processor, api))
    application.add_handler(_echo_handler(tracker), group=-1)
    victims = [LocalUser(application, api, user_id=600_000 + n) for n in range(20)]
    updates = [_update(application, victim, str(n)) for n in range(2) for victim in victims]

    await _run(application, updates)

    assert tracker.peak == 5
    assert tracker.overlaps == 0
    assert all(tracker.order[victim.chat_id] == ["0", "1"] for victim in victims)
    assert processor.active_chats == 0


async def test_a_busy_chat_does_not_hold_up_others_or_chatless_updates(settings, register, running):
    release = asyncio.Event()
    two_seen = asyncio.Event()
    seen: list[str] = []
    processor = ChatOrderedProcessor(4)
    api = LocalBotApi()
    application = await running(_application(settings, register, processor, api))

    async def on_text(update: Update, context) -> None:
        text = update.effective_message.text
        if text == "stuck":
            await release.wait()
        seen.append(text)
        if len(seen) == 2:
            two_seen.set()
        raise ApplicationHandlerStop

    async def on_poll_answer(update: Update, context) -> None:
        seen.append("poll answer")
        if len(seen) == 2:
            two_seen.set()
        raise ApplicationHandlerStop

    application.add_handler(MessageHandler(filters.TEXT, on_text), group=-1)
    application.add_handler(PollAnswerHandler(on_poll_answer), group=-1)
    busy = LocalUser(application, api, user_id=700_001)
    other = LocalUser(application, api, user_id=700_002)
    poll_answer = Update.de_json(
        {
            "update_id": next(_update_ids),
            "poll_answer": {
                "poll_id": "p1",
                "user": other.user,
                "option_ids": [0],
                "option_persistent_ids": ["a"],
            },
        },
        application.bot,
    )
    for update in (
        _update(application, busy, "stuck"),
        _update(application, busy, "after stuck"),
        _update(application, other, "other chat"),
        poll_answer,
    ):
        await application.update_queue.put(update)

    await asyncio.wait_for(two_seen.wait(), 10)
    assert sorted(seen) == ["other chat", "poll answer"]
    assert processor.active_chats == 1
    release.set()
    await asyncio.wait_for(application.update_queue.join(), 10)
    assert seen[2:] == ["stuck", "after stuck"]


async def test_a_redelivered_update_is_acknowledged_without_its_effect_again(
    settings, register, running
):
    tracker = Tracker()
    processor = ChatOrderedProcessor(8, db=register.db)
    api = LocalBotApi()
    application = await running(_application(settings, register, processor, api))
    application.add_handler(_echo_handler(tracker, write=True), group=-1)
    victim = LocalUser(application, api, user_id=800_001)
    first = _update(application, victim, "imei", update_id=4242)
    again = Update.de_json(first.to_dict(), application.bot)

    await _run(application, [first])
    await _run(application, [again])  # e.g. the offset was not confirmed before a restart

    assert tracker.order[victim.chat_id] == ["imei"]
    assert [m.text for m in api.bot_messages(victim.chat_id)] == ["got imei"]
    effects = await rows(register.db, AuditEvent, AuditEvent.action == "effect")
    assert [event.target for event in effects] == ["4242"]
    assert [row.update_id for row in await rows(register.db, ProcessedUpdate)] == [4242]


async def test_an_update_without_effect_is_not_recorded(settings, register, running):
    tracker = Tracker()
    processor = ChatOrderedProcessor(8, db=register.db)
    api = LocalBotApi()
    application = await running(_application(settings, register, processor, api))
    application.add_handler(_echo_handler(tracker), group=-1)
    victim = LocalUser(application, api, user_id=800_002)
    update = _update(application, victim, "/help-like, nothing stored")

    await _run(application, [update, Update.de_json(update.to_dict(), application.bot)])

    # Nothing was stored, so a redelivery answers again (harmless) rather than staying silent.
    assert len(api.bot_messages(victim.chat_id)) == 2
    assert await rows(register.db, ProcessedUpdate) == []


async def test_a_duplicate_racing_the_original_is_dropped_quietly(
    settings, register, running, caplog
):
    # Another worker committed the update while this one was still processing it.
    processor = ChatOrderedProcessor(8, db=register.db)
    api = LocalBotApi()
    application = await running(_application(settings, register, processor, api))

    async def racing(update: Update, context) -> None:
        raise UpdateAlreadyProcessed(update.update_id)

    application.add_handler(MessageHandler(filters.TEXT, racing), group=-1)
    victim = LocalUser(application, api, user_id=800_003)

    with caplog.at_level(logging.INFO, logger="reportbot.errors"):
        await _run(application, [_update(application, victim, "submit")])

    assert api.bot_messages(victim.chat_id) == []  # no apology: nothing went wrong
    assert "already processed" in caplog.text


class GatedApi(LocalBotApi):
    """A Bot API whose first call for each chat is answered only once CHATS such calls wait.

    The victims' first answers therefore arrive only if that many chats were being served at
    once; it also wakes whoever waits on what the chats show.
    """

    def __init__(self, chats: int) -> None:
        super().__init__(on_call=self._gate)
        self._changed = asyncio.Event()
        self.barrier = asyncio.Barrier(chats)
        self.gated: set[int] = set()

    async def _gate(self, call: ApiCall) -> None:
        chat_id = call.params.get("chat_id")
        if chat_id is not None and int(chat_id) not in self.gated:
            self.gated.add(int(chat_id))
            await asyncio.wait_for(self.barrier.wait(), WAIT)

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        try:
            return await super().do_request(*args, **kwargs)
        finally:
            self._changed.set()
            self._changed = asyncio.Event()

    async def wait_for(self, condition, within: float):
        """Wait until CONDITION returns something; return it."""
        async with asyncio.timeout(within):
            while not (found := condition()):
                await self._changed.wait()
        return found


class QueuedUser(LocalUser):
    """A LocalUser whose updates go through the application's queue, as from the Updater."""

    async def deliver(self, payload: dict[str, Any], *, update_id: int | None = None) -> int:
        update_id = update_id if update_id is not None else next(_update_ids)
        update = Update.de_json({"update_id": update_id, **payload}, self.application.bot)
        await self.application.update_queue.put(update)
        return update_id

    async def _replies(self, payload: dict[str, Any]) -> list:
        await self.deliver(payload)
        return []


async def test_fifty_victims_progress_through_the_conversation_at_once(settings, register, running):
    from handlers.conversation import states
    from tests.e2e.script import buttons_of, step_of

    api = GatedApi(50)
    processor = ChatOrderedProcessor(64, db=register.db)
    application = await running(_application(settings, register, processor, api))

    def question(user: LocalUser, step: str):
        return next((m for m in api.bot_messages(user.chat_id) if step_of(m) == step), None)

    async def journey(user: QueuedUser) -> list[str]:
        seen = []
        await user.send("hello")
        for step, answer in ((states.CONSENT, "yes"), (states.ACCOUNT, "own")):
            prompt = await api.wait_for(lambda step=step: question(user, step), 60)
            seen.append(step)
            await user.press_data(buttons_of(prompt)[answer][1], prompt)
        await api.wait_for(lambda: question(user, states.MAKE), 60)
        return [*seen, states.MAKE]

    users = [QueuedUser(application, api, user_id=950_000 + n) for n in range(50)]
    journeys = await asyncio.gather(*(journey(user) for user in users))
    # A handler may still be finishing (e.g. storing message ids) after its reply is visible.
    await asyncio.wait_for(application.update_queue.join(), 60)

    # Victims were served side by side: the fifty first answers waited for each other at the
    # gate (handled one after another, the first would have waited for ever).
    assert api.gated == {user.chat_id for user in users}
    assert all(steps == [states.CONSENT, states.ACCOUNT, states.MAKE] for steps in journeys)
    for user in users:
        # The pressed questions lost their buttons: each press was taken, once, in order.
        assert [step_of(m) for m in api.bot_messages(user.chat_id)][-1] == states.MAKE
        draft = await register.drafts.get(user.chat_id)
        assert draft is not None
        assert draft.step == states.MAKE
    assert processor.active_chats == 0


async def _yield_until(condition, turns: int = 1000) -> None:
    """Let the event loop run until CONDITION holds (in-process work only: no waiting on I/O)."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


def _held_handler(release: asyncio.Event, started: asyncio.Event, seen: list[str]):
    """A handler that replies to each text; "hold" waits for RELEASE before its second reply."""

    async def handle(update: Update, context) -> None:
        text = update.effective_message.text
        seen.append(text)
        await context.register.audit.record("test", "effect", str(update.update_id))
        await update.effective_message.reply_text(f"{text}: 1")
        if text == "hold":
            started.set()
            await release.wait()
            await update.effective_message.reply_text(f"{text}: 2")
        raise ApplicationHandlerStop

    return MessageHandler(filters.TEXT, handle)


async def test_stopping_hands_back_what_has_not_started_and_lets_the_running_update_finish(
    settings, register, running
):
    release, started, seen = asyncio.Event(), asyncio.Event(), []
    processor = ChatOrderedProcessor(1, db=register.db)
    api = LocalBotApi()
    application = await running(_application(settings, register, processor, api))
    application.add_handler(_held_handler(release, started, seen), group=-1)
    process = application_processor(application)
    busy = LocalUser(application, api, user_id=810_001)
    other = LocalUser(application, api, user_id=810_002)
    running_one = asyncio.create_task(process(_update(application, busy, "hold")))
    await asyncio.wait_for(started.wait(), WAIT)
    behind = asyncio.create_task(process(_update(application, busy, "after")))  # its chat's turn
    beside = asyncio.create_task(process(_update(application, other, "other")))  # a slot
    await _yield_until(lambda: processor.waiting_updates == 2)

    assert processor.close() == 2
    for waiting in (behind, beside):
        with pytest.raises(UpdateDeferred):
            await asyncio.wait_for(waiting, WAIT)
    with pytest.raises(UpdateDeferred):  # a late arrival is not started either
        await process(_update(application, other, "late"))
    assert not running_one.done()
    release.set()
    await asyncio.wait_for(running_one, WAIT)

    assert seen == ["hold"]
    assert [m.text for m in api.bot_messages(busy.chat_id)] == ["hold: 1", "hold: 2"]
    assert api.bot_messages(other.chat_id) == []
    # Only the finished update is recorded: the others are handled when Telegram sends them again.
    assert len(await rows(register.db, ProcessedUpdate)) == 1
    assert processor.active_chats == 0 and processor.waiting_updates == 0


async def test_two_workers_on_one_database_take_a_chats_updates_in_turn(
    settings, databases: DatabaseFactory, vault, running
):
    # Two workers (each its own engine and processor, as two processes behind a load balancer)
    # get one chat's consecutive updates: the second waits until the first's replies are sent.
    database = await databases.create()
    if database.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite serves one bot process")
    release, started, seen = asyncio.Event(), asyncio.Event(), []
    api = LocalBotApi()  # Telegram: what the chat shows, whichever worker sent it
    workers = []
    for _ in range(2):
        own = Register(Database(database.url, schema=database.schema), vault)
        databases.databases.append(own.db)
        application = _application(settings, own, ChatOrderedProcessor(8, db=own.db), api)
        application.add_handler(_held_handler(release, started, seen), group=-1)
        workers.append(await running(application))
    first, second = (application_processor(application) for application in workers)
    victim = LocalUser(workers[0], api, user_id=820_001)

    one = asyncio.create_task(first(_update(workers[0], victim, "hold")))
    await asyncio.wait_for(started.wait(), WAIT)
    two = asyncio.create_task(second(_update(workers[1], victim, "next")))
    await until_someone_waits(database)  # the second worker waits for the chat's turn
    assert seen == ["hold"]
    release.set()
    await asyncio.wait_for(asyncio.gather(one, two), WAIT)

    assert seen == ["hold", "next"]
    assert [m.text for m in api.bot_messages(victim.chat_id)] == ["hold: 1", "hold: 2", "next: 1"]
