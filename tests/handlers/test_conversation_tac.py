"""The TAC check in the conversation: a make the IMEI's TAC contradicts is asked about gently."""

from __future__ import annotations

import re

import pytest

from handlers.conversation import states
from handlers.texts import text
from models.present.sheet import render_text, report_sheet
from tests.handlers.conftest import Victim, seed, send
from tests.models.services.test_tac import imei_with, osmocom

SAMSUNG_TAC = "35332211"
APPLE_TAC = "35209900"


@pytest.fixture
async def tac_table(register, tmp_path):
    """A small TAC table: one Apple TAC, one Samsung TAC."""
    path = osmocom(
        tmp_path / "tacdb.csv",
        f"{APPLE_TAC},Apple,iPhone 15 Pro,someone,,,,",
        f'{SAMSUNG_TAC},"Samsung Korea","Galaxy S23",someone,,,,',
    )
    await register.tac.import_file(path, actor="cli:test")


def reference_in(victim: Victim) -> str:
    return re.search(r"SPR-\w{4}-\w{2}", victim.texts()).group()


async def test_a_samsung_imei_on_an_apple_report_is_asked_about(victim, register, tac_table):
    samsung = imei_with(SAMSUNG_TAC)
    await victim.walk(states.IMEI_OK, **{states.IMEI: send(samsung.digits)})
    asked = await victim.press("Yes, that's right")
    assert await victim.step() == states.TAC_OK
    assert asked[-1].text == (
        "One thing to check: this IMEI belongs to a <b>Samsung Korea Galaxy S23</b>. "
        "Is that your phone?"
    )
    assert [label for label, _ in asked[-1].buttons] == [
        "Yes, it's a Samsung Korea",
        "No, my answer was right",
        "Let me check the IMEI",
    ]

    await victim.press("Yes, it's a Samsung Korea")

    answers = await victim.answers()
    assert (answers["make"], answers["platform"]) == ("samsung", "android")
    assert await victim.step() == states.IMEI2
    await victim.walk(states.REVIEW)
    assert "📱 Phone: Samsung" in victim.seen[-1].text
    await victim.press("✅ Submit report")
    report = await register.reports.get(reference_in(victim))
    assert (report.make, report.tac_make, report.tac_mismatch) == (
        "samsung",
        "Samsung Korea",
        False,
    )


async def test_keeping_the_make_flags_the_report_for_staff(victim, register, tac_table):
    samsung = imei_with(SAMSUNG_TAC)
    await victim.walk(states.TAC_OK, **{states.IMEI: send(samsung.digits)})
    await victim.press("No, my answer was right")
    assert (await victim.answers())["tac_kept_against"] == "Samsung Korea Galaxy S23"
    await victim.walk(states.REVIEW)
    await victim.press("✅ Submit report")

    report = await register.reports.get(reference_in(victim))
    assert (report.make, report.tac_mismatch) == ("apple", True)
    events = await register.search.events(report.id)
    sheet = render_text(report_sheet(report, events=events, with_contact=False), text)
    assert "! TAC says:" in sheet and "does not match the make given" in sheet
    kept = "victim kept the make given, though the IMEI was shown as a Samsung Korea Galaxy S23"
    assert kept in sheet
    assert any(
        event.kind == "tac_make_kept" and event.detail == "Samsung Korea Galaxy S23"
        for event in events
    )


async def test_checking_the_imei_again(victim, tac_table):
    await victim.walk(states.TAC_OK, **{states.IMEI: send(imei_with(SAMSUNG_TAC).digits)})
    await victim.press("Let me check the IMEI")
    assert await victim.step() == states.IMEI
    apple = imei_with(APPLE_TAC)
    await victim.send(apple.digits)
    await victim.press("Yes, that's right")
    assert await victim.step() == states.IMEI2  # the TAC agrees: nothing asked


async def test_nothing_is_asked_without_a_table_or_when_it_agrees(victim, register):
    await victim.walk(states.IMEI2, **{states.IMEI: send(imei_with(SAMSUNG_TAC).digits)})
    assert "tac_kept_against" not in await victim.answers()


async def test_asked_in_the_victim_s_language(application, victim, tac_table):
    samsung = imei_with(SAMSUNG_TAC)
    await seed(
        application, victim, states.IMEI_OK, language="fr", pending_imei=samsung.digits, imeis=[]
    )
    await victim.send("bonjour")  # words while the IMEI is read back: asked to tap
    asked = await victim.press(text("conversation.button_imei_right", "fr"))
    assert asked[-1].text == text("conversation.ask_tac", "fr", phone="Samsung Korea Galaxy S23")
    await victim.press("Oui, c'est un Samsung Korea")
    assert (await victim.answers())["make"] == "samsung"
