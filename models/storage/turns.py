"""A chat's turn across every process that shares the database: one update at a time.

Several bot workers on one PostgreSQL database each get some of a chat's updates. A chat's turn
is a PostgreSQL advisory lock, held from before the update's first read until its last reply
has been sent, so that no other worker starts the chat's next update (or a retried copy of
this one) in between.

The lock lives in a transaction of its own, on a connection of its own, left open while the
update is handled:

- the update's own transactions (a draft saved, a report filed) commit on other connections
  while the turn is held, so a lock taken in one of them would end too early: the replies are
  sent after the commit, and the chat's next update must not overtake them;
- a transaction-scoped lock ends with its transaction whatever happens: commit, rollback, the
  pool resetting the connection, the connection breaking, or the process dying. A session-level
  lock left behind by a cancelled unlock would stay with a pooled connection and block the
  chat for good.

Each chat being handled holds one connection, so these connections are a pool of their own,
as large as the number of chats a worker handles at once (`ChatTurns(size=...)`). SQLite serves
one bot process, whose own per-chat order is all there is: turns cost nothing there.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from models.storage.database import Database

LOCK_SQL = text("SELECT pg_advisory_xact_lock(:space, :key)")
APPLICATION_NAME = "reportbot chat turns"


def _int32(value: int) -> int:
    """VALUE's low 32 bits as a signed integer (the type of an advisory lock's key parts)."""
    value &= 0xFFFF_FFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def lock_space(schema: str | None) -> int:
    """The first key of every turn's lock: this register's own space (its schema's)."""
    return _int32(zlib.crc32(f"reportbot chat turn:{schema or ''}".encode()))


def lock_key(chat_id: int) -> int:
    """The second key of CHAT_ID's lock: its 64-bit id folded to 32 bits.

    Two chats that fold to the same key only wait for each other now and then; neither is ever
    handled out of order.
    """
    return _int32(chat_id ^ (chat_id >> 32))


class ChatTurns:
    """Gives each chat's updates their turn, one at a time across every worker."""

    def __init__(self, db: Database, *, size: int) -> None:
        """Turns on DB's database, for up to SIZE chats of this process at once."""
        self.size = size
        self.space = lock_space(db.schema)
        self._engine: AsyncEngine | None = None
        if not db.is_sqlite:
            self._engine = create_async_engine(
                db.url,
                pool_size=size,
                max_overflow=0,
                pool_pre_ping=True,
                connect_args={"server_settings": {"application_name": APPLICATION_NAME}},
            )

    @property
    def shared(self) -> bool:
        """Whether turns are taken in the database (other processes may hold them)."""
        return self._engine is not None

    @asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        """Wait until no other worker handles CHAT_ID, and keep it so until the block ends."""
        if self._engine is None:
            yield
            return
        async with self._engine.connect() as connection, connection.begin():
            await connection.execute(LOCK_SQL, {"space": self.space, "key": lock_key(chat_id)})
            yield
            # Leaving the block commits (or rolls back): either ends the lock.

    async def server_limit(self) -> int | None:
        """How many connections the PostgreSQL server allows in all (None on SQLite)."""
        if self._engine is None:
            return None
        async with self._engine.connect() as connection:
            found = await connection.execute(text("SHOW max_connections"))
            return int(found.scalar_one())

    async def close(self) -> None:
        """Close the turns' connections."""
        if self._engine is not None:
            await self._engine.dispose()
