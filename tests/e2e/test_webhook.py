"""The real `reportbot run` as a webhook server: updates POSTed with the secret header."""

from __future__ import annotations

import signal

import httpx
import pytest

from tests.botapi import FakeTelegram
from tests.e2e.harness import WEBHOOK_SECRET, BotEnvironment
from tests.e2e.script import ScriptedVictim, Story
from tests.factories import imei

pytestmark = pytest.mark.slow

REFUSAL = "webhook request refused with 403"


async def test_a_victim_files_a_report_through_the_webhook(
    telegram: FakeTelegram, start_bot, environment: BotEnvironment
):
    bot = start_bot(webhook=True)
    await bot.start()
    [registered] = telegram.calls_of("setWebhook")
    assert registered.params["url"] == environment.webhook_url
    assert registered.params["secret_token"] == WEBHOOK_SECRET
    story = Story(imei=imei(202).digits, name="Jo Bloggs", phone="+33 6 12 34 56 78")
    victim = ScriptedVictim(telegram, story, user_id=900_002)

    await victim.play(bot, within=60)

    assert victim.reference is not None
    # The bot answers Telegram's call once the update is processed, just after its reply.
    await telegram.wait_until(lambda: not telegram.pending, 30, "the last call's answer")
    assert all(delivery.status == 200 for delivery in telegram.deliveries[-5:])
    assert await bot.stop() == 0
    lookup = await environment.acli("lookup", story.imei)
    assert lookup.returncode == 0, lookup.stderr
    assert victim.reference in lookup.stdout


async def test_a_wrong_or_missing_secret_is_refused_and_logged_once(
    telegram: FakeTelegram, start_bot, environment: BotEnvironment
):
    bot = start_bot(webhook=True)
    await bot.start()
    victim = ScriptedVictim(telegram, Story(imei="", name="", phone=""), user_id=900_003)
    victim.waiting = True
    await victim.send("/help")  # answered: the webhook server is up
    url = environment.webhook_url
    assert url is not None
    update = {"update_id": 1, "message": victim.message(text="/cancel")["message"]}

    async with httpx.AsyncClient(timeout=10) as client:
        wrong = await client.post(
            url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guessed-secret"}
        )
        missing = await client.post(url, json=update)
        again = await client.post(
            url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "another-guess"}
        )
        right = await client.post(
            url,
            json={**update, "update_id": 2},
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
        )

    assert (wrong.status_code, missing.status_code, again.status_code) == (403, 403, 403)
    assert right.status_code == 200
    assert await bot.stop(signal.SIGINT) == 0  # Ctrl-C stops as cleanly as SIGTERM
    log = bot.output()
    assert log.count(REFUSAL) == 1
    assert "guessed-secret" not in log
    assert "another-guess" not in log
    assert WEBHOOK_SECRET not in log
