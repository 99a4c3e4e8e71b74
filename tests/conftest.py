"""Fixtures: a fresh, migrated database per test (SQLite file, or a PostgreSQL schema)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from models.crypto import KeyRing, Vault
from models.database import Database
from models.register import Register

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
# CI sets this: there, a PostgreSQL run must never quietly fall back to skipping.
REQUIRE_POSTGRESQL = os.environ.get("REQUIRE_POSTGRESQL") == "1"


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


class DatabaseFactory:
    """Makes isolated databases for a test and removes them afterwards."""

    def __init__(self, tmp_path: Path) -> None:
        """Remember where SQLite files go."""
        self.tmp_path = tmp_path
        self.schemas: list[str] = []
        self.databases: list[Database] = []

    def url_and_schema(self) -> tuple[str, str | None]:
        """A new empty database: (URL, schema or None)."""
        if TEST_DATABASE_URL:
            schema = f"t_{uuid.uuid4().hex[:16]}"
            self.schemas.append(schema)
            return TEST_DATABASE_URL, schema
        return f"sqlite+aiosqlite:///{self.tmp_path / f'{uuid.uuid4().hex[:8]}.db'}", None

    async def create(self, *, migrate: bool = True) -> Database:
        """A new database, migrated to the newest schema unless MIGRATE is false."""
        url, schema = self.url_and_schema()
        if schema:
            await _admin_execute(f'CREATE SCHEMA "{schema}"')
        database = Database(url, schema=schema)
        self.databases.append(database)
        if migrate:
            await database.upgrade()
        return database

    async def cleanup(self) -> None:
        """Dispose engines and drop PostgreSQL schemas."""
        for database in self.databases:
            await database.dispose()
        for schema in self.schemas:
            await _admin_execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
async def databases(tmp_path: Path) -> AsyncIterator[DatabaseFactory]:
    """A factory of isolated databases for this test."""
    factory = DatabaseFactory(tmp_path)
    yield factory
    await factory.cleanup()


@pytest.fixture
async def database(databases: DatabaseFactory) -> Database:
    """A fresh, migrated database."""
    return await databases.create()


@pytest.fixture
def vault() -> Vault:
    """A vault with freshly generated keys."""
    return Vault(KeyRing.generate())


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
