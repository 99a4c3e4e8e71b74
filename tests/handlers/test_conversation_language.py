"""/language at every step: the same question again, in the new language, with the draft kept."""

from __future__ import annotations

import re
from itertools import cycle

from handlers.conversation import states
from handlers.followup.notifications import render_notification
from handlers.texts import languages, text
from models.values.statuses import Status
from tests.followup_fixtures import FakeClock, dispatcher
from tests.handlers.conftest import HAPPY, Victim
from tests.handlers.english import english_in

NON_ENGLISH = [code for code in languages() if code != "en"]


def name(code: str) -> str:
    """The language's button label: its name in itself."""
    return text("common.language_name", code)


def drafted(answers: dict) -> dict:
    """The answers that are the victim's (the language aside)."""
    return {key: value for key, value in answers.items() if key != "language"}


async def test_language_at_every_step_asks_the_same_question_in_it(victim: Victim) -> None:
    await victim.send("/start")
    others = cycle(NON_ENGLISH)
    visited = []
    while (step := await victim.step()) != states.REVIEW:
        question = victim.seen[-1].text
        before = drafted(await victim.answers())
        other = next(others)

        await victim.send("/language")
        switched = await victim.press(name(other))
        assert switched[0].text == text("conversation.language_set", other)
        asked = switched[-1].text
        assert asked != question and english_in(asked) == [], (step, other, asked)
        assert await victim.step() == step
        assert drafted(await victim.answers()) == before
        assert (await victim.answers())["language"] == other

        await victim.send("/language")
        again = await victim.press("English")
        assert again[-1].text == question, step  # the very same question, in English again
        assert await victim.step() == step

        visited.append(step)
        await victim.do(HAPPY[step])
    assert len(visited) >= 15
    assert (await victim.answers())["language"] == "en"


async def test_language_after_filing_keeps_the_report_and_its_updates_follow(
    victim: Victim, register, application, api
) -> None:
    filed = await victim.file()  # own account: this chat gets the updates
    reference = re.search(r"SPR-\w{4}-\w{2}", victim.texts(filed)).group()
    await victim.send("/language")
    switched = await victim.press("Italiano")
    assert switched[0].text == text("conversation.language_set", "it")
    assert await victim.step() == states.FILED
    reminder = await victim.send("grazie")
    assert english_in(reminder[0].text) == []
    assert await register.reports.count() == 1
    report = await register.reports.get(reference)
    assert report.get("language") == "en"  # filed in English, and so it stays

    await register.reports.change_status(reference, Status.LOCATED, actor="officer")
    await dispatcher(register, application, FakeClock()).drain()
    located = api.bot_messages(victim.chat_id)[-1].text
    assert located == render_notification("status:located", reference, "it", make="apple")
