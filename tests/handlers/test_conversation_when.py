"""When it happened, as the earliest and latest possible time: typed, shown back, stored."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from handlers.context import HandlerConfig
from handlers.conversation import states
from handlers.texts import text
from models.storage.columns import utcnow
from tests.handlers.conftest import press, seed

LONDON = HandlerConfig().zone


def yesterday() -> datetime:
    """Yesterday, London time."""
    return utcnow().astimezone(LONDON) - timedelta(days=1)


async def test_a_typed_window_is_shown_back_then_kept_and_filed(victim, register):
    await victim.walk(states.WHEN_DATE, **{states.WHEN: press("Another day")})
    asked = victim.seen[-1].text
    assert (
        "<i>yesterday between 18:00 and 18:30</i>" in asked
        and "<i>some time yesterday</i>" in asked
    )

    shown = await victim.send("yesterday between 18:00 and 18:30")

    day = yesterday()
    assert shown[-1].text.startswith(f"I read: <b>{day.strftime('%a, %-d %b %Y')}, between 18:00")
    assert [label for label, _ in shown[-1].buttons] == ["Yes, that's right", "No, type it again"]
    assert "incident_from" not in await victim.answers()  # nothing kept before it is confirmed
    await victim.press("Yes, that's right")
    answers = await victim.answers()
    start = datetime.fromisoformat(answers["incident_from"]).astimezone(LONDON)
    end = datetime.fromisoformat(answers["incident_to"]).astimezone(LONDON)
    assert (start.strftime("%d %H:%M"), end.strftime("%d %H:%M")) == (
        day.strftime("%d 18:00"),
        day.strftime("%d 18:30"),
    )
    assert answers["incident_exact"] is False and await victim.step() == states.WHERE

    await victim.walk(states.REVIEW)
    assert "between 18:00 and 18:30" in victim.seen[-1].text
    filed = await victim.press("✅ Submit report")
    reference = re.search(r"SPR-\w{4}-\w{2}", victim.texts(filed)).group()
    report = await register.reports.get(reference)
    assert report.incident_from.astimezone(LONDON).strftime("%H:%M") == "18:00"
    assert report.incident_to.astimezone(LONDON).strftime("%H:%M") == "18:30"
    assert report.incident_at.astimezone(LONDON).strftime("%H:%M") == "18:15"


async def test_some_time_yesterday_is_the_whole_day(victim, register):
    await victim.walk(states.WHEN)
    shown = await victim.send("some time yesterday")
    assert shown[-1].text.startswith("I read: <b>some time on ")
    await victim.press("Yes, that's right")
    answers = await victim.answers()
    start = datetime.fromisoformat(answers["incident_from"]).astimezone(LONDON)
    end = datetime.fromisoformat(answers["incident_to"]).astimezone(LONDON)
    assert start.strftime("%H:%M") == "00:00" and end.strftime("%H:%M:%S") == "23:59:59"
    assert start.date() == yesterday().date()
    assert answers["incident_whole_day"] is True


async def test_no_types_it_again_and_the_future_is_asked_again(victim):
    await victim.walk(states.WHEN)
    await victim.send("yesterday 18:30")
    again = await victim.press("No, type it again")
    assert await victim.step() == states.WHEN_DATE and "Which day" in again[-1].text
    future = await victim.send("tomorrow 10:00")
    assert "in the future" in future[0].text and await victim.step() == states.WHEN_DATE
    reversed_ = await victim.send("yesterday between 19:00 and 18:00")
    assert "latest time is before the earliest" in reversed_[0].text
    corrected = await victim.send("yesterday between 18:00 and 19:00")
    assert await victim.step() == states.WHEN_OK and "between 18:00 and 19:00" in corrected[-1].text
    retyped = await victim.send("yesterday 17:00")  # a new answer while reading back
    assert "17:00" in retyped[-1].text and await victim.step() == states.WHEN_OK


async def test_the_last_hour_is_a_window_up_to_now(victim):
    await victim.walk(states.WHEN)
    await victim.press("In the last hour")
    answers = await victim.answers()
    start, end = (datetime.fromisoformat(answers[k]) for k in ("incident_from", "incident_to"))
    assert end - start == timedelta(hours=1) and utcnow() - end < timedelta(minutes=1)
    assert await victim.step() == states.WHERE


async def test_in_the_victim_s_language(application, victim):
    await seed(application, victim, states.WHEN, language="es")
    shown = await victim.send("ayer entre las 18:00 y las 18:30")
    day = yesterday()
    assert shown[-1].text.startswith("He entendido: <b>")
    assert "entre las 18:00 y las 18:30" in shown[-1].text
    assert day.strftime("%Y") in shown[-1].text
    refused = await victim.send("mañana")
    assert refused[0].text.startswith(text("errors.when_future", "es", moment="X").split("X")[0])
