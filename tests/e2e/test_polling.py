"""The real `reportbot run` by long polling: a victim files a whole report over HTTP."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from models.register import Register
from models.storage.tables import ProcessedUpdate
from models.values.imei import Imei
from tests.botapi import FakeTelegram
from tests.e2e.harness import TOKEN, BotEnvironment
from tests.e2e.script import ScriptedVictim, Story
from tests.factories import imei

pytestmark = pytest.mark.slow

STORY = Story(
    imei=imei(101).digits,
    name="Alex <b>Example</b> & Co",
    phone="07912 345678",
    model="iPhone 15 Pro",
    colour="blue, cracked corner",
    number="07400 123456",
    network="Vodafone",
    place=(51.5142, -0.1494),
    place_note="outside the Bond Street station exit",
    tracked=(51.5226, -0.1571),
    email="alex@example.org",
)


def assert_log_is_clean(log: str, story: Story) -> None:
    """No full IMEI, phone number, typed text of the victim or bot token in the bot's log."""
    for secret in (story.imei, "07400123456", "7400123456", "7912345678", TOKEN):
        assert secret not in log.replace(" ", ""), secret
    for typed in (story.name, story.model, story.colour, story.place_note, story.email):
        assert typed is not None
        assert typed not in log


async def test_a_victim_files_a_report_by_polling_then_staff_find_and_export_it(
    telegram: FakeTelegram, start_bot, environment: BotEnvironment, e2e_register: Register
):
    bot = start_bot()
    await bot.start()
    victim = ScriptedVictim(telegram, STORY, user_id=900_001, first_name="Sam")

    await victim.play(bot, within=60)

    reference = victim.reference
    assert reference is not None

    # A restart before the offset was confirmed: Telegram hands the last answers (Submit among
    # them) to the new process again. They are acknowledged and nothing happens twice; the
    # chat's next message is answered after them, in order.
    assert await bot.stop() == 0
    replayed = sorted(telegram.history)[-3:]
    for update_id in replayed:
        telegram.redeliver(update_id)
    await bot.start()
    shown = len(victim.messages)
    victim.waiting = True
    await victim.send("/help")
    assert len(victim.messages) == shown + 1
    # An update is recorded by its first write; one with no effect (a press on a button already
    # answered, which only gets a pop-up) is not, and running it again changes nothing.
    stored = await recorded_updates(e2e_register)
    assert bot.output().count("update already processed") == len(set(replayed) & stored)

    assert await bot.stop() == 0
    assert "bot stopped" in bot.output()
    assert telegram.pending == []  # every update was taken, and confirmed at shutdown

    lookup = await environment.acli("lookup", STORY.imei)
    assert lookup.returncode == 0, lookup.stderr
    assert reference in lookup.stdout
    assert "submitted" in lookup.stdout

    export = await environment.acli("export", "--format", "csv")
    assert export.returncode == 0, export.stderr
    rows = list(csv.DictReader(io.StringIO(export.stdout.removeprefix("\ufeff"))))
    assert [row["reference"] for row in rows] == [reference]
    assert STORY.imei in export.stdout

    [report] = await e2e_register.reports.find_by_imei(Imei.parse(STORY.imei))
    assert report.reference == reference
    assert report.get("contact_name") == STORY.name
    assert report.get("contact_phone") == "+447912345678"
    assert report.tracked_lat == pytest.approx(51.5226)
    assert report.own_account

    assert_log_is_clean(bot.output(), STORY)


async def recorded_updates(register: Register) -> set[int]:
    """The updates whose effect is stored."""
    async with register.db.read() as session:
        return set((await session.execute(select(ProcessedUpdate.update_id))).scalars())
