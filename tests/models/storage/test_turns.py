"""A chat's turn across processes: two workers never hold the same chat at once."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from models.storage.database import Database
from models.storage.turns import ChatTurns, lock_key, lock_space

# Many PostgreSQL connections at once (a chat's turn holds one): never beside another such test.
pytestmark = pytest.mark.xdist_group("many_connections")

WAIT = 30.0
CHAT = 8_123_456_789_012


def postgresql_only(database: Database) -> None:
    """Skip the calling test on SQLite, which serves one bot process (turns are free there)."""
    if database.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite serves one bot process")


def worker(database: Database, size: int = 4) -> ChatTurns:
    """Turns as another worker process takes them: its own engine and connections."""
    return ChatTurns(Database(database.url, schema=database.schema), size=size)


async def waiting_for_turns(database: Database) -> int:
    """How many turns of DATABASE's register are waited for right now (PostgreSQL's view)."""
    async with database.read() as session:
        found = await session.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND objsubid = 2 AND classid::bigint = :space"
            ),
            {"space": lock_space(database.schema) & 0xFFFF_FFFF},
        )
        return found.scalar_one()


async def until_someone_waits(database: Database, count: int = 1) -> None:
    """Return once COUNT turns are waited for (checked as PostgreSQL reports it)."""
    async with asyncio.timeout(WAIT):
        # PostgreSQL's lock table is the only witness, and it raises no event: ask it again.
        while await waiting_for_turns(database) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def take(turns: ChatTurns, chat_id: int, inside: asyncio.Event, leave: asyncio.Event):
    """Hold CHAT_ID's turn from INSIDE until LEAVE."""
    async with turns.turn(chat_id):
        inside.set()
        await leave.wait()


def test_lock_keys_fit_postgresql_and_spread_chats():
    for chat_id in (1, -1, CHAT, -1001234567890, 2**52, -(2**52)):
        assert -(2**31) <= lock_key(chat_id) < 2**31
    assert len({lock_key(chat) for chat in range(100_000, 110_000)}) == 10_000
    assert lock_space("t_a") != lock_space("t_b")
    assert -(2**31) <= lock_space(None) < 2**31


async def test_a_chat_held_by_one_worker_waits_in_another_until_it_is_let_go(
    database: Database,
):
    postgresql_only(database)
    first, second = worker(database), worker(database)
    try:
        first_in, first_out = asyncio.Event(), asyncio.Event()
        second_in, second_out = asyncio.Event(), asyncio.Event()
        holding = asyncio.create_task(take(first, CHAT, first_in, first_out))
        await asyncio.wait_for(first_in.wait(), WAIT)
        waiting = asyncio.create_task(take(second, CHAT, second_in, second_out))
        await until_someone_waits(database)
        assert not second_in.is_set()

        # Another chat is not held up meanwhile.
        other_in, other_out = asyncio.Event(), asyncio.Event()
        other_out.set()
        await asyncio.wait_for(take(second, CHAT + 1, other_in, other_out), WAIT)
        assert other_in.is_set() and not second_in.is_set()

        first_out.set()
        await asyncio.wait_for(second_in.wait(), WAIT)
        second_out.set()
        await asyncio.wait_for(asyncio.gather(holding, waiting), WAIT)
        assert await waiting_for_turns(database) == 0
    finally:
        await first.close()
        await second.close()


async def test_a_turn_ends_with_a_failure_a_cancellation_or_its_worker(database: Database):
    postgresql_only(database)
    first, second = worker(database, size=1), worker(database)
    try:
        # A handler that raises lets the chat go.
        with pytest.raises(RuntimeError):
            async with first.turn(CHAT):
                raise RuntimeError("handler failed")
        async with asyncio.timeout(WAIT), second.turn(CHAT):
            pass

        # So does a cancelled one (a stop that cuts an update short).
        inside, never = asyncio.Event(), asyncio.Event()
        held = asyncio.create_task(take(first, CHAT, inside, never))
        await asyncio.wait_for(inside.wait(), WAIT)
        held.cancel()
        await asyncio.gather(held, return_exceptions=True)
        async with asyncio.timeout(WAIT), second.turn(CHAT):
            pass

        # And a worker that dies (kill -9) holding the turn: its connection ends, and the lock.
        inside = asyncio.Event()
        held = asyncio.create_task(take(first, CHAT, inside, never))
        await asyncio.wait_for(inside.wait(), WAIT)
        got_in, out = asyncio.Event(), asyncio.Event()
        out.set()
        waiting = asyncio.create_task(take(second, CHAT, got_in, out))
        await until_someone_waits(database)
        async with database.read() as session:
            await session.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND granted AND objsubid = 2 AND classid::bigint = :space"
                ),
                {"space": lock_space(database.schema) & 0xFFFF_FFFF},
            )
        await asyncio.wait_for(waiting, WAIT)
        assert got_in.is_set()
        held.cancel()
        await asyncio.gather(held, return_exceptions=True)
    finally:
        await first.close()
        await second.close()


async def test_on_sqlite_turns_are_free(database: Database):
    if not database.is_sqlite:
        pytest.skip("SQLite only")
    turns = ChatTurns(database, size=2)
    assert not turns.shared
    async with turns.turn(CHAT), turns.turn(CHAT):  # one process: its own order is enough
        pass
    await turns.close()
