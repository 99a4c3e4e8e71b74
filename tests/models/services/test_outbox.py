"""The outbox: claims with leases, per-chat order and pacing, outcomes, and the staff summary."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from models.register import Register
from models.sealing.vault import Vault
from models.services.outbox import Outbox
from models.storage.database import Database
from models.storage.tables import DeliveryAttempt, Notification, Subscription
from models.values.statuses import Status
from tests.conftest import DatabaseFactory
from tests.factories import rows
from tests.followup_fixtures import file_report, many_reports, recover_all

LEASE = timedelta(seconds=60)
SECOND = timedelta(seconds=1)


def later(seconds: float = 0) -> datetime:
    """A moment after every row the test made is due."""
    return datetime.now(UTC) + timedelta(seconds=1 + seconds)


async def claim(register: Register, worker: str, now: datetime, limit: int = 100):
    return await register.outbox.claim(worker, now, limit=limit, lease=LEASE)


async def test_a_claimed_row_is_nobody_elses_until_its_lease_runs_out(register: Register) -> None:
    made = await many_reports(register, [11, 12, 13])
    assert await recover_all(register, made) == 3
    now = later()
    first = await claim(register, "a", now)
    assert sorted(item.chat_id for item in first) == [11, 12, 13]
    assert {item.reference for item in first} == {m.reference for m in made}
    assert all(item.kind == "status:recovered" and item.language == "en" for item in first)
    assert await claim(register, "b", now) == []
    assert await claim(register, "b", now + LEASE - SECOND) == []
    # Worker "a" died: after the lease anyone may take the rows, and the doubt is on record.
    taken = await claim(register, "b", now + LEASE + SECOND)
    assert sorted(item.chat_id for item in taken) == [11, 12, 13]
    assert all(item.attempts == 1 for item in taken)
    outcomes = [attempt.outcome for attempt in await rows(register.db, DeliveryAttempt)]
    assert outcomes == ["lease_expired"] * 3
    # "a" comes back too late: its outcome is stored as an attempt but does not win the row.
    assert not await register.outbox.delivered(first[0], "a", at=now, message_id=1)
    assert await register.outbox.delivered(taken[0], "b", at=now, message_id=2)


async def test_one_row_per_chat_at_a_time_oldest_first_then_paced(register: Register) -> None:
    first = await file_report(register)
    second = await file_report(register)
    for filed in (first, second):
        await register.subscriptions.subscribe(filed.report_id, 7, via="code")
        await register.reports.change_status(filed.reference, Status.LOCATED, actor="officer")
    now = later()
    [one] = await claim(register, "a", now)
    assert one.reference == first.reference
    # While the chat's first message is in flight, nobody takes its second.
    assert await claim(register, "b", now) == []
    await register.outbox.delivered(one, "a", at=now, message_id=1)
    assert await claim(register, "b", now + SECOND / 2) == []
    [two] = await claim(register, "b", now + SECOND * 1.01)
    assert two.reference == second.reference


async def test_a_retrying_row_holds_back_the_chats_later_rows(register: Register) -> None:
    filed = await file_report(register)
    await register.subscriptions.subscribe(filed.report_id, 7, via="code")
    await register.reports.change_status(filed.reference, Status.LOCATED, actor="officer")
    now = later()
    [located] = await claim(register, "a", now)
    await register.outbox.retry(
        located,
        "a",
        at=now,
        not_before=now + timedelta(seconds=30),
        outcome="network_error",
        detail="NetworkError: down",
    )
    await register.reports.change_status(filed.reference, Status.RECOVERED, actor="officer")
    # "recovered" must not overtake "located".
    assert await claim(register, "a", now + SECOND * 5) == []
    [retried] = await claim(register, "a", now + timedelta(seconds=31))
    assert retried.kind == "status:located" and retried.attempts == 1
    await register.outbox.delivered(retried, "a", at=now + timedelta(seconds=31), message_id=3)
    [recovered] = await claim(register, "a", now + timedelta(seconds=33))
    assert recovered.kind == "status:recovered"


async def test_a_future_reminder_does_not_hold_back_status_messages(register: Register) -> None:
    filed = await file_report(register)
    await register.subscriptions.subscribe(filed.report_id, 7, via="code")
    await register.reports.change_status(filed.reference, Status.LOCATED, actor="officer")
    [located] = await claim(register, "a", later())
    assert located.kind == "status:located"


async def test_retry_gives_up_after_the_last_attempt(register: Register, vault: Vault) -> None:
    outbox = Outbox(register.db, vault, max_attempts=3)
    [made] = await many_reports(register, [5])
    await recover_all(register, [made])
    now = later()
    for attempt in range(3):
        [item] = await outbox.claim("a", now, limit=10, lease=LEASE)
        assert item.attempts == attempt
        state = await outbox.retry(
            item, "a", at=now, not_before=now, outcome="network_error", detail="NetworkError: x"
        )
        now += SECOND
    assert state == "failed"
    [row] = await rows(register.db, Notification)
    assert row.state == "failed" and row.attempts == 3
    assert row.last_error == "gave up after 3 attempts: NetworkError: x"
    assert await outbox.claim("a", now, limit=10, lease=LEASE) == []


async def test_a_gone_chat_ends_its_subscriptions_and_unsent_rows(register: Register) -> None:
    made = await many_reports(register, [9, 9, 10])
    await recover_all(register, made)
    now = later()
    claimed = await claim(register, "a", now)
    item = next(c for c in claimed if c.chat_id == 9)
    await register.outbox.fail(
        item,
        "a",
        at=now,
        outcome="forbidden",
        detail="Forbidden: bot was blocked by the user",
        end_chat="the chat blocked the bot or is gone",
    )
    states = sorted((row.chat_id, row.state) for row in await rows(register.db, Notification))
    assert states == [(9, "failed"), (9, "failed"), (10, "sending")]
    subscriptions = {(s.chat_id, s.active) for s in await rows(register.db, Subscription)}
    assert subscriptions == {(9, False), (10, True)}
    # Only chat 10's row (its lease ran out) can be claimed again: nothing of chat 9.
    assert [c.chat_id for c in await claim(register, "a", now + timedelta(hours=1))] == [10]


async def test_unwanted_rows_are_cancelled_at_claim(register: Register) -> None:
    followed = await file_report(register)
    await register.subscriptions.subscribe(followed.report_id, 1, via="code")
    await register.subscriptions.subscribe(followed.report_id, 2, via="code")
    await register.reports.change_status(followed.reference, Status.LOCATED, actor="officer")
    # The subscription ends behind the outbox's back (e.g. staff tooling), after queuing.
    async with register.db.write() as session:
        await session.execute(
            Subscription.__table__.update()
            .where(Subscription.chat_id == 2)
            .values(active=False, deactivated_reason="test")
        )
    await register.reports.change_status(followed.reference, Status.CLOSED, actor="officer")
    tomorrow = later(86_400 + 60)
    claimed = await claim(register, "a", tomorrow)
    assert [(c.chat_id, c.kind) for c in claimed] == [(1, "status:located")]
    by_chat = {
        (row.chat_id, row.kind): (row.state, row.last_error)
        for row in await rows(register.db, Notification)
    }
    assert by_chat[(2, "status:located")] == ("cancelled", "not sent: subscription ended (test)")
    assert by_chat[(1, "reminder")] == ("cancelled", "not sent: the report is closed")
    await register.outbox.delivered(claimed[0], "a", at=tomorrow, message_id=1)
    claimed = await claim(register, "a", tomorrow + SECOND * 2)
    assert [(c.chat_id, c.kind) for c in claimed] == [(1, "status:closed")]
    await register.outbox.delivered(claimed[0], "a", at=tomorrow, message_id=2)
    assert await claim(register, "a", tomorrow + SECOND * 4) == []


async def test_release_gives_rows_back_without_an_attempt(register: Register) -> None:
    made = await many_reports(register, [1, 2])
    await recover_all(register, made)
    now = later()
    claimed = await claim(register, "a", now)
    await register.outbox.release(claimed, "b")  # not b's: nothing happens
    assert await claim(register, "b", now) == []
    await register.outbox.release(claimed, "a", not_before=now + SECOND * 10)
    assert await claim(register, "b", now + SECOND) == []
    again = await claim(register, "b", now + SECOND * 10)
    assert len(again) == 2 and all(item.attempts == 0 for item in again)
    assert await rows(register.db, DeliveryAttempt) == []


async def test_claims_take_the_limit_in_due_order(register: Register) -> None:
    made = await many_reports(register, list(range(100, 130)))
    await recover_all(register, made)
    now = later()
    first = await claim(register, "a", now, limit=10)
    second = await claim(register, "a", now, limit=100)
    assert len(first) == 10 and len(second) == 20
    assert max(item.id for item in first) < min(item.id for item in second)
    assert await register.outbox.unfinished() == 30
    assert await register.outbox.next_times() == (None, now + LEASE)


async def test_concurrent_claimers_never_share_a_row(databases: DatabaseFactory, vault: Vault):
    db = await databases.create()
    register = Register(db, vault)
    made = await many_reports(register, list(range(1000, 1200)))
    await recover_all(register, made)
    now = later()
    workers = []
    for _ in range(4):
        # Each worker has its own engine and connections, as separate processes would.
        url = db.url.render_as_string(hide_password=False)
        workers.append(Register(Database(url, schema=db.schema), vault))
    try:
        batches = await asyncio.gather(
            *(
                w.outbox.claim(f"w{n}", now, limit=20, lease=LEASE)
                for _ in range(3)
                for n, w in enumerate(workers)
            )
        )
    finally:
        for worker in workers:
            await worker.close()
    ids = [item.id for batch in batches for item in batch]
    assert len(ids) == len(set(ids)) == 200


async def test_delivery_summary_for_staff(register: Register) -> None:
    filed = await file_report(register)
    await register.subscriptions.subscribe(filed.report_id, 1, via="code")
    await register.subscriptions.subscribe(filed.report_id, 2, via="code")
    await register.reports.change_status(filed.reference, Status.LOCATED, actor="officer")
    now = later()
    claimed = await claim(register, "a", now)
    by_chat = {item.chat_id: item for item in claimed}
    await register.outbox.delivered(by_chat[1], "a", at=now, message_id=10)
    await register.outbox.fail(
        by_chat[2],
        "a",
        at=now,
        outcome="forbidden",
        detail="Forbidden: bot was blocked by the user",
        end_chat="the chat blocked the bot or is gone",
    )
    summary = await register.outbox.delivery_summary(filed.report_id)
    assert summary.report_id == filed.report_id
    assert (summary.active_subscriptions, summary.ended_subscriptions) == (1, 1)
    states = {(n.kind, n.chat_id): (n.state, n.last_error) for n in summary.notifications}
    assert states == {
        ("reminder", 1): ("pending", None),
        ("reminder", 2): ("failed", "not sent: the chat blocked the bot or is gone"),
        ("status:located", 1): ("delivered", None),
        ("status:located", 2): ("failed", "Forbidden: bot was blocked by the user"),
    }
    assert summary.counts == {"pending": 1, "delivered": 1, "failed": 2}
    delivered = next(n for n in summary.notifications if n.state == "delivered")
    assert delivered.delivered_at == now and delivered.attempts == 1
