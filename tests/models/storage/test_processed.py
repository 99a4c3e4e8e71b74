"""Exactly-once effects: an update's first committed write carries its processed-update record."""

from __future__ import annotations

import asyncio

import pytest

from models.storage.database import Database
from models.storage.processed import (
    UpdateAlreadyProcessed,
    current_update,
    processing_update,
)
from models.storage.tables import ProcessedUpdate, StaffMember
from tests.factories import rows


async def _add_staff(database: Database, user_id: int) -> None:
    async with database.write() as session:
        session.add(StaffMember(user_id=user_id, role="officer", added_by="test"))


async def _staff_ids(database: Database) -> list[int]:
    return [member.user_id for member in await rows(database, StaffMember)]


async def test_the_first_write_of_an_update_records_it_with_the_effect(database: Database):
    with processing_update(41) as scope:
        await _add_staff(database, 1)
        assert scope.recorded
        await _add_staff(database, 2)
    assert await _staff_ids(database) == [1, 2]
    assert [row.update_id for row in await rows(database, ProcessedUpdate)] == [41]
    assert await database.is_processed(41)
    assert not await database.is_processed(42)


async def test_writes_outside_an_update_record_nothing(database: Database):
    await _add_staff(database, 1)
    assert current_update() is None
    assert await rows(database, ProcessedUpdate) == []


async def test_a_rolled_back_write_leaves_the_update_unprocessed(database: Database):
    with processing_update(7) as scope:
        with pytest.raises(RuntimeError):
            async with database.write() as session:
                session.add(StaffMember(user_id=1, role="officer", added_by="test"))
                await session.flush()
                raise RuntimeError("the handler failed half-way")
        assert not scope.recorded
    assert not await database.is_processed(7)
    assert await _staff_ids(database) == []
    # The redelivery runs the whole update again, and this time it sticks.
    with processing_update(7):
        await _add_staff(database, 1)
    assert await database.is_processed(7)
    assert await _staff_ids(database) == [1]


async def test_a_second_delivery_cannot_store_its_effect_again(database: Database):
    with processing_update(9):
        await _add_staff(database, 1)
    with processing_update(9), pytest.raises(UpdateAlreadyProcessed) as refused:
        await _add_staff(database, 2)
    assert refused.value.update_id == 9
    assert await _staff_ids(database) == [1]


async def test_concurrent_deliveries_of_one_update_store_one_effect(databases):
    # Two workers on one database, each with its own engine, get the same update at once.
    first = await databases.create()
    second = Database(
        first.url.render_as_string(hide_password=False), schema=first.schema, pool_size=2
    )
    databases.databases.append(second)
    both_checked = asyncio.Barrier(2)

    async def worker(database: Database, user_id: int) -> str:
        with processing_update(77):
            assert not await database.is_processed(77)
            await both_checked.wait()
            try:
                await _add_staff(database, user_id)
            except UpdateAlreadyProcessed:
                return "skipped"
            return "stored"

    outcomes = await asyncio.wait_for(
        asyncio.gather(worker(first, 1), worker(second, 2)), timeout=30
    )
    assert sorted(outcomes) == ["skipped", "stored"]
    assert len(await _staff_ids(first)) == 1
    assert [row.update_id for row in await rows(first, ProcessedUpdate)] == [77]


async def test_the_update_being_processed_does_not_leak_into_other_tasks(database: Database):
    seen: list[object] = []

    async def elsewhere() -> None:
        seen.append(current_update())
        await _add_staff(database, 2)

    task = asyncio.create_task(elsewhere())  # created before the scope: not part of it
    with processing_update(5):
        await task
        await _add_staff(database, 1)
    assert seen == [None]
    assert current_update() is None
    assert [row.update_id for row in await rows(database, ProcessedUpdate)] == [5]
