"""Fixtures for end-to-end tests: the fake Telegram server, the bot's environment, the process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from models.register import Register
from models.sealing.vault import KeyRing, Vault
from tests.botapi import FakeTelegram
from tests.conftest import DatabaseFactory
from tests.e2e.harness import TOKEN, BotEnvironment, BotProcess, free_port


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    """The fake Telegram the bot talks to, listening on 127.0.0.1."""
    server = FakeTelegram(TOKEN)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def keys() -> KeyRing:
    """The data keys the bot, the CLI and the test share."""
    return KeyRing.generate()


@pytest.fixture
async def environment(
    databases: DatabaseFactory, tmp_path: Path, telegram: FakeTelegram, keys: KeyRing
) -> BotEnvironment:
    """A migrated database, keys and a working folder for the bot process (polling mode)."""
    database = await databases.create()
    workdir = tmp_path / "bot"
    workdir.mkdir()
    return BotEnvironment(
        workdir=workdir,
        database_url=database.url.render_as_string(hide_password=False),
        database_schema=database.schema,
        keys=keys.to_env(),
        api_base_url=telegram.base_url,
    )


@pytest.fixture
def e2e_register(
    environment: BotEnvironment, databases: DatabaseFactory, keys: KeyRing
) -> Register:
    """The register the bot process writes (the environment's database), opened by the test."""
    return Register(databases.databases[0], Vault(keys))


@pytest.fixture
async def start_bot(
    environment: BotEnvironment, telegram: FakeTelegram, tmp_path: Path
) -> AsyncIterator[Callable[..., BotProcess]]:
    """Make bot processes: start_bot(webhook=False); each is killed at the end if still running."""
    made: list[BotProcess] = []

    def make(*, webhook: bool = False) -> BotProcess:
        if webhook and environment.webhook_port is None:
            environment.webhook_port = free_port()
        process = BotProcess(environment, telegram, tmp_path / f"bot-{len(made)}.log")
        made.append(process)
        return process

    yield make
    for process in made:
        if process.process is not None and process.process.returncode is None:
            await process.kill()
