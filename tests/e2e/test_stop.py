"""SIGTERM under load: the bot exits 0 within its stop grace and loses nothing it was given.

The real `reportbot run` (long polling) is serving victims whose replies Telegram never answers
(their sends hang), with more of their updates queued behind, and is delivering a bulk
recovery's notifications. SIGTERM then: the process must exit 0 while those sends still hang
(without the bound it would wait for them for ever), and every update it was given must still
be with Telegram, which hands it over again: after a restart each victim carries on, and every
notification is delivered, once.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter

import pytest

from bot.local_api import ApiCall
from models.register import Register
from tests.botapi import FakeTelegram
from tests.e2e.harness import BotEnvironment
from tests.e2e.script import step_of
from tests.e2e.victim import Victim as BaseVictim
from tests.followup_fixtures import many_reports, notifications, recover_all

pytestmark = pytest.mark.slow


class Victim(BaseVictim):
    """A victim who remembers the update id of everything they sent."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sent: list[int] = []

    async def deliver(self, payload, *, update_id=None) -> int:
        self.sent.append(await super().deliver(payload, update_id=update_id))
        return self.sent[-1]


GRACE = 2
# Beyond the grace: confirming to Telegram (at most 2 s) and closing, with room for a busy machine.
EXIT_WITHIN = GRACE + 12
VICTIMS = 4
MESSAGES = ("hello", "I need help", "my phone was stolen", "hello?", "anyone?")
NOTIFIED = 150  # at 28 a second, about five seconds of delivery: still going at SIGTERM
RECOVERED = "has been recovered"


async def test_sigterm_under_load_exits_within_the_grace_and_hands_back_the_rest(
    telegram: FakeTelegram,
    start_bot,
    environment: BotEnvironment,
    e2e_register: Register,
):
    environment.extra["STOP_GRACE_SECONDS"] = str(GRACE)
    victims = [Victim(telegram, user_id=930_000 + n) for n in range(VICTIMS)]
    hung = {victim.chat_id for victim in victims}
    held: list[ApiCall] = []
    answer_them = asyncio.Event()

    async def telegram_hangs_on_the_victims(call: ApiCall) -> None:
        if call.method == "sendMessage" and int(call.params["chat_id"]) in hung:
            held.append(call)
            telegram.notify()
            await answer_them.wait()

    telegram.on_call = telegram_hangs_on_the_victims
    made = await many_reports(e2e_register, [940_000 + n for n in range(NOTIFIED)])
    assert await recover_all(e2e_register, made) == NOTIFIED

    bot = start_bot()
    await bot.start()
    delivered = lambda: sum(RECOVERED in (c.params.get("text") or "") for c in telegram.calls)  # noqa: E731
    await telegram.wait_until(lambda: delivered() >= 10, 60, "notifications to be on their way")
    for victim in victims:
        victim.waiting = False
        for words in MESSAGES:  # typed in a hurry: the later ones queue in the chat's line
            await victim.send(words)
    sent_by_victims = {victim.chat_id: victim.sent for victim in victims}
    everything = {update_id for ids in sent_by_victims.values() for update_id in ids}
    await telegram.wait_until(
        lambda: len(held) == VICTIMS and everything <= set(telegram.taken_by),
        60,
        "every victim's first reply to hang and the rest to be fetched",
    )

    # Without the bound the stop would wait for every queued update, each reply hanging until
    # the bot's own timeout: far longer than EXIT_WITHIN.
    code = await asyncio.wait_for(bot.stop(), EXIT_WITHIN)

    log = bot.output()
    assert code == 0, log[-3000:]
    assert "exc=" not in log, log[-3000:]
    assert 'msg="work in flight finished"' in log
    # Nothing it was given is lost: what it confirmed to Telegram it had handled, the rest
    # Telegram still holds and hands over again.
    [*_, last_poll] = telegram.calls_of("getUpdates")
    confirmed_below = int(last_poll.params["offset"])
    handled = {int(n) for n in re.findall(r'msg="update handled" update_id=(\d+)', log)}
    pending = {update["update_id"] for update in telegram.pending}
    assert {u for u in everything if u < confirmed_below} <= handled
    assert {u for u in everything if u >= confirmed_below} <= pending
    assert pending & everything, "some updates were handed back"
    # ...and every notification not sent yet is still in the outbox, none given up.
    states = Counter(row.state for row in await notifications(e2e_register))
    assert set(states) <= {"delivered", "pending"} and states["pending"] > 0, states
    assert sum(states.values()) == NOTIFIED

    answer_them.set()
    telegram.on_call = None
    await bot.start()
    await telegram.wait_until(lambda: not telegram.pending, 90, "every update to be handled")
    for victim in victims:
        latest = await victim.expect(lambda m: step_of(m) is not None, what="a question")
        assert step_of(latest) is not None
    await telegram.wait_until(lambda: delivered() >= NOTIFIED, 60, "every notification")
    assert await bot.stop() == 0

    sent = Counter(
        int(call.params["chat_id"])
        for call in telegram.calls
        if call.method == "sendMessage" and RECOVERED in (call.params.get("text") or "")
    )
    assert sent == Counter({m.chat_id: 1 for m in made})  # each once, none twice
    assert {row.state for row in await notifications(e2e_register)} == {"delivered"}
