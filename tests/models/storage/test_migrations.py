"""Tests that the Alembic migrations build exactly the schema the tables describe."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import models.storage.tables  # noqa: F401  (registers the tables)
from models.storage.database import Database, head_revision
from tests.conftest import DatabaseFactory

TELEGRAM_ID_COLUMNS = [
    ("staff_member", "user_id"),
    ("draft", "chat_id"),
    ("draft", "user_id"),
    ("subscription", "chat_id"),
    ("notification", "chat_id"),
    ("notification", "telegram_message_id"),
    ("status_change", "actor_id"),
    ("processed_update", "update_id"),
    ("code_attempt", "chat_id"),
    ("recovery_preview", "staff_user_id"),
]
TEXT_COLUMNS = [
    ("report_imei", "imei_hash"),
    ("report", "imei_tac"),
    ("report", "contact_phone_hash"),
    ("report", "stolen_phone_hash"),
    ("report", "access_code_hash"),
    ("report", "reference"),
]


async def _inspect(database: Database, how) -> Any:
    async with database.write_engine.connect() as connection:
        return await connection.run_sync(how)


def _diff(sync_connection: sa.Connection) -> list[Any]:
    """What autogenerate would change to make the database match the tables."""
    context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
    return compare_metadata(context, SQLModel.metadata)


async def test_migrated_schema_matches_the_tables(database: Database) -> None:
    assert await _inspect(database, _diff) == []


async def test_schema_comparison_notices_a_missing_index(database: Database) -> None:
    async with database.write() as session:
        await session.execute(sa.text("DROP INDEX ix_report_imei_imei_hash"))

    (change,) = await _inspect(database, _diff)
    assert change[0] == "add_index"
    assert change[1].name == "ix_report_imei_imei_hash"


async def test_every_table_is_migrated(database: Database) -> None:
    tables = await _inspect(database, lambda sync: set(inspect(sync).get_table_names()))

    assert tables == set(SQLModel.metadata.tables) | {"alembic_version"}
    assert await database.current_revision() == head_revision()


async def column_types(
    database: Database, columns: list[tuple[str, str]]
) -> dict[tuple[str, str], Any]:
    """The migrated type of every column of the tables COLUMNS name, by (table, column)."""

    def types(sync_connection: sa.Connection) -> dict[tuple[str, str], Any]:
        inspector = inspect(sync_connection)
        return {
            (table, column["name"]): column["type"]
            for table in {table for table, _ in columns}
            for column in inspector.get_columns(table)
        }

    return await _inspect(database, types)


async def test_telegram_ids_are_64_bit(database: Database) -> None:
    found = await column_types(database, TELEGRAM_ID_COLUMNS)

    for key in TELEGRAM_ID_COLUMNS:
        assert isinstance(found[key], sa.BigInteger), (key, found[key])


async def test_imeis_and_hashes_are_text(database: Database) -> None:
    found = await column_types(database, TEXT_COLUMNS)

    for key in TEXT_COLUMNS:
        assert isinstance(found[key], sa.String), (key, found[key])
        assert not isinstance(found[key], sa.Integer | sa.Numeric), key


async def test_telegram_id_beyond_32_bits_round_trips(database: Database) -> None:
    from models.storage.tables import StaffMember

    big = 2**62 + 12345
    async with database.write() as session:
        session.add(StaffMember(user_id=big, role="admin", added_by="test"))
    async with database.read() as session:
        member = await session.get(StaffMember, big)

    assert member is not None
    assert member.user_id == big


async def test_lookup_indexes_exist(database: Database) -> None:
    def indexes(sync_connection: sa.Connection) -> dict[str, set[tuple[str, ...]]]:
        inspector = inspect(sync_connection)
        found: dict[str, set[tuple[str, ...]]] = {}
        for table in ("report", "report_imei", "notification", "draft", "audit_event"):
            columns = {tuple(index["column_names"]) for index in inspector.get_indexes(table)}
            columns |= {
                tuple(unique["column_names"]) for unique in inspector.get_unique_constraints(table)
            }
            found[table] = columns
        return found

    found = await _inspect(database, indexes)

    assert ("imei_hash",) in found["report_imei"]
    assert ("reference",) in found["report"]
    assert ("idempotency_key",) in found["report"]
    assert ("status", "created_at") in found["report"]
    assert ("status", "status_changed_at") in found["report"]
    assert ("state", "not_before") in found["notification"]
    assert ("event_key",) in found["notification"]
    assert ("expires_at",) in found["draft"]
    assert ("chat_id",) in found["draft"]


async def test_a_register_from_before_the_key_id_columns_gets_them_filled(
    databases: DatabaseFactory,
) -> None:
    from alembic import command

    from models.sealing.vault import KeyRing, Vault
    from models.storage.database import alembic_config

    database = await databases.create(migrate=False)

    def upgrade_to(revision: str):
        def run(sync_connection: sa.Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = sync_connection
            command.upgrade(config, revision)

        return run

    async with database.write_engine.begin() as connection:
        await connection.run_sync(upgrade_to("0001"))
    sealed = Vault(KeyRing.generate("old-1")).seal(b"{}", context=b"report:SPR-7KQ4-M9")
    async with database.write_engine.begin() as connection:
        await connection.execute(
            sa.text(
                "INSERT INTO report (reference, idempotency_key, status, created_at, "
                "status_changed_at, make, platform, imei_count, own_account, access_code_hash, "
                "sealed) VALUES ('SPR-7KQ4-M9', 'k', 'submitted', :now, :now, 'apple', "
                "'iphone', 0, false, 'x', :sealed)"
            ),
            {"now": datetime.now(UTC).replace(tzinfo=None), "sealed": sealed},
        )
    await database.upgrade()

    async with database.read() as session:
        key_ids = (await session.execute(sa.text("SELECT key_id FROM report"))).scalars().all()
    assert key_ids == ["old-1"]
