"""The fake Telegram itself, driven by python-telegram-bot's own HTTP client."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict, InvalidToken

from tests.botapi import FakeTelegram
from tests.e2e.driver import Stamped, WebhookTelegram
from tests.e2e.harness import TOKEN
from tests.e2e.victim import Victim


@pytest.fixture
async def bot(telegram: FakeTelegram):
    """A PTB Bot talking HTTP to the fake Telegram."""
    base = telegram.base_url
    async with Bot(TOKEN, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot") as client:
        yield client


async def test_messages_are_sent_edited_and_deleted_over_http(bot: Bot, telegram: FakeTelegram):
    assert (await bot.get_me()).username == "StolenPhoneReportBot"
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="c:t:s:yes")]])
    sent = await bot.send_message(42, "Is this <b>yours</b>?", reply_markup=keyboard)
    assert telegram.bot_messages(42)[0].buttons == [("Yes", "c:t:s:yes")]

    await bot.edit_message_reply_markup(42, sent.message_id, reply_markup=None)
    await bot.edit_message_text("[1] a text that looks like JSON", 42, sent.message_id)
    [shown] = telegram.bot_messages(42)
    assert (shown.text, shown.buttons) == ("[1] a text that looks like JSON", [])

    second = await bot.send_message(42, "second")
    third = await bot.send_message(42, "third")
    assert await bot.delete_message(42, sent.message_id)
    assert await bot.delete_messages(42, [second.message_id, third.message_id])
    assert telegram.bot_messages(42) == []
    with pytest.raises(BadRequest, match="not found"):
        await bot.delete_message(42, sent.message_id)
    assert await bot.answer_callback_query("17")
    assert await bot.set_my_commands([("start", "Report a stolen phone")])


async def test_documents_are_uploaded_and_files_downloaded(bot: Bot, telegram: FakeTelegram):
    message = await bot.send_document(42, b"reference,status\r\n", filename="export.csv")
    [shown] = telegram.bot_messages(42)
    assert telegram.files[shown.document or ""] == b"reference,status\r\n"

    uploaded = telegram.add_file(b"353918100000005\n")
    file = await bot.get_file(uploaded)
    assert bytes(await file.download_as_bytearray()) == b"353918100000005\n"
    assert message.document is not None


async def test_a_long_poll_returns_as_soon_as_an_update_is_queued(bot: Bot, telegram: FakeTelegram):
    victim = Victim(telegram, user_id=5)
    victim.waiting = False
    polling = asyncio.create_task(bot.get_updates(timeout=20))
    await telegram.wait_until(lambda: telegram.calls_of("getUpdates"), 10, "the long poll")
    await victim.send("hello")
    # The poll asked for 20 s; it must come back with the update well before that.
    [update] = await asyncio.wait_for(polling, 10)
    assert update.message.text == "hello"
    assert not telegram.is_confirmed(update.update_id)

    # The next poll's offset confirms it; nothing new arrives before its timeout.
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert telegram.is_confirmed(update.update_id)


async def test_polling_is_refused_while_a_webhook_is_set_and_bad_tokens_are_refused(
    bot: Bot, telegram: FakeTelegram
):
    assert await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="s")
    with pytest.raises(Conflict):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == ()

    base = telegram.base_url
    stranger = Bot("1:" + "y" * 35, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot")
    try:
        with pytest.raises(InvalidToken):
            await stranger.initialize()
    finally:
        await stranger.shutdown()


async def test_a_call_the_bot_hung_up_on_is_told_apart_from_one_it_waits_for():
    telegram = WebhookTelegram(TOKEN)
    await telegram.start()
    try:
        base = telegram.base_url
        async with Bot(TOKEN, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot") as bot:
            await bot.send_message(42, "waited for")
        # A call sent, then given up on (a timeout, a killed process) before the fake reads it:
        # the fake's event loop does not run until the connection is closed.
        body = json.dumps({"chat_id": 42, "text": "hung up on"}).encode()
        head = (
            f"POST /bot{TOKEN}/sendMessage HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        with socket.create_connection(("127.0.0.1", telegram.port)) as raw:
            raw.sendall(head.encode() + body)

        def sent() -> list[Stamped]:
            return [call for call in telegram.stamped if call.method == "sendMessage"]

        await telegram.wait_until(lambda: len(sent()) == 2, 10, "the second call")
        assert [(call.params["text"], call.caller_gone) for call in sent()] == [
            ("waited for", False),
            ("hung up on", True),
        ]
        # Telegram still carries out a call whose answer nobody reads.
        assert [message.text for message in telegram.bot_messages(42)] == [
            "waited for",
            "hung up on",
        ]
    finally:
        await telegram.stop()
