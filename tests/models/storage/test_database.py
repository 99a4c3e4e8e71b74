"""Tests for the database setup: SQLite pragmas and locking, schema checks and upgrades."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from models.storage.database import (
    SQLITE_BUSY_TIMEOUT_MS,
    Database,
    SchemaOutdated,
    head_revision,
)
from models.storage.tables import StaffMember
from tests.conftest import DatabaseFactory
from tests.factories import rows


def sqlite_only(database: Database) -> None:
    """Skip the calling test unless DATABASE is a SQLite file."""
    if not database.is_sqlite:
        pytest.skip("SQLite only")


async def _pragmas(session) -> dict[str, object]:
    names = ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
    return {name: (await session.execute(text(f"PRAGMA {name}"))).scalar_one() for name in names}


async def test_sqlite_pragmas_in_effect_on_writers_and_readers(database: Database) -> None:
    sqlite_only(database)
    expected = {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
    }

    async with database.write() as session:
        assert await _pragmas(session) == expected
    async with database.read() as session:
        assert await _pragmas(session) == expected
    assert SQLITE_BUSY_TIMEOUT_MS >= 1000


async def test_sqlite_write_takes_the_lock_up_front(database: Database) -> None:
    sqlite_only(database)
    path = database.url.database or ""
    async with database.write() as session:
        # Only a read so far: with a deferred BEGIN another writer could still get in.
        await session.execute(text("SELECT count(*) FROM staff_member"))
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
    # Once the write is committed the lock is free again.
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


async def test_sqlite_readers_do_not_wait_for_the_writer(database: Database) -> None:
    sqlite_only(database)
    async with database.write() as session:
        session.add(StaffMember(user_id=1, role="admin", added_by="test"))
        await session.flush()
        # A reader sees the last committed state while the write is still open.
        assert await asyncio.wait_for(rows(database, StaffMember), timeout=5) == []
    assert [member.user_id for member in await rows(database, StaffMember)] == [1]


async def test_write_rolls_back_on_error(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.write() as session:
            session.add(StaffMember(user_id=5, role="admin", added_by="test"))
            await session.flush()
            raise RuntimeError("boom")

    assert await rows(database, StaffMember) == []


async def test_foreign_keys_enforced(database: Database) -> None:
    from sqlalchemy.exc import IntegrityError

    from models.storage.tables import ReportImei

    with pytest.raises(IntegrityError):
        async with database.write() as session:
            session.add(ReportImei(report_id=12345, slot=1, imei_hash="0" * 32))


async def test_sqlite_parent_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "register.db"

    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        assert path.parent.is_dir()
        await database.upgrade()
        await database.check_schema()
    finally:
        await database.dispose()
    assert path.is_file()


@pytest.fixture
def open_umask():
    """The usual umask (022: new files readable by every local user), whatever the caller's."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


async def test_sqlite_files_are_private_to_the_owner(tmp_path: Path, open_umask) -> None:
    path = tmp_path / "data" / "register.db"

    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await database.upgrade()
        async with database.write() as session:
            session.add(StaffMember(user_id=1, role="admin", added_by="test"))
        async with database.read() as session:
            await session.execute(text("SELECT count(*) FROM staff_member"))
        # While the database is open it has its write-ahead log and shared-memory index too.
        modes = {
            name: stat.S_IMODE((path.parent / name).stat().st_mode)
            for name in ("register.db", "register.db-wal", "register.db-shm")
        }
    finally:
        await database.dispose()

    assert modes == dict.fromkeys(modes, 0o600)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


async def test_an_existing_database_file_keeps_its_mode(tmp_path: Path, open_umask) -> None:
    path = tmp_path / "register.db"
    path.touch(mode=0o640)

    database = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await database.upgrade()
    finally:
        await database.dispose()

    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert path.stat().st_size > 0


async def test_sqlite_relative_path_is_relative_to_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    database = Database("sqlite+aiosqlite:///data/register.db")
    try:
        await database.upgrade()
    finally:
        await database.dispose()

    assert (tmp_path / "data" / "register.db").is_file()


async def test_check_schema_on_empty_database(databases: DatabaseFactory) -> None:
    database = await databases.create(migrate=False)

    assert await database.current_revision() is None
    with pytest.raises(SchemaOutdated) as raised:
        await database.check_schema()

    message = str(raised.value)
    assert "reportbot db upgrade" in message
    assert "\n" not in message


async def test_upgrade_then_check_passes(databases: DatabaseFactory) -> None:
    database = await databases.create(migrate=False)

    before, after = await database.upgrade()

    assert (before, after) == (None, head_revision())
    assert await database.current_revision() == head_revision()
    await database.check_schema()


async def test_upgrade_twice_is_a_no_op(database: Database) -> None:
    async with database.write() as session:
        session.add(StaffMember(user_id=99, role="officer", added_by="test"))

    again = await database.upgrade()

    assert again == (head_revision(), head_revision())
    await database.check_schema()
    assert [member.user_id for member in await rows(database, StaffMember)] == [99]


async def _stamp(database: Database, revision: str) -> None:
    async with database.write() as session:
        await session.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


async def test_database_newer_than_the_code(database: Database) -> None:
    await _stamp(database, "9999_from_the_future")

    with pytest.raises(SchemaOutdated) as raised:
        await database.check_schema()

    message = str(raised.value)
    assert "newer" in message
    assert "9999_from_the_future" in message
    assert "\n" not in message


async def test_upgrade_refuses_a_newer_database_with_one_line(database: Database) -> None:
    await _stamp(database, "9999_from_the_future")

    with pytest.raises(SchemaOutdated) as raised:
        await database.upgrade()

    assert "newer" in str(raised.value)
    assert "\n" not in str(raised.value)
    assert await database.current_revision() == "9999_from_the_future"


async def test_database_older_than_the_code(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import models.storage.database

    # Pretend this code knows a newer head than the database's (which is still known).
    monkeypatch.setattr(models.storage.database, "head_revision", lambda: "0002_pretend")

    with pytest.raises(SchemaOutdated) as raised:
        await database.check_schema()

    assert "older" in str(raised.value)
    assert "reportbot db upgrade" in str(raised.value)


async def test_dispose_is_safe_twice(database: Database) -> None:
    await database.dispose()
    await database.dispose()
    # Engines reconnect on demand after dispose.
    await database.check_schema()
