"""A whole report in every language: the translated keyboards fit a phone and the flow works.

The conftest checks everything sent against Telegram's limits (message length, HTML, keyboard
rows no wider than a phone), so walking the flow in a language checks its real keyboards.
"""

from __future__ import annotations

import re

import pytest

from handlers.conversation import states
from handlers.i18n.platforms import warnings
from handlers.texts import languages, text
from tests.handlers.conftest import HAPPY, Act, Victim, press
from tests.handlers.english import english_in

# The buttons pressed on the way, by step (the rest of the walk is typed, the same in every
# language). The tracked-location path is taken so that its keyboard is shown too.
PRESSED = {
    states.CONSENT: "agree",
    states.ACCOUNT: "account_own",
    states.MAKE: "make_samsung",
    states.IMEI_OK: "imei_right",
    states.IMEI2: "no_second_imei",
    states.IMEI2_OK: "imei_right",
    states.WHEN: "when_now",
    states.WHEN_TIME: "dont_know",
    states.WHEN_OK: "imei_right",
    states.WHERE_NOTE: "skip",
    states.LOSS: "loss_theft",
    states.HOW: "how_snatched_moped",
    states.TRACKED: "tracked_yes",
    states.TRACKED_WHEN: "seen_now",
    states.CHANNEL: "channel_email",
}


def label(key: str, language: str) -> str:
    """The conversation's button KEY in LANGUAGE."""
    return text(f"conversation.button_{key}", language)


def walk_in(language: str) -> dict[str, Act]:
    """The happy path with the buttons pressed by their LANGUAGE labels."""
    return {**HAPPY, **{step: press(label(key, language)) for step, key in PRESSED.items()}}


@pytest.mark.parametrize("language", [code for code in languages() if code != "en"])
async def test_a_whole_report_in_the_account_s_language(make_user, register, language):
    victim = Victim(make_user(user_id=7_000_000_001, language_code=language), register)
    welcome = await victim.send("/start")
    first_line = text(
        "conversation.welcome", language, emergency="999", retention_days=0, draft_hours=0
    ).split("\n")[0]
    assert welcome[0].text.split("\n")[0] == first_line

    await victim.walk(states.REVIEW, **walk_in(language))
    assert text("conversation.review_title", language) in victim.seen[-1].text

    filed = await victim.press(label("submit", language))
    shown = victim.texts(filed)
    reference = re.search(r"SPR-\w{4}-\w{2}", shown).group()
    code = re.findall(r"<code>([^<]+)</code>", shown)[1]
    assert (await register.reports.get(reference)).get("language") == language
    # A Samsung owner: the scam warnings name the Samsung account and phone, never Apple's.
    samsung = warnings("samsung", language)
    assert samsung["police_never_ask"] in filed[0].text
    assert samsung["found_phone_scam"] in shown
    assert "Apple" not in shown and "iPhone" not in shown

    # The status view and its buttons, in the report's language.
    view = await victim.send(f"/status {reference} {code}")
    assert text("followup.view_title", language, reference=reference) in victim.texts(view)
    labels = [label for message in view for label, _ in message.buttons]
    assert text("followup.button_refresh", language) in labels
    help_text = victim.texts(await victim.send("/help"))
    assert text("conversation.help", language, emergency="999").split("\n")[0] in help_text
    # Nothing English anywhere: every sentence of the English catalogue is looked for.
    assert english_in(victim.texts()) == []
    buttons = [label for message in victim.seen for label, _ in message.buttons]
    assert english_in("\n".join(buttons)) == []


@pytest.mark.parametrize("language", languages())
async def test_cancel_asks_first_in_every_language(make_user, register, language):
    victim = Victim(make_user(user_id=7_000_000_002, language_code=language), register)
    await victim.walk(states.MODEL, **walk_in(language))
    before = await victim.draft()

    asked = await victim.send("/cancel")
    assert [m.text for m in asked] == [text("conversation.confirm_cancel", language)]
    assert [label for label, _ in asked[0].buttons] == [
        label("cancel_yes", language),
        label("cancel_no", language),
    ]
    kept = await victim.press(label("cancel_no", language))
    assert kept[0].text == text("conversation.cancel_kept", language)
    assert (await victim.draft()).answers == before.answers

    await victim.send("/cancel")
    done = await victim.press(label("cancel_yes", language))
    assert done[0].text == text("conversation.cancelled", language)
    assert await victim.step() == states.CANCELLED
