"""`reportbot run`: serving by long polling, stopping cleanly, refusing to start when it must."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import socket
from pathlib import Path

import httpx
import pytest
from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, MessageHandler, filters

from bot import cli
from bot.app import build_application, default_rate_limiter
from bot.commands.common import CliError
from bot.commands.run import check_connections, describe_api, run_command, serve, webhook_path
from bot.delivery import DELIVERY_KEY
from bot.processing import ChatOrderedProcessor
from bot.settings import load_settings
from models.register import Register
from models.storage.database import SchemaOutdated
from models.storage.tables import AuditEvent
from tests.botapi import FakeTelegram
from tests.e2e.harness import TOKEN, WEBHOOK_SECRET, free_port
from tests.e2e.victim import Victim
from tests.factories import rows


@pytest.fixture
async def telegram():
    """A fake Telegram on 127.0.0.1."""
    server = FakeTelegram(TOKEN)
    await server.start()
    yield server
    await server.stop()


class LogSeen(logging.Handler):
    """Sets `seen` once a record whose message starts with PREFIX is logged."""

    def __init__(self, prefix: str) -> None:
        super().__init__(logging.INFO)
        self.prefix = prefix
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith(self.prefix):
            self.seen.set()


def test_the_log_names_the_bot_api_without_credentials(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    own = load_settings(telegram_api_base_url="http://bot:s3cret@127.0.0.1:8081")
    assert describe_api(own) == "http://127.0.0.1:8081"
    assert describe_api(load_settings()) == "https://api.telegram.org"


def test_the_webhook_serves_the_path_of_its_public_url():
    assert webhook_path("https://bot.example.org/telegram/hook") == "/telegram/hook"
    assert webhook_path("https://bot.example.org") == "/"


def hold_text_updates(
    application: Application, reply: str | None = None
) -> tuple[asyncio.Event, asyncio.Event]:
    """Hold each text update: (STARTED, set once one is in; RELEASE, set it to let it go on).

    Let go, the update stores its effect (an audit event naming it), replies REPLY if given,
    and no other handler sees it.
    """
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(update: Update, context) -> None:
        started.set()
        await release.wait()
        await context.register.audit.record("test", "effect", str(update.update_id))
        if reply is not None:
            await update.effective_message.reply_text(reply)
        raise ApplicationHandlerStop

    application.add_handler(MessageHandler(filters.TEXT, slow), group=-10)
    return started, release


async def test_stopping_lets_the_update_in_flight_finish_then_confirms_it(
    telegram: FakeTelegram, register: Register, tmp_path: Path, monkeypatch, caplog
):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        telegram_bot_token=TOKEN,
        telegram_api_base_url=telegram.base_url,
        data_dir=tmp_path / "data",
        stop_grace_seconds=600,  # this update is let finish, however busy the machine is
    )
    application = build_application(
        settings,
        register,
        rate_limiter=default_rate_limiter(),
        update_processor=ChatOrderedProcessor(8, db=register.db),
        with_updater=False,
    )
    started, release = hold_text_updates(application, reply="done")
    caplog.set_level(logging.INFO, logger="reportbot.run")
    stopping = LogSeen("stopping")
    logging.getLogger("reportbot.run").addHandler(stopping)
    serving = asyncio.create_task(serve(application, settings))
    await telegram.wait_until(lambda: telegram.calls_of("getUpdates"), 30, "the first poll")
    victim = Victim(telegram, user_id=321)
    victim.waiting = False
    await victim.send("stolen just now")
    await asyncio.wait_for(started.wait(), 30)

    os.kill(os.getpid(), signal.SIGTERM)  # serve() turns it into a clean stop
    try:
        await asyncio.wait_for(stopping.seen.wait(), 30)
    finally:
        logging.getLogger("reportbot.run").removeHandler(stopping)
    late = Victim(telegram, user_id=654)  # writes once the bot stopped fetching
    late.waiting = False
    await late.send("anyone there?")
    assert not serving.done()  # still waiting for the update in flight
    # Telegram was never told the update in flight was done.
    offsets = [call.params.get("offset") for call in telegram.calls_of("getUpdates")]
    assert all(offset in (None, victim.last_update_id) for offset in offsets), offsets
    release.set()
    await asyncio.wait_for(serving, 30)

    assert [m.text for m in victim.messages] == ["done"]
    assert [event.target for event in await rows(register.db, AuditEvent)] == [
        str(victim.last_update_id)
    ]
    # The last call (no waiting) confirmed it; the late update, written during the stop, was
    # never handled (no reply, no effect) and stays with Telegram.
    final = telegram.calls_of("getUpdates")[-1]
    assert int(final.params["offset"]) == victim.last_update_id + 1
    assert not final.params.get("timeout")
    assert late.messages == []
    assert [u["update_id"] for u in telegram.pending] == [late.last_update_id]


async def test_the_webhook_answers_telegram_only_once_the_update_is_processed(
    telegram: FakeTelegram, register: Register, tmp_path: Path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    port = free_port()
    settings = load_settings(
        telegram_bot_token=TOKEN,
        telegram_api_base_url=telegram.base_url,
        webhook_url=f"http://127.0.0.1:{port}/hook",
        webhook_secret=WEBHOOK_SECRET,
        webhook_listen="127.0.0.1",
        webhook_port=port,
        data_dir=tmp_path / "data",
    )
    application = build_application(
        settings,
        register,
        update_processor=ChatOrderedProcessor(8, db=register.db),
        with_updater=False,
    )
    started, release = hold_text_updates(application)
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(application, settings, stop))
    await telegram.wait_until(lambda: telegram.calls_of("setWebhook"), 30, "the webhook")
    victim = Victim(telegram, user_id=321)
    update = {"update_id": 77, "message": victim.message(text="stolen")["message"]}
    headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    async with httpx.AsyncClient(timeout=30) as client:
        posting = asyncio.create_task(
            client.post(settings.webhook_url, json=update, headers=headers)
        )
        await asyncio.wait_for(started.wait(), 30)
        for _ in range(50):
            await asyncio.sleep(0)
        assert not posting.done()  # a crash now leaves the call unanswered: Telegram retries
        release.set()
        answer = await asyncio.wait_for(posting, 30)
    assert answer.status_code == 200
    assert [event.target for event in await rows(register.db, AuditEvent)] == ["77"]
    stop.set()
    await asyncio.wait_for(serving, 30)


async def test_a_token_the_bot_api_refuses_stops_run_with_one_line(
    telegram: FakeTelegram, database, tmp_path: Path, monkeypatch, restore_logging
):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        telegram_bot_token="987654321:" + "x" * 35,
        telegram_api_base_url=telegram.base_url,
        database_url=database.url.render_as_string(hide_password=False),
        database_schema=database.schema,
        data_dir=tmp_path / "data",
    )
    with pytest.raises(CliError, match="refused TELEGRAM_BOT_TOKEN"):
        await run_command(argparse.Namespace(), settings)


async def test_run_refuses_a_database_without_the_schema(
    databases, tmp_path: Path, monkeypatch, restore_logging
):
    monkeypatch.chdir(tmp_path)
    empty = await databases.create(migrate=False)
    settings = load_settings(
        telegram_bot_token=TOKEN,
        database_url=empty.url.render_as_string(hide_password=False),
        database_schema=empty.schema,
        data_dir=tmp_path / "data",
    )
    with pytest.raises(SchemaOutdated, match="reportbot db upgrade"):
        await run_command(argparse.Namespace(), settings)


def test_run_without_a_token_says_so_in_one_line(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    assert cli.main(["run"]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "TELEGRAM_BOT_TOKEN is not set" in error


async def test_a_webhook_port_in_use_stops_run_with_one_line_and_nothing_left_running(
    telegram: FakeTelegram, register: Register, tmp_path: Path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = load_settings(
            telegram_bot_token=TOKEN,
            telegram_api_base_url=telegram.base_url,
            webhook_url=f"https://bot.example.org:{port}/hook",
            webhook_secret="s3cret",
            webhook_listen="127.0.0.1",
            webhook_port=port,
            data_dir=tmp_path / "data",
        )
        application = build_application(settings, register)
        with pytest.raises(CliError, match=f"cannot serve the webhook on 127.0.0.1:{port}"):
            await serve(application, settings)
    assert not application.running
    assert DELIVERY_KEY not in application.bot_data  # what post_init started was stopped


async def test_a_worker_that_could_outgrow_postgresqls_connections_is_warned_of(database, caplog):
    caplog.set_level(logging.WARNING, logger="reportbot.run")
    modest = ChatOrderedProcessor(8, db=database)
    greedy = ChatOrderedProcessor(1000, db=database)
    try:
        limit = await check_connections(modest, database)
        assert caplog.records == []
        if database.is_sqlite:
            assert limit is None  # one process, no turns: nothing to count
            return
        assert limit is not None and limit > 8 + database.max_connections
        assert await check_connections(greedy, database) == limit
    finally:
        await modest.shutdown()
        await greedy.shutdown()
    [warning] = [r.getMessage() for r in caplog.records]
    assert f"up to {1000 + database.max_connections} PostgreSQL connections" in warning
    assert f"max_connections {limit}" in warning and "MAX_CONCURRENT_CHATS" in warning
