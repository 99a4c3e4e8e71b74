"""Lost or stolen, asked plainly: what each answer says, what it stores, what filing tells."""

from __future__ import annotations

import re

from handlers.conversation import states
from handlers.texts import text
from tests.handlers.conftest import Victim, press, seed


def reference_in(victim: Victim) -> str:
    """The reference the bot showed when filing."""
    found = re.search(r"SPR-\w{4}-\w{2}", victim.texts())
    assert found, "no reference shown"
    return found.group()


async def test_a_lost_phone_gets_no_crime_advice_and_no_push_to_the_police(victim, register):
    await victim.walk(states.LOSS)
    asked = victim.seen[-1]
    assert "<b>stolen</b>" in asked.text and "<b>lost</b>" in asked.text
    assert [label for label, _ in asked.buttons] == [
        "Stolen from me, no force",
        "Taken with force or threats",
        "Lost, or I'm not sure",
    ]

    replies = await victim.press("Lost, or I'm not sure")

    assert "not a crime" in replies[0].text
    assert not re.search(r"\b101\b", victim.texts(replies))
    assert "robbery" not in victim.texts(replies)
    assert await victim.step() == states.TRACKED  # no "how was it taken?"
    answers = await victim.answers()
    assert (answers["loss_kind"], answers["theft_method"]) == ("lost", "lost")

    await victim.walk(states.REVIEW)
    assert "❓ How: Lost" in victim.seen[-1].text
    filed = await victim.press("✅ Submit report")
    shown = victim.texts(filed)
    assert "not a crime" in shown
    assert not re.search(r"\b101\b", shown) and "crime reference" not in shown
    assert "Report the theft to the police" not in shown
    report = await register.reports.get(reference_in(victim))
    assert (report.loss_kind, report.theft_method) == ("lost", "lost")


async def test_a_theft_from_the_person_asks_how_and_says_to_report_it(victim, register):
    await victim.walk(states.LOSS)
    replies = await victim.press("Stolen from me, no force")
    assert "How was it taken?" in replies[-1].text
    labels = [label for label, _ in replies[-1].buttons]
    assert "Pickpocketed" in labels and "I don't know" in labels
    assert "Force or threats" not in labels and "Lost / not sure" not in labels
    await victim.press("Pickpocketed")
    await victim.walk(states.REVIEW)
    assert "❓ How: Stolen – Pickpocketed" in victim.seen[-1].text

    shown = victim.texts(await victim.press("✅ Submit report"))

    assert "Report the theft to the police too" in shown and "on 101." in shown
    assert "<b>crime reference number</b>" in shown and "/status" in shown
    report = await register.reports.get(reference_in(victim))
    assert (report.loss_kind, report.theft_method) == ("theft_from_person", "pickpocket")


async def test_not_knowing_how_is_still_a_theft(victim, register):
    await victim.walk(states.HOW, **{states.LOSS: press("Stolen from me, no force")})
    await victim.press("I don't know")
    await victim.walk(states.REVIEW)
    await victim.press("✅ Submit report")
    report = await register.reports.get(reference_in(victim))
    assert (report.loss_kind, report.theft_method) == ("theft_from_person", None)


async def test_a_robbery_is_stored_as_one_and_filed_with_the_push(victim, register):
    await victim.walk(states.REVIEW, **{states.LOSS: press("Taken with force or threats")})
    assert "❓ How: Robbery (force or threats)" in victim.seen[-1].text
    shown = victim.texts(await victim.press("✅ Submit report"))
    assert "Report the theft to the police too" in shown
    report = await register.reports.get(reference_in(victim))
    assert (report.loss_kind, report.theft_method) == ("robbery", "force")


async def test_editing_how_asks_lost_or_stolen_again(victim, register):
    await victim.walk(states.REVIEW)
    await victim.press("✏️ How")
    assert await victim.step() == states.LOSS
    await victim.press("Lost, or I'm not sure")
    assert await victim.step() == states.REVIEW
    answers = await victim.answers()
    assert (answers["loss_kind"], answers["theft_method"]) == ("lost", "lost")
    await victim.press("✏️ How")
    await victim.press("Stolen from me, no force")
    assert await victim.step() == states.HOW
    assert "theft_method" not in await victim.answers()  # "lost" no longer fits


async def test_asked_and_answered_in_the_victim_s_language(application, victim):
    await seed(application, victim, states.LOSS, language="de", loss_kind=None, theft_method=None)
    asked = await victim.send("hallo")  # words where a button is wanted: asked again
    assert asked[-1].text == text("conversation.ask_loss", "de")
    replies = await victim.press("Verloren, oder unsicher")
    assert replies[0].text == text("conversation.lost_note", "de")
    assert (await victim.answers())["loss_kind"] == "lost"
