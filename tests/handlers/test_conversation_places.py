"""Typed places and pins in the conversation: words required, pins checked, places mapped."""

from __future__ import annotations

import re

import pytest

from handlers.conversation import states
from handlers.texts import text
from tests.followup_fixtures import file_report
from tests.handlers.conftest import pin, press, send

NO_WORDS = text("errors.text_no_words", "en")


@pytest.mark.parametrize("typed", ["📍📍📍", "12345", "!!! ...", "🚇 42"])
async def test_a_place_without_words_is_asked_again(victim, typed):
    await victim.walk(states.WHERE)
    replies = await victim.send(typed)
    assert replies[0].text == NO_WORDS
    assert await victim.step() == states.WHERE and "place" not in await victim.answers()
    await victim.send("Oxford Circus 🚇")
    assert (await victim.answers())["place"] == "Oxford Circus 🚇"


async def test_a_model_or_a_tracked_place_without_words_is_asked_again(victim):
    await victim.walk(states.MODEL)
    assert (await victim.send("15"))[0].text == NO_WORDS
    await victim.send("iPhone 15")
    assert (await victim.answers())["model"] == "iPhone 15"
    await victim.walk(states.TRACKED_WHERE, **{states.TRACKED: press("Yes, I can see it")})
    assert (await victim.send("😀😀"))[0].text == NO_WORDS
    assert await victim.step() == states.TRACKED_WHERE


async def test_a_pin_that_cannot_be_right_is_refused(victim):
    await victim.walk(states.WHERE)
    replies = await victim.do(pin(0.0, 0.0))
    assert "0, 0" in replies[0].text and await victim.step() == states.WHERE
    assert "incident_lat" not in await victim.answers()


async def test_a_pin_outside_the_service_area_is_kept_with_a_warning(victim):
    await victim.walk(states.WHERE)
    far = await victim.do(pin(53.4808, -2.2426))  # Manchester
    assert far[0].text == text("conversation.pin_outside_area", "en")
    answers = await victim.answers()
    assert (answers["incident_lat"], answers["incident_lon"]) == (53.4808, -2.2426)
    assert await victim.step() == states.WHERE_NOTE
    near = await victim.do(pin(51.5142, -0.1494))  # a second pin, in London: no warning
    assert all(m.text != text("conversation.pin_outside_area", "en") for m in near)


async def test_a_typed_place_is_put_on_the_map_at_filing(victim, register, tmp_path):
    gazetteer = tmp_path / "places.csv"
    gazetteer.write_text("name,lat,lon\nOxford Circus,51.5152,-0.1418\n", encoding="utf-8")
    await register.gazetteer.import_files([gazetteer], actor="cli:test")

    await victim.file(**{states.WHERE: send("oxford circus station")})

    reference = re.search(r"SPR-\w{4}-\w{2}", victim.texts()).group()
    report = await register.reports.get(reference)
    assert report.get("place") == "oxford circus station"
    assert (report.incident_lat, report.incident_lon) == (51.5152, -0.1418)
    assert (report.incident_point_source, report.incident_point_precision) == (
        "places_csv",
        "place",
    )


async def test_a_follow_up_place_without_words_is_asked_again(register, make_user):
    filed = await file_report(register)
    user = make_user(user_id=8101)
    await user.send(f"/status {filed.reference} {filed.access_code}")
    await user.press("📍 Add tracked location")
    [bad] = await user.send("🙂🙂🙂")
    assert "type the place in a few words" in bad.text
