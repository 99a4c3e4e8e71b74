"""Engines and sessions for SQLite (the default) and PostgreSQL, and the schema's version."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CursorResult, Result, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from models.storage import processed
from models.storage.columns import utcnow
from models.storage.jobs import SaTx, Tx, sqlite_batch, sqlite_transaction

T = TypeVar("T")
# Reads a chat's row for an update's check: (transaction, chat id) -> what the store keeps.
Prefetcher = Callable[[Tx, int], Any]

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 15_000
# The most write jobs committed together on SQLite (group commit).
MAX_BATCH = 64


def create_private_file(path: Path) -> None:
    """Create PATH empty with mode 0600 (and missing folders 0700) unless it exists.

    SQLite creates a database file with the process's umask (often 0644: readable by every
    local user) and gives its -wal and -shm files the database file's mode, so creating the
    file first keeps all three private.
    """
    missing = [folder for folder in (path.parent, *path.parent.parents) if not folder.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):
            folder.mkdir(mode=0o700)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class SchemaOutdated(Exception):
    """The database is older (or newer) than this code; the message says what to run."""


def alembic_config() -> Config:
    """Alembic's configuration, pointing at the project's migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    """The newest schema revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _known_revisions() -> set[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return {revision.revision for revision in script.walk_revisions()}


def _newer_message(current: str) -> str:
    return (
        f"the database schema ({current}) is newer than this version of reportbot: "
        "upgrade reportbot"
    )


class Database:
    """The register's database: a write engine that takes the lock up front, and readers."""

    def __init__(self, url: str, *, schema: str | None = None, pool_size: int = 5) -> None:
        """Prepare engines for URL (no connection is made yet)."""
        self.url = make_url(url)
        self.schema = schema
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        # The most connections this process's sessions open at once (a pool and its overflow).
        self.max_connections = pool_size * 2
        if self.is_sqlite:
            self._prepare_sqlite_file()
            # One writer at a time is SQLite's rule anyway; queueing writers in the pool
            # instead of in busy_timeout keeps waiting fair and cheap.
            self.write_engine = self._sqlite_engine("BEGIN IMMEDIATE", pool_size=1)
            self.read_engine = self._sqlite_engine("BEGIN", pool_size=pool_size)
        else:
            connect_args: dict[str, Any] = {}
            if schema:
                connect_args["server_settings"] = {"search_path": schema}
            self.write_engine = create_async_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_pre_ping=True,
                connect_args=connect_args,
            )
            self.read_engine = self.write_engine
        self._write_sessions = async_sessionmaker(
            self.write_engine, class_=AsyncSession, expire_on_commit=False
        )
        self._read_sessions = async_sessionmaker(
            self.read_engine, class_=AsyncSession, expire_on_commit=False
        )
        self.prefetchers: dict[str, Prefetcher] = {}
        self._batch: list[tuple[Callable[[Tx], Any], asyncio.Future[Any]]] = []
        self._committing: asyncio.Task[None] | None = None

    def _prepare_sqlite_file(self) -> None:
        database = self.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            create_private_file(Path(database).expanduser())

    def _sqlite_engine(self, begin: str, *, pool_size: int) -> AsyncEngine:
        # Every session ends its own transaction, and the driver runs in autocommit mode, so
        # the pool's extra rollback on return would only cost another trip to the driver thread.
        engine = create_async_engine(
            self.url,
            pool_size=pool_size,
            max_overflow=0,
            pool_timeout=120,
            pool_reset_on_return=None,
        )

        @event.listens_for(engine.sync_engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let us issue BEGIN ourselves (pysqlite's implicit BEGIN is deferred).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            for pragma in (
                "journal_mode=WAL",
                "synchronous=FULL",
                "foreign_keys=ON",
                f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
            ):
                cursor.execute(f"PRAGMA {pragma}")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Connection) -> None:
            connection.exec_driver_sql(begin)

        return engine

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session whose transaction holds the write lock; commits on success.

        While a Telegram update is processed (`models.storage.processed`), the first write to commit
        also records that update, in the same transaction.
        """
        async with self._write_sessions() as session, session.begin():
            update = await processed.claim(session)
            yield session
        if update is not None:
            update.recorded = True

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for reading a consistent snapshot."""
        async with self._read_sessions() as session, session.begin():
            yield session

    async def is_processed(self, update_id: int) -> bool:
        """Whether UPDATE_ID's effect is already stored."""
        return await self.run(lambda tx: processed.is_processed_tx(tx, update_id))

    async def check_update(self, scope: processed.UpdateScope) -> bool:
        """Whether SCOPE's update is already stored; if not, prefetch its chat's rows (one read)."""

        def job(tx: Tx) -> bool:
            if processed.is_processed_tx(tx, scope.update_id):
                return True
            if scope.chat_id is not None:
                for name, read in self.prefetchers.items():
                    scope.prefetched[name] = read(tx, scope.chat_id)
            return False

        return await self.run(job)

    async def run(self, job: Callable[[Tx], T], *, write: bool = False) -> T:
        """Run JOB(tx) as one transaction (WRITE: holding the write lock); its result.

        On SQLite the whole transaction is one trip to the connection's thread; on PostgreSQL a
        read (not WRITE) runs in autocommit, one snapshot per statement. A write made
        while a Telegram update is processed also records that update, as `write()` does.
        """
        scope = processed.current_update() if write else None
        if scope is not None and scope.recorded:
            scope = None
        body = job
        if scope is not None:
            claimed, now = scope, utcnow()

            def body(tx: Tx) -> T:
                processed.claim_in(tx, claimed, now)
                return job(tx)

        if self.is_sqlite and write:
            result = await self._group_commit(body)
        elif self.is_sqlite:
            async with self.read_engine.connect() as connection:
                driver = await _sqlite_driver(connection)
                # aiosqlite runs the function in its own thread, where the connection lives.
                result = await driver._execute(sqlite_transaction, driver._conn, "BEGIN", body)
        elif write:
            async with self.write_engine.connect() as connection, connection.begin():
                result = await connection.run_sync(lambda sync: body(SaTx(sync)))
        else:
            # A read at READ COMMITTED gets a fresh snapshot per statement inside a transaction
            # too, so autocommit changes nothing it sees and saves the BEGIN and COMMIT trips.
            async with self.read_engine.connect() as connection:
                reading = await connection.execution_options(isolation_level="AUTOCOMMIT")
                result = await reading.run_sync(lambda sync: body(SaTx(sync)))
        if scope is not None:
            scope.recorded = True
        return result

    async def _group_commit(self, body: Callable[[Tx], T]) -> T:
        """Queue BODY for the next SQLite write transaction; its result once committed."""
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._batch.append((body, future))
        if self._committing is None or self._committing.done():
            self._committing = asyncio.create_task(self._commit_batches())
        return await future

    async def _commit_batches(self) -> None:
        """Commit queued write jobs, as many together as have arrived, until none is left."""
        while self._batch:
            batch, self._batch = self._batch[:MAX_BATCH], self._batch[MAX_BATCH:]
            try:
                async with self.write_engine.connect() as connection:
                    driver = await _sqlite_driver(connection)
                    jobs = [body for body, _ in batch]
                    outcomes = await driver._execute(sqlite_batch, driver._conn, jobs)
            except BaseException as exc:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                if future.done():
                    continue  # its caller gave up waiting; the effect is committed all the same
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    async def current_revision(self) -> str | None:
        """The schema revision stored in the database, or None for an empty one."""
        async with self.read_engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )

    async def upgrade(self) -> tuple[str | None, str]:
        """Apply every migration; returns the revisions before and after."""
        before = await self.current_revision()
        if before is not None and before not in _known_revisions():
            raise SchemaOutdated(_newer_message(before))

        def _run(sync_connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = sync_connection
            command.upgrade(config, "head")

        async with self.write_engine.begin() as connection:
            await connection.run_sync(_run)
        return before, head_revision()

    async def check_schema(self) -> None:
        """Raise SchemaOutdated unless the database is at this code's revision."""
        current = await self.current_revision()
        head = head_revision()
        if current == head:
            return
        if current is None:
            raise SchemaOutdated("the database has no tables yet: run `reportbot db upgrade`")
        if current in _known_revisions():
            raise SchemaOutdated(
                "the database schema is older than this version: run `reportbot db upgrade`"
            )
        raise SchemaOutdated(_newer_message(current))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


async def _sqlite_driver(connection: Any) -> Any:
    """The aiosqlite Connection under a SQLAlchemy AsyncConnection."""
    raw = await connection.get_raw_connection()
    return raw.driver_connection


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE that SESSION.execute ran touched."""
    # AsyncSession.execute is typed as returning Result whatever the statement; a DML statement's
    # result is a CursorResult, which is what carries the count.
    assert isinstance(result, CursorResult)
    return result.rowcount
