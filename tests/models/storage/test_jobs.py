"""Transactions as jobs: one write per job, committed together on SQLite, each all or nothing."""

from __future__ import annotations

import asyncio
import threading

import pytest

from models.services.drafts import DraftState
from models.storage.columns import utcnow
from models.storage.database import Database
from models.storage.jobs import Tx
from models.storage.processed import UpdateAlreadyProcessed, processing_update
from models.storage.tables import ProcessedUpdate, StaffMember
from tests.factories import rows

ADD_STAFF = (
    "INSERT INTO staff_member (user_id, role, added_by, added_at, alerts) "
    "VALUES (:user_id, 'officer', 'test', :at, :alerts)"
)


def _add(user_id: int):
    def job(tx: Tx) -> int:
        return tx.run(ADD_STAFF, {"user_id": user_id, "at": utcnow(), "alerts": False})

    return job


async def _staff(database: Database) -> list[int]:
    return sorted(member.user_id for member in await rows(database, StaffMember))


async def test_a_write_job_records_the_update_with_its_effect(database: Database):
    with processing_update(5) as scope:
        await database.run(_add(1), write=True)
        assert scope.recorded
    with processing_update(5), pytest.raises(UpdateAlreadyProcessed):
        await database.run(_add(2), write=True)
    assert await _staff(database) == [1]
    assert [row.update_id for row in await rows(database, ProcessedUpdate)] == [5]


async def test_a_failing_job_takes_only_its_own_effect_back(database: Database):
    if not database.is_sqlite:
        pytest.skip("group commit is SQLite's (PostgreSQL commits each job alone)")
    inside, release = threading.Event(), threading.Event()

    def hold(tx: Tx) -> None:
        inside.set()
        release.wait(10)  # keeps the writer busy while the next jobs queue up

    def fail(tx: Tx) -> None:
        _add(3)(tx)
        raise ValueError("refused")

    first = asyncio.ensure_future(database.run(hold, write=True))
    await asyncio.to_thread(inside.wait, 10)
    ok = asyncio.ensure_future(database.run(_add(2), write=True))
    bad = asyncio.ensure_future(database.run(fail, write=True))
    await asyncio.sleep(0)  # both are queued behind the held transaction
    assert len(database._batch) == 2
    release.set()
    await first
    assert await ok == 1
    with pytest.raises(ValueError, match="refused"):
        await bad
    assert await _staff(database) == [2]


async def test_the_update_check_reads_the_chat_draft_in_the_same_transaction(register):
    await register.drafts.save(DraftState(chat_id=7, user_id=7, step="model", answers={"a": 1}))
    with processing_update(70, chat_id=7) as scope:
        assert not await register.db.check_update(scope)
        assert "draft" in scope.prefetched
        loaded = await register.drafts.load(7)
        assert loaded.draft is not None and loaded.draft.answers == {"a": 1}
        assert "draft" not in scope.prefetched  # taken once
