"""Tests for opening the register from settings: keys, database and schema check."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot import runtime
from bot.settings import Settings, SettingsError, load_settings
from models.register import Register
from models.sealing.vault import KeyRing, Vault
from models.storage.database import Database, SchemaOutdated
from tests.conftest import DatabaseFactory
from tests.factories import database_environment, new_report

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


pytestmark = pytest.mark.usefixtures("clean_environment")


def settings_for(database: Database, monkeypatch: pytest.MonkeyPatch, **extra: str) -> Settings:
    """Settings that open DATABASE (plus EXTRA variables)."""
    for name, value in {**database_environment(database), **extra}.items():
        monkeypatch.setenv(name, value)
    return load_settings()


@posix_only
def test_key_file_is_generated_once_and_private(clean_environment: Path) -> None:
    settings = load_settings()

    first = runtime.key_ring(settings)
    again = runtime.key_ring(settings)

    key_file = clean_environment / "data" / "keys.json"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert again == first
    sealed = Vault(first).seal(b"secret")
    assert Vault(again).open(sealed) == b"secret"


def test_keys_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    ring = KeyRing.generate("k7")
    for name, value in ring.to_env().items():
        monkeypatch.setenv(name, value)

    assert runtime.key_ring(load_settings()) == ring
    assert not (tmp_path / "data" / "keys.json").exists()


@pytest.mark.parametrize("given", ["DATA_KEYS", "INDEX_KEY"])
def test_one_key_setting_without_the_other(monkeypatch: pytest.MonkeyPatch, given: str) -> None:
    monkeypatch.setenv(given, KeyRing.generate().to_env()[given])

    with pytest.raises(SettingsError) as raised:
        runtime.key_ring(load_settings())

    missing = {"DATA_KEYS": "INDEX_KEY", "INDEX_KEY": "DATA_KEYS"}[given]
    assert missing in str(raised.value)
    assert "\n" not in str(raised.value)


def test_bad_key_setting_is_one_line_without_key_material(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = KeyRing.generate().to_env()
    monkeypatch.setenv("DATA_KEYS", "k1:" + env["DATA_KEYS"].split(":", 1)[1][:-4])
    monkeypatch.setenv("INDEX_KEY", env["INDEX_KEY"])

    with pytest.raises(SettingsError) as raised:
        runtime.key_ring(load_settings())

    message = str(raised.value)
    assert "DATA_KEYS" in message
    assert "\n" not in message
    assert env["DATA_KEYS"].split(":", 1)[1][:-4] not in message
    assert env["INDEX_KEY"] not in message


def test_database_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db.example.org/reg")
    monkeypatch.setenv("DATABASE_SCHEMA", "tenant_a")

    db = runtime.database(load_settings())

    assert db.url.render_as_string() == "postgresql+asyncpg://u@db.example.org/reg"
    assert db.schema == "tenant_a"
    assert not db.is_sqlite


async def test_default_database_is_a_sqlite_file_under_data(clean_environment: Path) -> None:
    db = runtime.database(load_settings())
    try:
        assert db.is_sqlite
        assert (clean_environment / "data").is_dir()
        await db.upgrade()
    finally:
        await db.dispose()

    assert (clean_environment / "data" / "register.db").is_file()


async def test_open_register_refuses_an_empty_database(
    databases: DatabaseFactory, monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    empty = await databases.create(migrate=False)
    opened: list[Database] = []
    make_database = runtime.database
    monkeypatch.setattr(runtime, "database", lambda s: opened.append(make_database(s)) or opened[0])

    with pytest.raises(SchemaOutdated) as raised:
        await runtime.open_register(settings_for(empty, monkeypatch))

    assert "reportbot db upgrade" in str(raised.value)
    (db,) = opened
    assert db.read_engine.pool.checkedin() == 0  # disposed: no connection left open
    assert not (clean_environment / "data" / "keys.json").exists()


async def test_open_register_with_bad_keys_leaves_no_connection(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Database] = []
    make_database = runtime.database
    monkeypatch.setattr(runtime, "database", lambda s: opened.append(make_database(s)) or opened[0])
    settings = settings_for(database, monkeypatch, DATA_KEYS="k1:bm90LWEta2V5")

    with pytest.raises(SettingsError):
        await runtime.open_register(settings)

    (db,) = opened
    assert db.read_engine.pool.checkedin() == 0


async def test_open_register_on_a_migrated_database(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(
        database,
        monkeypatch,
        DEFAULT_REGION="IE",
        REPORT_RETENTION_DAYS="45",
        DRAFT_TTL_HOURS="6",
    )

    register = await runtime.open_register(settings)
    try:
        assert isinstance(register, Register)
        assert register.config.default_region == "IE"
        assert register.config.report_retention_days == 45
        assert register.config.draft_ttl_hours == 6
        assert register.retention.report_days == 45
        filed = await register.reports.file(new_report(), "key")
    finally:
        await register.close()

    # Reopened with the same settings, the same keys open what was sealed.
    again = await runtime.open_register(settings)
    try:
        view = await again.reports.get(filed.reference)
    finally:
        await again.close()
    assert view is not None
    assert view.get("contact_name") == "Alex Example"


async def test_open_register_without_the_check(databases: DatabaseFactory, monkeypatch) -> None:
    empty = await databases.create(migrate=False)

    register = await runtime.open_register(settings_for(empty, monkeypatch), check_schema=False)
    try:
        assert await register.db.current_revision() is None
    finally:
        await register.close()


def test_cli_with_other_keys_fails_with_one_line_instead_of_finding_nothing(
    tmp_path, monkeypatch, capsys
):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "DATABASE_SCHEMA", "DATA_KEYS", "INDEX_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    assert main(["db", "upgrade"]) == 0
    assert main(["staff", "list"]) == 0
    (tmp_path / "data" / "keys.json").unlink()
    capsys.readouterr()
    assert main(["lookup", "490154203237518"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "INDEX_KEY" in err[0]
