"""kill -9 at random moments while 20 victims report at once: nothing lost, nothing twice.

The bot process (long polling) is killed with SIGKILL after a random number of Bot API calls,
then started again, several times over. Every victim answers whatever the bot asks; a message
that died with a process is followed by a "hello?" (as a person would write). At the end:
every victim who saw a reference has exactly one report with that reference, no report exists
twice, every victim who stopped half-way can continue their draft where they left it, and no
victim message was lost (each one a victim had to follow up had been processed).
"""

from __future__ import annotations

import asyncio
import os
import random

import pytest
from sqlalchemy import func, select

from handlers.conversation import states
from models.register import Register
from models.storage.tables import ProcessedUpdate, Report
from models.values.imei import Imei
from tests.botapi import FakeTelegram
from tests.e2e.harness import BotEnvironment, BotProcess
from tests.e2e.script import ScriptedVictim, Story, step_of, varied_story
from tests.factories import imei

pytestmark = pytest.mark.slow

VICTIMS = 20
# Victims who leave their draft unfinished at these steps; the others file.
STOPS = (states.IMEI2, states.WHEN, states.HOW, states.CONTACT_PHONE, states.REVIEW)
KILLS = 6
CALLS_BETWEEN_KILLS = (15, 90)
PLAY_SECONDS = 180.0


def stories(seed: int) -> list[Story]:
    """Twenty victims, each with their own IMEI and number; some of them stop half-way."""
    return [
        varied_story(n, imei(seed * 100 + n).digits, stop_at=STOPS[n] if n < len(STOPS) else None)
        for n in range(VICTIMS)
    ]


def work_calls(telegram: FakeTelegram) -> int:
    """How many Bot API calls other than getUpdates the bot has made."""
    return sum(call.method != "getUpdates" for call in telegram.calls)


async def kill_at_random_moments(
    bot: BotProcess, telegram: FakeTelegram, rng: random.Random, done: asyncio.Event
) -> int:
    """SIGKILL the bot after a random number of its calls, restart it; returns the kills."""
    kills = 0
    while kills < KILLS and not done.is_set():
        # Counted in the bot's calls that do something (not its polls, whose number depends
        # on how the poller waits).
        target = work_calls(telegram) + rng.randint(*CALLS_BETWEEN_KILLS)
        try:
            await telegram.wait_until(
                lambda target=target: work_calls(telegram) >= target or done.is_set(),
                PLAY_SECONDS,
                "the bot to be busy",
            )
        except TimeoutError:
            break
        if done.is_set():
            break
        await bot.kill()
        kills += 1
        await bot.start()
    return kills


async def test_kill_9_while_twenty_victims_report_loses_and_doubles_nothing(
    telegram: FakeTelegram,
    start_bot,
    environment: BotEnvironment,
    e2e_register: Register,
):
    seed = int(os.environ.get("E2E_CRASH_SEED") or random.randrange(1_000_000))
    rng = random.Random(seed)
    bot = start_bot()
    await bot.start()
    victims = [
        ScriptedVictim(telegram, story, user_id=910_000 + n, first_name=f"V{n}")
        for n, story in enumerate(stories(seed))
    ]
    done = asyncio.Event()
    plays = [asyncio.create_task(victim.play(bot, within=PLAY_SECONDS)) for victim in victims]
    all_played = asyncio.gather(*plays)
    all_played.add_done_callback(lambda _: (done.set(), telegram.notify()))
    killer = asyncio.create_task(kill_at_random_moments(bot, telegram, rng, done))

    try:
        await asyncio.wait_for(asyncio.shield(all_played), PLAY_SECONDS + 30)
    except BaseException:
        for victim in victims:
            print(victim.chat_id, victim.story.stop_at, victim.reference, victim.describe())
        raise
    finally:
        done.set()
        telegram.notify()
        kills = await killer
    log = bot.output()
    summary = (
        f"seed={seed} kills={kills} starts={bot.starts} "
        f"nudges={sum(v.nudges for v in victims)} "
        f"unanswered={sum(len(v.unanswered) for v in victims)} "
        f"skipped_redeliveries={log.count('already processed')}"
    )
    print(summary)
    assert kills >= 3, summary

    filers = [v for v in victims if v.story.stop_at is None]
    leavers = [v for v in victims if v.story.stop_at is not None]
    for victim in filers:
        assert victim.reference is not None, summary
        reports = await e2e_register.reports.find_by_imei(Imei.parse(victim.story.imei))
        assert [report.reference for report in reports] == [victim.reference], summary
    for victim in leavers:
        assert victim.reference is None
        assert victim.stopped_at == victim.story.stop_at
        assert await e2e_register.reports.find_by_imei(Imei.parse(victim.story.imei)) == []
    async with e2e_register.db.read() as session:
        total = (await session.execute(select(func.count()).select_from(Report))).scalar_one()
        processed = (
            await session.execute(select(func.count()).select_from(ProcessedUpdate))
        ).scalar_one()
    assert total == len(filers), summary  # no report twice, none from nowhere
    assert processed > 0
    # No victim message was lost: Telegram is told an update is done only once it is, so each
    # one the bot left unanswered was processed (its effect is stored); what a kill can cut is
    # the reply, when it lands between storing the effect and answering.
    async with e2e_register.db.read() as session:
        recorded = set((await session.execute(select(ProcessedUpdate.update_id))).scalars())
    unanswered = {update_id for victim in victims for update_id in victim.unanswered}
    lost = sorted(unanswered - recorded)
    print(f"lost={len(lost)} unanswered_but_processed={len(unanswered & recorded)}")
    assert lost == [], summary

    # After a clean restart, every unfinished draft continues where it was left.
    assert await bot.stop() == 0
    await bot.start()
    for victim in leavers:
        question = await victim.resume()
        assert step_of(question) == victim.stopped_at, summary
    assert await bot.stop() == 0
