"""Subscribing chats to reports: idempotent, reactivating, with the one reminder a chat is owed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from models.register import Register
from models.services.subscriptions import REMINDER_DELAY, reminder_key, subscribe_in
from models.storage.tables import Notification, Subscription
from models.values.statuses import Status
from tests.factories import rows, set_report_columns
from tests.followup_fixtures import file_report

CHAT = 424242


async def test_subscribe_is_idempotent_and_queues_one_reminder(register: Register) -> None:
    filed = await file_report(register)
    first = await register.subscriptions.subscribe(filed.report_id, CHAT, via="code")
    again = await register.subscriptions.subscribe(filed.report_id, CHAT, via="deep_link")
    assert first.changed and first.reminder_queued
    assert not again.changed and not again.reminder_queued
    assert first.subscription_id == again.subscription_id
    [row] = await rows(register.db, Subscription)
    assert (row.chat_id, row.via, row.active) == (CHAT, "code", True)
    [reminder] = await rows(register.db, Notification)
    assert reminder.kind == "reminder"
    assert reminder.event_key == reminder_key(filed.report_id, CHAT)
    report = await register.reports.get(filed.reference)
    assert report is not None
    assert reminder.not_before == report.created_at + REMINDER_DELAY


async def test_concurrent_subscribes_make_one_row(register: Register) -> None:
    filed = await file_report(register)
    results = await asyncio.gather(
        *(register.subscriptions.subscribe(filed.report_id, CHAT, via="code") for _ in range(6))
    )
    assert len({result.subscription_id for result in results}) == 1
    assert len(await rows(register.db, Subscription)) == 1
    assert len(await rows(register.db, Notification)) == 1


async def test_unsubscribe_ends_it_and_cancels_unsent_messages(register: Register) -> None:
    filed = await file_report(register)
    await register.subscriptions.subscribe(filed.report_id, CHAT, via="code")
    await register.reports.change_status(filed.reference, Status.LOCATED, actor="officer")
    assert await register.subscriptions.unsubscribe(filed.report_id, CHAT)
    assert not await register.subscriptions.unsubscribe(filed.report_id, CHAT)
    assert not await register.subscriptions.is_subscribed(filed.report_id, CHAT)
    assert await register.subscriptions.active(filed.report_id) == []
    states = {
        row.kind: (row.state, row.last_error) for row in await rows(register.db, Notification)
    }
    assert states == {
        "reminder": ("cancelled", "unsubscribed"),
        "status:located": ("cancelled", "unsubscribed"),
    }
    [row] = await rows(register.db, Subscription)
    assert row.deactivated_reason == "unsubscribed" and row.deactivated_at is not None


async def test_subscribing_again_reactivates_without_a_second_reminder(register: Register) -> None:
    filed = await file_report(register)
    await register.subscriptions.subscribe(filed.report_id, CHAT, via="own_account")
    await register.subscriptions.unsubscribe(filed.report_id, CHAT)
    again = await register.subscriptions.subscribe(filed.report_id, CHAT, via="code")
    assert again.changed and not again.reminder_queued
    [row] = await rows(register.db, Subscription)
    assert row.active and row.via == "code" and row.deactivated_reason is None
    assert len(await rows(register.db, Notification)) == 1


async def test_no_reminder_after_its_day_or_for_an_ended_report(register: Register) -> None:
    late = await file_report(register)
    await set_report_columns(
        register.db, late.reference, created_at=datetime.now(UTC) - timedelta(days=2)
    )
    result = await register.subscriptions.subscribe(late.report_id, CHAT, via="code")
    assert result.changed and not result.reminder_queued
    ended = await file_report(register)
    await register.reports.change_status(ended.reference, Status.WITHDRAWN, actor="victim")
    result = await register.subscriptions.subscribe(ended.report_id, CHAT, via="code")
    assert not result.reminder_queued
    assert await rows(register.db, Notification) == []


async def test_status_changes_queue_for_active_subscribers_only(register: Register) -> None:
    filed = await file_report(register)
    await register.subscriptions.subscribe(filed.report_id, 1, via="code")
    await register.subscriptions.subscribe(filed.report_id, 2, via="deep_link")
    await register.subscriptions.subscribe(filed.report_id, 3, via="code")
    await register.subscriptions.unsubscribe(filed.report_id, 3)
    changed = await register.reports.change_status(
        filed.reference, Status.RECOVERED, actor="officer"
    )
    assert changed.notifications == 2
    recovered = [
        row.chat_id
        for row in await rows(register.db, Notification)
        if row.kind == "status:recovered"
    ]
    assert sorted(recovered) == [1, 2]
    assert [s.chat_id for s in await register.subscriptions.active(filed.report_id)] == [1, 2]


async def test_a_blocked_chat_loses_every_subscription(register: Register) -> None:
    first, second = await file_report(register), await file_report(register)
    for filed in (first, second):
        await register.subscriptions.subscribe(filed.report_id, CHAT, via="code")
    assert await register.subscriptions.deactivate_chat(CHAT, "blocked") == 2
    assert not any(row.active for row in await rows(register.db, Subscription))


async def test_unknown_channel_or_report_is_refused(register: Register) -> None:
    filed = await file_report(register)
    with pytest.raises(ValueError):
        await register.subscriptions.subscribe(filed.report_id, CHAT, via="carrier pigeon")
    with pytest.raises(LookupError):
        await register.subscriptions.subscribe(filed.report_id + 999, CHAT, via="code")


async def test_subscribe_in_joins_the_callers_transaction(register: Register) -> None:
    filed = await file_report(register)
    with pytest.raises(RuntimeError):
        async with register.db.write() as session:
            await subscribe_in(session, filed.report_id, CHAT, via="own_account")
            raise RuntimeError("the filing failed")
    assert await rows(register.db, Subscription) == []
    assert await rows(register.db, Notification) == []
    async with register.db.write() as session:
        result = await subscribe_in(session, filed.report_id, CHAT, via="own_account")
    assert result.changed and result.reminder_queued
    assert await register.subscriptions.is_subscribed(filed.report_id, CHAT)


async def test_a_language_chosen_for_several_reports_reaches_the_followed_ones_only(
    register: Register,
) -> None:
    followed, ended, never = [await file_report(register) for _ in range(3)]
    for filed in (followed, ended):
        await register.subscriptions.subscribe(filed.report_id, CHAT, via="code")
    await register.subscriptions.unsubscribe(ended.report_id, CHAT)

    chosen = await register.subscriptions.choose_language_of(
        {followed.report_id, ended.report_id, never.report_id}, CHAT, "de"
    )

    assert chosen == {followed.report_id}
    languages = {row.report_id: row.language for row in await rows(register.db, Subscription)}
    assert languages == {followed.report_id: "de", ended.report_id: None}
    assert await register.subscriptions.choose_language_of(set(), CHAT, "de") == set()
