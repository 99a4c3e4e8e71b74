"""Drafts: sealed answers per chat, message ids, expiry, filing with a subscription."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models.sealing.vault import TamperedValue
from models.services.drafts import MAX_MESSAGE_IDS, DraftState
from models.storage.columns import utcnow
from models.storage.tables import Draft, Notification, Subscription
from tests.factories import new_report, rows

BIG_CHAT = 9_007_199_254_740_993  # beyond 2**53, still a Telegram id


def a_draft(chat_id: int = BIG_CHAT, **answers) -> DraftState:
    return DraftState(chat_id=chat_id, user_id=chat_id, step="model", answers=answers)


async def test_answers_are_sealed_and_come_back(register):
    draft = a_draft(contact_name="Alex Example", imeis=["356789012345678"])
    draft.remember_messages([5, 6, 5, 7])
    await register.drafts.save(draft)

    loaded = await register.drafts.get(BIG_CHAT)
    assert loaded.answers == {"contact_name": "Alex Example", "imeis": ["356789012345678"]}
    assert loaded.message_ids == [5, 6, 7]
    assert loaded.step == "model" and loaded.idempotency_key == draft.idempotency_key
    assert loaded.chat_id == BIG_CHAT
    assert loaded.expires_at - loaded.updated_at == timedelta(hours=24)

    (row,) = await rows(register.db, Draft)
    assert b"Alex" not in row.sealed and b"356789" not in row.sealed


async def test_a_draft_sealed_for_another_chat_does_not_open(register):
    await register.drafts.save(a_draft(secret="x"))
    async with register.db.write() as session:
        row = (await session.execute(select(Draft))).scalar_one()
        row.chat_id = 42
    with pytest.raises(TamperedValue):
        await register.drafts.get(42)


async def test_saving_again_replaces_the_chat_s_draft(register):
    first = a_draft(model="iPhone 15")
    await register.drafts.save(first)
    second = a_draft(model="Pixel 8")
    await register.drafts.save(second)
    assert len(await rows(register.db, Draft)) == 1
    loaded = await register.drafts.get(BIG_CHAT)
    assert loaded.answers == {"model": "Pixel 8"}
    assert loaded.token == second.token != first.token


async def test_message_ids_alone_are_saved_for_the_same_draft_only(register):
    draft = a_draft()
    await register.drafts.save(draft)
    draft.remember_messages([1, 2])
    assert await register.drafts.save_messages(draft)
    assert (await register.drafts.get(BIG_CHAT)).message_ids == [1, 2]

    replaced = a_draft()
    await register.drafts.save(replaced)
    draft.remember_messages([3])
    assert not await register.drafts.save_messages(draft)
    assert (await register.drafts.get(BIG_CHAT)).message_ids == []


async def test_only_the_newest_message_ids_are_kept(register):
    draft = a_draft()
    draft.remember_messages(list(range(MAX_MESSAGE_IDS + 10)))
    assert draft.message_ids[0] == 10 and len(draft.message_ids) == MAX_MESSAGE_IDS


async def test_an_expired_draft_is_deleted_when_read(register):
    now = utcnow()
    await register.drafts.save(a_draft(), now=now - timedelta(hours=25))
    loaded = await register.drafts.load(BIG_CHAT, now=now)
    assert loaded.draft is None and loaded.expired
    assert await rows(register.db, Draft) == []
    assert not (await register.drafts.load(BIG_CHAT, now=now)).expired


async def test_expire_deletes_only_idle_drafts(register):
    now = utcnow()
    await register.drafts.save(a_draft(1), now=now - timedelta(hours=30))
    await register.drafts.save(a_draft(2), now=now - timedelta(hours=2))
    assert await register.drafts.expire(now=now) == 1
    assert [row.chat_id for row in await rows(register.db, Draft)] == [2]


async def test_delete(register):
    await register.drafts.save(a_draft())
    assert await register.drafts.delete(BIG_CHAT)
    assert not await register.drafts.delete(BIG_CHAT)


@pytest.mark.parametrize("own", [True, False])
async def test_mark_filed_subscribes_an_own_account_once(register, own):
    filed = await register.reports.file(new_report(own_account=own), idempotency_key="k-1")
    draft = a_draft()
    draft.step = "filed"
    await register.drafts.mark_filed(draft, filed.report_id, subscribe=own)
    await register.drafts.mark_filed(draft, filed.report_id, subscribe=own)
    subscriptions = await rows(register.db, Subscription)
    expected = [(filed.report_id, BIG_CHAT, "own_account")] if own else []
    assert [(s.report_id, s.chat_id, s.via) for s in subscriptions] == expected
    reminders = [n.kind for n in await rows(register.db, Notification)]
    assert reminders == (["reminder"] if own else [])  # the day-after reminder, queued once
    stored = await register.drafts.get(BIG_CHAT)
    assert (stored.step, stored.report_id) == ("filed", filed.report_id)


async def test_a_deleted_report_leaves_the_draft_without_it(register):
    filed = await register.reports.file(new_report(), idempotency_key="k-2")
    draft = a_draft()
    await register.drafts.mark_filed(draft, filed.report_id, subscribe=False)
    await register.reports.delete([filed.report_id])
    assert (await register.drafts.get(BIG_CHAT)).report_id is None


async def test_ids_of_messages_sent_go_with_the_next_write(register):
    draft = a_draft()
    await register.drafts.save(draft)
    register.drafts.note_sent(draft, [11, 12])
    assert (await register.drafts.get(BIG_CHAT)).message_ids == [11, 12]  # this process knows
    stored = await rows(register.db, Draft)
    assert stored[0].message_ids == "[]"  # not written on their own

    draft.remember_messages([13])
    await register.drafts.save(draft)
    (row,) = await rows(register.db, Draft)
    assert row.message_ids == "[11, 12, 13]"


async def test_ids_not_yet_written_are_stored_when_the_register_closes(database, vault):
    from models.register import Register

    first = Register(database, vault)
    draft = a_draft()
    await first.drafts.save(draft)
    first.drafts.note_sent(draft, [21])
    assert await first.drafts.flush_all() == 1
    again = Register(database, vault)
    assert (await again.drafts.get(BIG_CHAT)).message_ids == [21]


async def test_ids_written_late_are_added_to_those_another_worker_stored(database, vault):
    from models.register import Register

    one, other = Register(database, vault), Register(database, vault)
    draft = a_draft()
    await one.drafts.save(draft)
    one.drafts.note_sent(draft, [1])
    theirs = await other.drafts.get(BIG_CHAT)
    theirs.remember_messages([2])
    await other.drafts.save(theirs)
    await one.drafts.flush_all()
    assert (await other.drafts.get(BIG_CHAT)).message_ids == [2, 1]
