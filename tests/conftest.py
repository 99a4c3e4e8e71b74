"""Fixtures: a fresh, migrated database per test (SQLite file, or a PostgreSQL schema)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import settings

from models.register import Register
from models.sealing.vault import KeyRing, Vault
from models.storage.database import Database

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
# CI sets this: there, a PostgreSQL run must never quietly fall back to skipping.
REQUIRE_POSTGRESQL = os.environ.get("REQUIRE_POSTGRESQL") == "1"

# Property tests judge what is computed, never how fast: a loaded machine must not fail them.
settings.register_profile("register", deadline=None)
settings.load_profile("register")


def pytest_report_header() -> str:
    """Say which database the run uses."""
    return f"database: {'PostgreSQL' if TEST_DATABASE_URL else 'SQLite'}"


async def _admin_execute(sql: str) -> None:
    import asyncpg

    url = TEST_DATABASE_URL.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


# Migrating takes ~0.2 s, so each test process migrates once and reuses the result: SQLite tests
# copy a migrated template file; PostgreSQL tests take a migrated schema from a pool and empty it.
_SQLITE_TEMPLATE: Path | None = None
_SCHEMA_POOL: list[str] = []


async def _sqlite_template(folder: Path) -> Path:
    global _SQLITE_TEMPLATE
    if _SQLITE_TEMPLATE is None:
        template = folder / "template.db"
        database = Database(f"sqlite+aiosqlite:///{template}")
        await database.upgrade()
        await database.dispose()
        _SQLITE_TEMPLATE = template
    return _SQLITE_TEMPLATE


_SHAPE_SQL = """
    SELECT (SELECT count(*) FROM pg_indexes WHERE schemaname = $1),
           (SELECT count(*) FROM information_schema.columns WHERE table_schema = $1),
           (SELECT max(version_num) FROM alembic_version)
"""
_MIGRATED_SHAPE: list[tuple] = []


async def _shape(connection, schema: str) -> tuple:
    await connection.execute(f'SET search_path TO "{schema}"')
    return tuple(await connection.fetchrow(_SHAPE_SQL, schema))


async def _reuse_schema(schema: str) -> bool:
    """Empty a pooled schema; False (and drop it) if a test changed its structure."""
    import asyncpg
    from sqlmodel import SQLModel

    url = TEST_DATABASE_URL.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url)
    try:
        if await _shape(connection, schema) != _MIGRATED_SHAPE[0]:
            await connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
            return False
        tables = ", ".join(f'"{schema}"."{t.name}"' for t in SQLModel.metadata.sorted_tables)
        await connection.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        return True
    except asyncpg.PostgresError:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        return False
    finally:
        await connection.close()


async def _remember_shape(schema: str) -> None:
    import asyncpg

    if _MIGRATED_SHAPE:
        return
    url = TEST_DATABASE_URL.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(url)
    try:
        _MIGRATED_SHAPE.append(await _shape(connection, schema))
    finally:
        await connection.close()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Drop the pooled PostgreSQL schemas of this test process."""
    if TEST_DATABASE_URL and _SCHEMA_POOL:
        import asyncio

        async def drop_all() -> None:
            for schema in _SCHEMA_POOL:
                await _admin_execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')

        asyncio.run(drop_all())


class DatabaseFactory:
    """Makes isolated databases for a test and removes them afterwards."""

    def __init__(self, tmp_path: Path, template_folder: Path) -> None:
        """Remember where SQLite files go."""
        self.tmp_path = tmp_path
        self.template_folder = template_folder
        self.schemas: list[str] = []
        self.pooled: list[str] = []
        self.databases: list[Database] = []

    def url_and_schema(self) -> tuple[str, str | None]:
        """A new empty database: (URL, schema or None); the caller creates the schema."""
        if TEST_DATABASE_URL:
            schema = f"t_{uuid.uuid4().hex[:16]}"
            self.schemas.append(schema)
            return TEST_DATABASE_URL, schema
        return f"sqlite+aiosqlite:///{self.tmp_path / f'{uuid.uuid4().hex[:8]}.db'}", None

    async def _migrated(self) -> tuple[str, str | None]:
        if not TEST_DATABASE_URL:
            url, _ = self.url_and_schema()
            template = await _sqlite_template(self.template_folder)
            shutil.copyfile(template, url.removeprefix("sqlite+aiosqlite:///"))
            return url, None
        while _SCHEMA_POOL:
            schema = _SCHEMA_POOL.pop()
            if await _reuse_schema(schema):
                self.pooled.append(schema)
                return TEST_DATABASE_URL, schema
        schema = f"t_{uuid.uuid4().hex[:16]}"
        await _admin_execute(f'CREATE SCHEMA "{schema}"')
        database = Database(TEST_DATABASE_URL, schema=schema)
        await database.upgrade()
        await database.dispose()
        await _remember_shape(schema)
        self.pooled.append(schema)
        return TEST_DATABASE_URL, schema

    async def create(self, *, migrate: bool = True) -> Database:
        """A new database, migrated to the newest schema unless MIGRATE is false."""
        if migrate:
            url, schema = await self._migrated()
        else:
            url, schema = self.url_and_schema()
            if schema:
                await _admin_execute(f'CREATE SCHEMA "{schema}"')
        database = Database(url, schema=schema)
        self.databases.append(database)
        return database

    async def cleanup(self) -> None:
        """Dispose engines, drop one-off PostgreSQL schemas and return pooled ones."""
        for database in self.databases:
            await database.dispose()
        for schema in self.schemas:
            await _admin_execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        _SCHEMA_POOL.extend(self.pooled)


@pytest.fixture
async def databases(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DatabaseFactory]:
    """A factory of isolated databases for this test."""
    factory = DatabaseFactory(tmp_path, tmp_path_factory.getbasetemp())
    yield factory
    await factory.cleanup()


@pytest.fixture
async def database(databases: DatabaseFactory) -> Database:
    """A fresh, migrated database."""
    return await databases.create()


@pytest.fixture
def ring() -> KeyRing:
    """Freshly generated data keys (the CLI's tests hand them to the CLI's environment)."""
    return KeyRing.generate()


@pytest.fixture
def vault(ring: KeyRing) -> Vault:
    """A vault on `ring`."""
    return Vault(ring)


@pytest.fixture
def register(database: Database, vault: Vault) -> Register:
    """The register on a fresh database."""
    return Register(database, vault)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings for an offline bot, isolated from any real environment or `.env`."""
    from bot.settings import load_settings

    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "WEBHOOK_URL", "WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture
def api():
    """The in-process Bot API the application talks to."""
    from bot.local_api import LocalBotApi

    return LocalBotApi()


@pytest.fixture
async def application(settings, register: Register, api):
    """The real Application and handlers, on a fresh register, offline."""
    from bot.app import CONSOLE_TOKEN, build_application

    app = build_application(
        settings, register, request=api, token=CONSOLE_TOKEN, with_updater=False
    )
    await app.initialize()
    yield app
    await app.shutdown()


@pytest.fixture
def make_user(application, api):
    """Make a person who talks to the bot: make_user(user_id=..., chat_type=...)."""
    from bot.local_api import LocalUser

    def make(**kwargs):
        return LocalUser(application, api, **kwargs)

    return make
