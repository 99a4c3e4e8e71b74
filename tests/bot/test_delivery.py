"""Delivering the outbox through a fake Bot API that floods, fails and blocks at chosen moments.

Time is a FakeClock: every send is stamped with fake time, and the limits are checked on those
stamps (at most `overall_rate` in any second, one a second per chat).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from datetime import timedelta
from itertools import pairwise

import pytest
from telegram import Bot
from telegram.error import TimedOut
from telegram.ext import ExtBot

from bot.app import CONSOLE_TOKEN
from bot.delivery import (
    DEFAULT_WORKERS,
    DeliveryConfig,
    Dispatcher,
    start_delivery,
    stop_delivery,
)
from bot.local_api import ApiCall, ApiError, LocalBotApi
from bot.ratelimit import PacedRateLimiter
from models.register import Register
from models.sealing.vault import KeyRing, Vault
from models.services.rotation import KeyRotation
from models.storage.database import Database
from models.storage.tables import DeliveryAttempt, Subscription
from models.values.statuses import Status
from tests.conftest import DatabaseFactory
from tests.factories import rows
from tests.followup_fixtures import (
    FakeClock,
    LockstepClock,
    TelegramScript,
    dispatcher,
    file_report,
    many_reports,
    max_in_window,
    min_chat_gap,
    notifications,
    recover_all,
)

RATE = 25
# PTB itself reads RetryAfter.retry_after while building the error.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


def flood(seconds: int) -> ApiError:
    """Telegram's answer when the bot sends too fast."""
    return ApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when the dispatcher sleeps."""
    return FakeClock()


@pytest.fixture
def script(api: LocalBotApi, clock: FakeClock) -> TelegramScript:
    """The fake Telegram's behaviour, installed in the local Bot API."""
    script = TelegramScript(clock)
    api.on_call = script
    return script


def chats_for(count: int, *, shared_every: int = 4, first: int = 10_000) -> list[int]:
    """COUNT chat ids, where every SHARED_EVERY-th report shares the previous report's chat."""
    chats: list[int] = []
    for index in range(count):
        if chats and index % shared_every == 0:
            chats.append(chats[-1])
        else:
            chats.append(first + index)
    return chats


def assert_limits(script: TelegramScript, rate: int = RATE) -> None:
    """At most RATE sends in any second, and a second between two sends to one chat."""
    assert max_in_window([item.at for item in script.sent]) <= rate
    assert min_chat_gap(script.sent) >= 1.0 - 1e-6


async def assert_all_delivered_once(register: Register, script: TelegramScript) -> None:
    """Every outbox row delivered, each message accepted by Telegram exactly once."""
    keys = script.sent_keys()
    assert len(keys) == len(set(keys))
    outbox = await notifications(register)
    assert {row.state for row in outbox} == {"delivered"}
    assert len(keys) == len(outbox)
    assert all(row.telegram_message_id for row in outbox)


async def test_each_message_is_delivered_once_within_the_limits(
    register: Register, application, script: TelegramScript, clock: FakeClock
) -> None:
    made = await many_reports(register, chats_for(120))
    assert await recover_all(register, made) == 120
    await dispatcher(register, application, clock).drain()
    await assert_all_delivered_once(register, script)
    assert_limits(script)
    # 120 messages at 25 a second take about five seconds of (fake) time, not more.
    assert 4 <= clock.elapsed <= 8
    attempts = await rows(register.db, DeliveryAttempt)
    assert len(attempts) == script.attempts == 120
    assert {attempt.outcome for attempt in attempts} == {"delivered"}
    recovered = [s for s in script.sent if "has been recovered" in s.text]
    assert len(recovered) == 120
    assert all(m.reference in " ".join(s.text for s in script.sent) for m in made)


async def test_retry_after_pauses_every_send_as_telegram_asks(
    register: Register, application, script: TelegramScript, clock: FakeClock
) -> None:
    made = await many_reports(register, chats_for(60, shared_every=1000))
    await recover_all(register, made)
    script.fail_when = lambda attempt, chat: flood(7) if attempt in (10, 31) else None
    await dispatcher(register, application, clock).drain()
    await assert_all_delivered_once(register, script)
    assert_limits(script)
    assert len(script.refused) == 2
    for refused_at, _chat, _error in script.refused:
        assert not [s for s in script.sent if refused_at < s.at < refused_at + 7]
    outcomes = Counter(attempt.outcome for attempt in await rows(register.db, DeliveryAttempt))
    assert outcomes == {"delivered": 60, "retry_after": 2}


async def test_network_errors_are_retried_with_backoff(
    register: Register, application, script: TelegramScript, clock: FakeClock
) -> None:
    made = await many_reports(register, chats_for(40, shared_every=1000))
    await recover_all(register, made)
    unlucky = made[5].chat_id
    script.fail_chat[unlucky] = [
        ApiError(502, "Bad Gateway"),
        ConnectionResetError("connection reset by peer"),
        TimedOut("Timed out"),
    ]
    await dispatcher(register, application, clock).drain()
    await assert_all_delivered_once(register, script)
    assert_limits(script)
    refused = [at for at, chat, _ in script.refused if chat == unlucky]
    [delivered] = [s.at for s in script.sent if s.chat_id == unlucky]
    # Backoff doubles: 2 s, 4 s, 8 s after the first, second and third failure.
    times = [*refused, delivered]
    gaps = [round(later - earlier, 6) for earlier, later in pairwise(times)]
    assert [gap >= want for gap, want in zip(gaps, (2, 4, 8), strict=True)] == [True] * 3
    [row] = [n for n in await notifications(register) if n.chat_id == unlucky]
    assert row.attempts == 4
    tries = await rows(register.db, DeliveryAttempt, DeliveryAttempt.notification_id == row.id)
    assert [t.outcome for t in tries] == [
        "network_error",
        "network_error",
        "timed_out",
        "delivered",
    ]
    assert "Bad Gateway" in (tries[0].detail or "")


async def test_a_blocked_bot_ends_the_chats_subscriptions_and_is_not_retried(
    register: Register, application, script: TelegramScript, clock: FakeClock
) -> None:
    blocked = 777
    made = await many_reports(register, [blocked, blocked, blocked, 1, 2, 3])
    await recover_all(register, made)
    script.blocked.add(blocked)
    await dispatcher(register, application, clock).drain()
    assert sorted(s.chat_id for s in script.sent) == [1, 2, 3]
    # One try told us the chat is gone; its other messages were not even tried.
    assert [chat for _, chat, _ in script.refused] == [blocked]
    rows_of_blocked = [n for n in await notifications(register) if n.chat_id == blocked]
    assert {n.state for n in rows_of_blocked} == {"failed"}
    assert sorted(n.last_error or "" for n in rows_of_blocked) == [
        "Forbidden: bot was blocked by the user",
        "not sent: the chat blocked the bot or is gone",
        "not sent: the chat blocked the bot or is gone",
    ]
    subscriptions = await rows(register.db, Subscription, Subscription.chat_id == blocked)
    assert not any(s.active for s in subscriptions)
    assert {s.deactivated_reason for s in subscriptions} == {"the chat blocked the bot or is gone"}
    # Later status changes queue nothing for it.
    await register.reports.change_status(made[0].reference, Status.RETURNED, actor="officer")
    assert [n for n in await notifications(register) if n.state == "pending"] == []


async def test_a_bad_request_fails_with_its_reason(
    register: Register, application, script: TelegramScript, clock: FakeClock
) -> None:
    made = await many_reports(register, [1, 2, 3])
    await recover_all(register, made)
    script.fail_chat[1] = [ApiError(400, "Bad Request: message is too long")]
    script.fail_chat[2] = [ApiError(400, "Bad Request: chat not found")]
    await dispatcher(register, application, clock).drain()
    by_chat = {n.chat_id: (n.state, n.last_error) for n in await notifications(register)}
    assert by_chat == {
        1: ("failed", "Message is too long"),
        2: ("failed", "Chat not found"),
        3: ("delivered", None),
    }
    active = {s.chat_id: s.active for s in await rows(register.db, Subscription)}
    assert active == {1: True, 2: False, 3: True}
    assert script.attempts == 3


async def test_chaos_every_message_once_or_failed_for_a_blocked_chat(
    register: Register, application, script: TelegramScript, clock: FakeClock
) -> None:
    made = await many_reports(register, chats_for(300, shared_every=3))
    await recover_all(register, made)
    blocked = {made[7].chat_id, made[100].chat_id}
    script.blocked |= blocked
    chance = random.Random(5)

    def trouble(attempt: int, chat: int) -> Exception | None:
        roll = chance.random()
        if roll < 0.03:
            return flood(chance.randint(1, 5))
        if roll < 0.08:
            return ApiError(chance.choice([500, 502, 504]), "Internal Server Error")
        if roll < 0.11:
            return TimedOut("Timed out")
        return None

    script.fail_when = trouble
    await dispatcher(register, application, clock).drain()
    keys = script.sent_keys()
    assert len(keys) == len(set(keys))
    outbox = await notifications(register)
    for row in outbox:
        expected = "failed" if row.chat_id in blocked else "delivered"
        assert row.state == expected, (row.chat_id, row.state, row.last_error)
    assert len(keys) == sum(1 for row in outbox if row.state == "delivered")
    assert_limits(script)
    assert len(await rows(register.db, DeliveryAttempt)) == script.attempts


async def test_the_reminder_comes_once_a_day_later_and_not_after_closing(
    register: Register, application, script: TelegramScript, clock: FakeClock
) -> None:
    kept = await file_report(register)
    closed = await file_report(register)
    chat = 4242
    for filed in (kept, closed):
        result = await register.subscriptions.subscribe(filed.report_id, chat, via="own_account")
        assert result.reminder_queued
    await register.reports.change_status(closed.reference, Status.CLOSED, actor="officer")
    worker = dispatcher(register, application, clock)
    await worker.drain()
    assert [s.text for s in script.sent if "has been closed" in s.text]
    assert not [s for s in script.sent if "A day ago" in s.text]
    await worker.drain(horizon=timedelta(days=2))
    reminders = [s for s in script.sent if "A day ago" in s.text]
    assert len(reminders) == 1 and kept.reference in reminders[0].text
    report = await register.reports.get(kept.reference)
    assert report is not None
    sent_at = clock.start + timedelta(seconds=reminders[0].at)
    assert sent_at >= report.created_at + timedelta(days=1)
    await worker.drain(horizon=timedelta(days=30))
    assert len([s for s in script.sent if "A day ago" in s.text]) == 1
    states = {n.report_id: (n.kind, n.state) for n in await notifications(register)}
    assert states[kept.report_id] == ("reminder", "delivered")
    by_kind = {
        n.kind: (n.state, n.last_error)
        for n in await notifications(register)
        if n.report_id == closed.report_id
    }
    assert by_kind == {
        "reminder": ("cancelled", "not sent: the report is closed"),
        "status:closed": ("delivered", None),
    }


async def test_a_dead_workers_claims_are_taken_over_after_the_lease(
    register: Register, application, script: TelegramScript, clock: FakeClock
) -> None:
    made = await many_reports(register, chats_for(30, shared_every=1000))
    await recover_all(register, made)
    clock.advance(1)  # every row is due
    # A worker claims a batch and dies before sending anything.
    dead = await register.outbox.claim("dead", clock.now(), limit=10, lease=timedelta(seconds=30))
    assert len(dead) == 10
    await dispatcher(register, application, clock, lease=30, lease_margin=10).drain()
    await assert_all_delivered_once(register, script)
    assert clock.elapsed >= 30
    outcomes = Counter(a.outcome for a in await rows(register.db, DeliveryAttempt))
    assert outcomes == {"delivered": 30, "lease_expired": 10}


async def test_stopping_gives_unsent_claims_back(
    register: Register, application, script: TelegramScript, clock: FakeClock
) -> None:
    made = await many_reports(register, chats_for(40, shared_every=1000))
    await recover_all(register, made)
    clock.advance(1)  # every row is due
    worker = dispatcher(register, application, clock)
    script.fail_when = lambda attempt, chat: worker.stop() if attempt == 5 else None
    await worker.run_once()
    states = Counter(n.state for n in await notifications(register))
    assert states == {"delivered": 5, "pending": 35}
    await dispatcher(register, application, clock, worker_id="next").drain()
    await assert_all_delivered_once(register, script)


async def test_a_worker_cancelled_mid_batch_takes_its_sends_with_it(
    register: Register, application, api: LocalBotApi, script: TelegramScript, clock: FakeClock
) -> None:
    made = await many_reports(register, chats_for(3, shared_every=1000))
    await recover_all(register, made)
    clock.advance(1)  # every row is due
    inside: list[ApiCall] = []
    cut_short: list[ApiCall] = []
    all_in = asyncio.Event()

    async def hang(call: ApiCall) -> None:
        inside.append(call)
        if len(inside) == len(made):
            all_in.set()
        try:
            await asyncio.Event().wait()  # Telegram never answers
        except asyncio.CancelledError:
            cut_short.append(call)
            raise

    api.on_call = lambda call: hang(call) if call.method == "sendMessage" else None
    running = asyncio.create_task(dispatcher(register, application, clock).run_once())
    await asyncio.wait_for(all_in.wait(), timeout=60)
    running.cancel()  # as a stop whose deadline has passed does
    with pytest.raises(asyncio.CancelledError):
        await running
    assert cut_short == inside
    assert {n.state for n in await notifications(register)} == {"sending"}  # until the lease ends


async def _worker_bot(script: TelegramScript) -> Bot:
    bot = Bot(CONSOLE_TOKEN, request=LocalBotApi(on_call=script))
    await bot.initialize()
    return bot


def own_register(db: Database, vault: Vault) -> Register:
    """A register on DB's database with an engine of its own, as another process would have."""
    return Register(Database(db.url.render_as_string(hide_password=False), schema=db.schema), vault)


async def drain_together(workers: list[Dispatcher], bots: list[Bot], clock: LockstepClock) -> None:
    """Drain WORKERS at once, each leaving CLOCK's lockstep when done; then close their BOTS."""

    async def run(worker: Dispatcher) -> None:
        try:
            await worker.drain()
        finally:
            clock.leave()

    try:
        await asyncio.gather(*(run(worker) for worker in workers))
    finally:
        for worker, bot in zip(workers, bots, strict=True):
            await bot.shutdown()
            await worker.register.close()


async def test_two_workers_on_one_database_never_send_twice(
    databases: DatabaseFactory, vault
) -> None:
    # Time moves only while both workers sleep: a send is stamped when its worker's pacer let
    # it go, whatever the other worker (or the machine) is doing meanwhile; and neither can
    # send everything alone, since its first wait lasts until the other has claimed its share.
    clock = LockstepClock(workers=2)
    db = await databases.create()
    register = Register(db, vault)
    made = await many_reports(register, chats_for(500, shared_every=2))
    assert await recover_all(register, made) == 500
    workers, scripts, bots = [], [], []
    for number in range(2):
        # Each worker has its own engine, connections and Bot, as separate processes would.
        own = own_register(db, vault)
        script = TelegramScript(clock)
        bot = await _worker_bot(script)
        config = DeliveryConfig(overall_rate=RATE, lease=3600)
        workers.append(Dispatcher(own, bot, config=config, clock=clock, worker_id=f"w{number}"))
        scripts.append(script)
        bots.append(bot)
    await drain_together(workers, bots, clock)
    keys = [key for script in scripts for key in script.sent_keys()]
    assert len(keys) == len(set(keys)) == 500
    assert all(script.sent for script in scripts), "both workers took part"
    for script in scripts:
        assert max_in_window([s.at for s in script.sent]) <= RATE
    assert min_chat_gap([s for script in scripts for s in script.sent]) >= 1.0 - 1e-6
    outbox = await notifications(register)
    assert {row.state for row in outbox} == {"delivered"}
    assert {row.claimed_by for row in outbox} == {"w0", "w1"}


async def test_bulk_recovery_of_a_thousand_reports_delivers_a_thousand_messages(
    register: Register, application, script: TelegramScript, clock: FakeClock
) -> None:
    made = await many_reports(register, chats_for(1000, shared_every=5))
    assert len({m.chat_id for m in made}) == 801  # 199 chats follow two of the reports
    assert await recover_all(register, made) == 1000
    await dispatcher(register, application, clock).drain()
    await assert_all_delivered_once(register, script)
    assert len(script.sent) == 1000
    assert_limits(script)
    assert clock.elapsed >= 1000 / RATE - 1


async def test_delivery_runs_in_the_background_from_post_init(
    register: Register, application, script: TelegramScript, clock: FakeClock
) -> None:
    [made] = await many_reports(register, [31])
    await recover_all(register, [made])
    assert application.post_init is not None and application.post_stop is not None
    delivered = asyncio.Event()
    script.fail_when = lambda attempt, chat: delivered.set()
    started = await start_delivery(application, clock=clock)
    assert len(started) == DEFAULT_WORKERS
    assert len({worker.worker_id for worker in started}) == DEFAULT_WORKERS
    await asyncio.wait_for(delivered.wait(), timeout=30)
    await stop_delivery(application)
    await stop_delivery(application)  # a second stop is harmless
    assert [s.chat_id for s in script.sent] == [31]
    [row] = await notifications(register)
    assert row.state == "delivered"


async def test_a_batchs_messages_are_in_flight_at_once(
    register: Register, application, api: LocalBotApi, script: TelegramScript, clock: FakeClock
) -> None:
    made = await many_reports(register, chats_for(8, shared_every=1000))
    await recover_all(register, made)
    clock.advance(1)  # every row is due
    # Telegram answers no sendMessage until all eight are inside: one send at a time would
    # never get its answer.
    inside: list[int] = []
    all_in = asyncio.Event()

    async def held(call: ApiCall) -> None:
        inside.append(int(call.params["chat_id"]))
        if len(inside) == len(made):
            all_in.set()
        await all_in.wait()
        script(call)

    api.on_call = lambda call: held(call) if call.method == "sendMessage" else None
    worker = dispatcher(register, application, clock)
    assert await asyncio.wait_for(worker.run_once(), timeout=60) == len(made)
    assert sorted(inside) == sorted(m.chat_id for m in made)
    await assert_all_delivered_once(register, script)
    assert_limits(script)


async def test_with_many_in_flight_no_second_at_telegram_holds_more_than_the_rate(
    register: Register, application, api: LocalBotApi, script: TelegramScript, clock: FakeClock
) -> None:
    made = await many_reports(register, chats_for(240, shared_every=3))
    await recover_all(register, made)
    # Each request reaches Telegram some time after it leaves, and its answer comes back some
    # time after that (up to 0.4 s each way): Telegram counts it when it arrives.
    chance = random.Random(11)
    inside = 0
    most_inside = 0

    async def travel(call: ApiCall) -> None:
        nonlocal inside, most_inside
        inside += 1
        most_inside = max(most_inside, inside)
        try:
            await clock.sleep(chance.uniform(0, 0.4))
            script(call)
            await clock.sleep(chance.uniform(0, 0.4))
        finally:
            inside -= 1

    api.on_call = lambda call: travel(call) if call.method == "sendMessage" else None
    rate = 10
    await dispatcher(register, application, clock, overall_rate=rate).drain()
    await assert_all_delivered_once(register, script)
    assert most_inside > 1
    assert max_in_window([item.at for item in script.sent]) <= rate
    assert min_chat_gap(script.sent) >= 1.0 - 1e-6


async def test_workers_sharing_a_limiter_keep_its_rate_together(
    register: Register, application, script: TelegramScript, clock: FakeClock
) -> None:
    made = await many_reports(register, chats_for(200, shared_every=4))
    await recover_all(register, made)
    rate = 12
    shared = PacedRateLimiter(rate, clock=clock.monotonic, sleep=clock.sleep)
    workers = [
        Dispatcher(
            register,
            application.bot,
            config=DeliveryConfig(overall_rate=RATE),
            clock=clock,
            worker_id=f"w{number}",
            limiter=shared,
        )
        for number in range(3)
    ]
    await asyncio.gather(*(worker.drain() for worker in workers))
    await assert_all_delivered_once(register, script)
    # Each worker claims RATE rows at a time; together they keep the shared limiter's rate.
    assert_limits(script, rate)
    assert {row.claimed_by for row in await notifications(register)} == {"w0", "w1", "w2"}


async def test_notification_texts_fit_and_carry_the_reference(
    register: Register, application
) -> None:
    from handlers.followup.notifications import render_notification

    for kind in (
        "status:located",
        "status:recovered",
        "status:returned",
        "status:closed",
        "status:under_review",
        "reminder",
    ):
        body = render_notification(kind, "SPR-7KQ4-M9", "en")
        assert "SPR-7KQ4-M9" in body and len(body) < 4096
    recovered = render_notification("status:recovered", "SPR-7KQ4-M9", "en", make="apple")
    for must in ("photo ID", "Never pay", "passwords", "Apple Account", "we found your iPhone"):
        assert must in recovered
    samsung = render_notification("status:recovered", "SPR-7KQ4-M9", "en", make="samsung")
    assert "we found your Samsung phone" in samsung and "Samsung account" in samsung
    assert "iPhone" not in samsung and "Apple" not in samsung
    unknown = render_notification("status:located", "SPR-7KQ4-M9", "en")
    assert "we found your phone" in unknown and "the password of your account" in unknown
    reminder = render_notification("reminder", "SPR-7KQ4-M9", "en")
    for must in ("block the SIM and the IMEI", "passwords", "previews"):
        assert must in reminder


async def test_a_notification_goes_out_in_the_report_language_for_its_make(
    register: Register, application, script: TelegramScript, clock: FakeClock
) -> None:
    spanish = await file_report(register, language="es", make="samsung", platform="android")
    chosen = await file_report(register, language="es", make="apple", platform="iphone")
    await register.subscriptions.subscribe(spanish.report_id, 41, via="own_account")
    await register.subscriptions.subscribe(chosen.report_id, 42, via="code", language="en")
    for filed in (spanish, chosen):
        await register.reports.change_status(filed.reference, Status.RECOVERED, actor="o")

    await dispatcher(register, application, clock).drain()

    sent = {item.chat_id: item.text for item in script.sent}
    assert "Buenas noticias: su teléfono ha sido recuperado" in sent[41]
    assert "hemos encontrado su teléfono Samsung" in sent[41]
    assert "iPhone" not in sent[41] and "Apple" not in sent[41]
    assert "Good news: your phone has been recovered" in sent[42]
    assert "we found your iPhone" in sent[42] and "your Apple Account" in sent[42]


async def test_a_report_no_key_opens_is_set_aside_and_the_others_go_out(
    databases: DatabaseFactory, api: LocalBotApi, clock: FakeClock, caplog
) -> None:
    ring = KeyRing.generate("k2")
    lost = KeyRing(keys=KeyRing.generate("k1").keys, index_key=ring.index_key)
    register = Register(await databases.create(), Vault(ring))
    script = TelegramScript(clock)
    bot = await _worker_bot(script)
    # One report is sealed with a key this process lacks (k1 was dropped too early).
    unreadable = await many_reports(Register(register.db, Vault(lost)), [666])
    readable = await many_reports(register, [1, 2, 3, 666])
    assert await recover_all(register, [*unreadable, *readable]) == 5
    worker = Dispatcher(register, bot, config=DeliveryConfig(overall_rate=RATE), clock=clock)

    with caplog.at_level(logging.INFO):
        await worker.drain()

    assert sorted(s.chat_id for s in script.sent) == [1, 2, 3, 666]
    states = {n.report_id: (n.state, n.last_error) for n in await notifications(register)}
    assert states[unreadable[0].id] == (
        "unreadable",
        "set aside: its report is sealed with key 'k1', not in DATA_KEYS",
    )
    assert {states[m.id][0] for m in readable} == {"delivered"}
    assert worker.set_aside == 1
    assert await register.outbox.unreadable() == 1
    [logged] = [r for r in caplog.records if "set aside" in r.getMessage()]
    assert logged.levelno == logging.ERROR
    assert (logged.notification, logged.report) == (
        next(n.id for n in await notifications(register) if n.state == "unreadable"),
        unreadable[0].id,
    )

    # With k1 back (after the newest key) and the keys rotated, it is queued and goes out too.
    both = KeyRing(keys=(*ring.keys, *lost.keys), index_key=ring.index_key)
    result = await KeyRotation(register.db, Vault(both)).rotate()
    assert result.requeued_notifications == 1
    await worker.drain()
    assert sorted(s.chat_id for s in script.sent) == [1, 2, 3, 666, 666]
    assert {n.state for n in await notifications(register)} == {"delivered"}
    await bot.shutdown()


async def _limited_bot(script: TelegramScript, clock: FakeClock, rate: int) -> ExtBot:
    """A bot as `reportbot run` builds it: every new message through the rate limiter."""
    limiter = PacedRateLimiter(overall_rate=rate, clock=clock.monotonic, sleep=clock.sleep)
    bot = ExtBot(CONSOLE_TOKEN, request=LocalBotApi(on_call=script), rate_limiter=limiter)
    await bot.initialize()
    return bot


async def test_a_long_flood_wait_never_sends_a_notification_twice(
    databases: DatabaseFactory, vault
) -> None:
    clock = LockstepClock(workers=2)
    db = await databases.create()
    register = Register(db, vault)
    # One chat follows four reports (a chat's messages go one at a time, so one worker holds
    # the chat's first message while the other worker looks for work).
    made = await many_reports(register, [11, 11, 11, 11])
    assert await recover_all(register, made) == 4
    telegram = TelegramScript(clock)
    # Telegram floods three times in a row, each time asking for 45 s: longer, together, than
    # the two-minute claim on the message being sent.
    telegram.fail_next = [flood(45), flood(45), flood(45)]
    workers, bots = [], []
    for number in range(2):
        # Two processes on one database, each with its own bot and rate limiter.
        own = own_register(db, vault)
        bot = await _limited_bot(telegram, clock, 14)
        workers.append(
            Dispatcher(own, bot, config=DeliveryConfig(), clock=clock, worker_id=f"w{number}")
        )
        bots.append(bot)
    await drain_together(workers, bots, clock)

    assert len(telegram.refused) == 3
    assert sorted(telegram.sent_keys()) == sorted(set(telegram.sent_keys()))
    assert len(telegram.sent) == 4
    outbox = await notifications(register)
    assert {row.state for row in outbox} == {"delivered"}
    outcomes = Counter(a.outcome for a in await rows(register.db, DeliveryAttempt))
    assert outcomes == {"delivered": 4, "retry_after": 3}
    # Nothing went to the chat until Telegram's last wait was over.
    assert min(s.at for s in telegram.sent) >= telegram.refused[-1][0] + 45 - 1e-6


@pytest.mark.parametrize("rate", [30, 14, 2])
@pytest.mark.parametrize("bot_paces", [False, True])
async def test_the_workers_share_one_limiter_at_the_process_rate(
    register: Register, api: LocalBotApi, tmp_path, monkeypatch, rate: int, bot_paces: bool
) -> None:
    from bot.app import build_application, default_rate_limiter
    from bot.delivery import DELIVERY_KEY
    from bot.settings import load_settings

    monkeypatch.setenv("DELIVERY_RATE_PER_SECOND", str(rate))
    settings = load_settings(data_dir=tmp_path / "data")
    bots_limiter = default_rate_limiter(rate) if bot_paces else None
    application = build_application(
        settings,
        register,
        request=api,
        token=CONSOLE_TOKEN,
        with_updater=False,
        rate_limiter=bots_limiter,
    )
    await application.initialize()
    try:
        assert application.post_init is not None
        await application.post_init(application)  # as `reportbot run` starts delivery
        workers = [worker for worker, _ in application.bot_data[DELIVERY_KEY]]
        assert len(workers) == DEFAULT_WORKERS
        [limiter] = {id(worker.limiter): worker.limiter for worker in workers}.values()
        assert limiter.overall_interval == pytest.approx(1 / rate)
        if bot_paces:  # replies and notifications within one rate, as `reportbot run` sends
            assert limiter is bots_limiter
    finally:
        await stop_delivery(application)
        await application.shutdown()
