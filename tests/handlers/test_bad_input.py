"""Wrong input at every step gets a polite re-ask: never a crash, never a lost or changed draft."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.local_api import ChatMessage
from handlers.context import HandlerConfig
from handlers.conversation import states
from handlers.conversation.turn import QUESTIONS
from models.storage.columns import utcnow
from tests.handlers.conftest import FIRST_IMEI, STOLEN_NUMBER, Victim, seed

Send = Callable[[Victim], Awaitable[list[ChatMessage]]]

INVISIBLE = "\u200b\u200c\u200f\u202e\u2066\ufeff"
WRONG_CHECK_DIGIT = FIRST_IMEI.digits[:14] + str((int(FIRST_IMEI.digits[14]) + 1) % 10)
LOCAL = HandlerConfig().zone


def typed_day(days: int) -> str:
    """A day DAYS from today (negative: ago), typed with its year, at 10:00."""
    return (utcnow() + timedelta(days=days)).astimezone(LOCAL).strftime("%d/%m/%Y 10:00")


def kinds(step: str) -> dict[str, Send]:
    """The wrong inputs that apply at STEP (a valid kind of answer is not a wrong one)."""
    question = QUESTIONS[step]
    wrong: dict[str, Send] = {
        "sticker": lambda v: v.user.send_sticker(),
        "photo": lambda v: v.user.send_photo(),
        "voice": lambda v: v.user.send_voice(),
        "contact": lambda v: v.user.send_contact("+447700900123", "Lender"),
    }
    if question.on_location is None:
        wrong["pin"] = lambda v: v.user.send_location(51.5, -0.1)
    if question.on_text is None:
        wrong["text where a button is expected"] = lambda v: v.user.send("Apple")
    else:
        wrong["5,000 characters"] = lambda v: v.user.send("x" * 5000)
        wrong["only invisible characters"] = lambda v: v.user.send(INVISIBLE)
    return wrong


SPECIAL: dict[str, dict[str, Send]] = {
    states.IMEI: {
        "wrong check digit": lambda v: v.user.send(WRONG_CHECK_DIGIT),
        "all the same digit": lambda v: v.user.send("111111111111111"),
        "letters": lambda v: v.user.send("my imei is 35"),
    },
    states.IMEI_OK: {"wrong check digit": lambda v: v.user.send(WRONG_CHECK_DIGIT)},
    states.IMEI2: {
        "wrong check digit": lambda v: v.user.send(WRONG_CHECK_DIGIT),
        "same as the first": lambda v: v.user.send(FIRST_IMEI.grouped),
    },
    states.IMEI2_OK: {"same as the first": lambda v: v.user.send(FIRST_IMEI.digits)},
    states.NUMBER: {"words": lambda v: v.user.send("I don't remember")},
    states.CONTACT_PHONE: {
        "the stolen number": lambda v: v.user.send(STOLEN_NUMBER),
        "the stolen number, international": lambda v: v.user.send("+44 7400 123456"),
        "too short": lambda v: v.user.send("0791"),
        "a shared contact": lambda v: v.user.send_contact("+447911123456", "Lender"),
    },
    states.CONTACT_NAME: {"digits only": lambda v: v.user.send("12345")},
    states.CONTACT_EMAIL: {"not an email": lambda v: v.user.send("alex at example")},
    states.WHEN: {
        "a future date": lambda v: v.user.send(typed_day(2)),
        "over a year ago": lambda v: v.user.send(typed_day(-400)),
        "no such date": lambda v: v.user.send("31/02/2026 10:00"),
        "no time at all": lambda v: v.user.send("a while ago"),
    },
    states.WHEN_TIME: {
        "a future date": lambda v: v.user.send(typed_day(2)),
        "no such time": lambda v: v.user.send("25:70"),
    },
    states.WHEN_DATE: {
        "a future date": lambda v: v.user.send(typed_day(3)),
        "over a year ago": lambda v: v.user.send(typed_day(-500)),
    },
    states.TRACKED_WHEN: {"a future date": lambda v: v.user.send(typed_day(2))},
}

# Steps a victim can be at (the finished ones answer everything with their own prompt).
STEPS = [name for name in QUESTIONS if name not in states.FINISHED]


def old_button(step: str) -> str:
    """A step whose buttons, pressed now, come from an earlier question."""
    return states.MAKE if step != states.MAKE else states.HOW


@pytest.mark.parametrize("step", STEPS)
async def test_wrong_input_is_asked_again_at_every_step(step, application, victim, caplog):
    draft = await seed(application, victim, step, when_day=utcnow().date().isoformat())
    reference = await victim.send("/help")
    question = reference[-1]
    before = await victim.answers()
    tried = {**kinds(step), **SPECIAL.get(step, {})}
    stale = {
        "a button from an old question": lambda v: v.user.press_data(
            f"c:{draft.token}:{old_button(step)}:apple", question
        ),
        "a button from another report": lambda v: v.user.press_data(
            f"c:zzzzzz:{step}:yes", question
        ),
        "a forged button": lambda v: v.user.press_data(f"c:{draft.token}:{step}:forged", question),
        "garbage data": lambda v: v.user.press_data("c:", question),
    }
    with caplog.at_level(logging.WARNING):
        for name, act in {**tried, **stale}.items():
            replies = await act(victim)
            new = [m for m in replies if m.message_id > question.message_id]
            assert len(new) >= 2, f"{step}: {name}: no re-ask"
            assert new[-1].text == question.text, f"{step}: {name}: {new[-1].text[:60]}"
            assert new[-1].buttons == question.buttons, f"{step}: {name}"
            assert new[0].text != question.text, f"{step}: {name}: no explanation"
            assert await victim.step() == step, f"{step}: {name}"
            assert await victim.answers() == before, f"{step}: {name}"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_html_and_hidden_characters_in_names_are_kept_as_text(victim, register, api):
    await victim.walk(states.CONTACT_NAME)
    await victim.send("<b>Al\u200bex</b> & \u202eCo")
    await victim.walk(states.REVIEW)
    answers = await victim.answers()
    assert answers["contact_name"] == "<b>Alex</b> & Co"
    review = victim.seen[-1].text
    assert "👤 Your name: &lt;b&gt;Alex&lt;/b&gt; &amp; Co" in review
    await victim.press("✅ Submit report")
    reports = [report async for report in register.reports.stream()]
    assert [report.get("contact_name") for report in reports] == ["<b>Alex</b> & Co"]


async def test_right_to_left_names_are_welcome(victim):
    await victim.walk(states.CONTACT_NAME)
    await victim.send("\u200fعلي حسن")
    assert (await victim.answers())["contact_name"] == "علي حسن"


async def test_a_long_but_allowed_answer_is_kept_whole(victim):
    await victim.walk(states.COLOUR)
    await victim.send("b" * 200)
    assert (await victim.answers())["colour"] == "b" * 200
    await victim.walk(states.REVIEW)


async def test_every_field_at_its_longest_fits_the_review(victim, register):
    await victim.walk(states.MODEL)
    await victim.send("A" + "&" * 59)  # free text needs a word; then as long as it may be
    await victim.send("<" * 200)
    await victim.walk(states.WHERE)
    await victim.send("A" + "&" * 199)
    await victim.walk(states.TRACKED)
    await victim.press("Yes, I can see it")
    await victim.send("A" + ">" * 199)
    await victim.press("Just now")
    await victim.send("A" + "&" * 99)
    await victim.walk(states.CONTACT_EMAIL)
    await victim.send("&" * 60 + "@" + "a" * 60 + ".example")
    await victim.walk(states.REVIEW)
    answers = await victim.answers()
    assert answers["contact_name"] == "A" + "&" * 99 and answers["tracked_place"] == "A" + ">" * 199
    review = [m.text for m in victim.seen if m.message_id >= victim.seen[-1].message_id - 1]
    assert "Please check your report" in "".join(review) and "&amp;" * 99 in "".join(review)
    assert victim.seen[-1].buttons[-1][0] == "✅ Submit report"
    await victim.press("✅ Submit report")
    assert await register.reports.count() == 1


async def test_a_button_from_an_old_message_is_refused_politely(victim):
    await victim.walk(states.MODEL)
    make_question = next(m for m in victim.seen if "What make" in (m.text or ""))
    data = f"c:{(await victim.draft()).token}:make:samsung"
    replies = await victim.user.press_data(data, make_question)
    assert "from an earlier question" in replies[0].text
    assert "Which model" in replies[-1].text
    assert (await victim.answers())["make"] == "apple"
