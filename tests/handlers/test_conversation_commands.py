"""Commands in the middle of the flow: /back /cancel /help /language /advice /forget /status."""

from __future__ import annotations

import re

import pytest

from handlers.conversation import states
from handlers.i18n.languages import offered
from handlers.texts import languages, text
from tests.handlers.conftest import HAPPY, SECOND_IMEI, Victim, pin, press, send

BRANCHES = {
    states.IMEI2: send(SECOND_IMEI.digits),
    states.WHEN: press("Earlier today"),
    states.WHEN_TIME: send("00:00"),
    states.WHERE: pin(51.5142, -0.1494),
    states.TRACKED: press("Yes, I can see it"),
}


@pytest.mark.parametrize("route", ["main", "branches"])
async def test_back_returns_to_the_previous_question_at_every_step(victim, route):
    instead = BRANCHES if route == "branches" else {}
    first = await victim.send("/back")
    assert "There is no question to go back to" in first[0].text
    await victim.send("/start")
    visited = []
    while (step := await victim.step()) != states.REVIEW:
        if visited:
            replies = await victim.send("/back")
            assert await victim.step() == visited[-1], f"/back at {step}"
            assert replies[-1].buttons or replies[-1].text  # the previous question, asked again
            await victim.do(instead.get(visited[-1], HAPPY[visited[-1]]))
            assert await victim.step() == step, f"answering {visited[-1]} again"
        else:
            replies = await victim.send("/back")
            assert "This is the first question" in replies[0].text
        visited.append(step)
        await victim.do(instead.get(step, HAPPY[step]))
    expected = {states.WHEN_TIME, states.WHERE_NOTE, states.TRACKED_WHERE, states.IMEI2_OK}
    assert expected <= set(visited) if route == "branches" else not expected & set(visited)
    back = await victim.send("/back")
    assert await victim.step() == visited[-1]
    assert back


async def test_cancel_asks_first_and_changes_nothing_until_confirmed(victim, register):
    await victim.walk(states.CONTACT_NAME)
    before = await victim.draft()

    asked = await victim.send("/cancel")

    assert [m.text for m in asked] == [
        "Cancel this report? Your answers will be deleted, and nothing will be sent to the police."
    ]
    assert [label for label, _ in asked[0].buttons] == [
        "Yes, cancel the report",
        "No, back to the question",
    ]
    after = await victim.draft()
    assert (after.step, after.answers, after.token) == (before.step, before.answers, before.token)


async def test_going_back_from_cancel_returns_to_the_question_with_every_answer(victim, register):
    await victim.walk(states.CONTACT_EMAIL)
    before = await victim.draft()
    await victim.send("/cancel")

    back = await victim.press("No, back to the question")

    assert back[0].text == "OK, your answers are kept. Here is where we were:"
    assert "email" in back[-1].text.lower()  # the question they were at, asked again
    after = await victim.draft()
    assert (after.step, after.answers) == (before.step, before.answers)
    await victim.file()  # and the report goes on to be filed
    assert await register.reports.count() == 1


async def test_cancel_one_step_before_submit_can_go_back_to_the_review(victim, register):
    await victim.walk(states.REVIEW)
    await victim.send("/cancel")
    back = await victim.press("No, back to the question")
    assert "✅ Submit report" in [label for label, _ in back[-1].buttons]
    await victim.press("✅ Submit report")
    assert await register.reports.count() == 1


async def test_cancel_typed_then_answered_keeps_the_draft(victim):
    """A victim who ignores the question and answers instead loses nothing."""
    await victim.walk(states.COLOUR)
    await victim.send("/cancel")
    await victim.send("red")
    assert (await victim.answers())["colour"] == "red"
    assert await victim.step() != states.CANCELLED


async def test_cancel_discards_the_answers_and_offers_a_fresh_start(victim, register):
    await victim.walk(states.CONTACT_NAME)
    token = (await victim.draft()).token
    await victim.send("/cancel")
    replies = await victim.press("Yes, cancel the report")
    assert "Cancelled. Nothing was sent to the police" in replies[0].text
    assert [label for label, _ in replies[-1].buttons] == [
        "Report a stolen phone",
        "🧹 Clear this chat",
    ]
    draft = await victim.draft()
    assert draft.step == states.CANCELLED
    assert set(draft.answers) == {"language"}
    assert await register.reports.count() == 0

    again = await victim.send("/cancel")
    assert "no report in progress" in again[0].text
    await victim.press("Report a stolen phone")
    fresh = await victim.draft()
    assert fresh.step == states.CONSENT and fresh.token != token


async def test_cancel_after_filing_leaves_the_report(victim, register):
    await victim.file()
    replies = await victim.send("/cancel")
    assert "already filed" in replies[0].text
    assert await register.reports.count() == 1


async def test_help_explains_and_asks_the_question_again(victim):
    await victim.walk(states.NUMBER)
    replies = await victim.send("/help")
    assert (
        "/cancel" in replies[0].text and "/forget" in replies[0].text and "999" in replies[0].text
    )
    assert "stolen phone's <b>number</b>" in replies[-1].text
    assert await victim.step() == states.NUMBER


async def test_status_without_arguments_explains_it_and_keeps_the_draft(victim):
    await victim.walk(states.COLOUR)
    replies = await victim.send("/status")
    assert "/status SPR-7KQ4-M9 K7QM-3XDP" in replies[0].text  # the follow-up's help, or ours
    assert await victim.step() == states.COLOUR
    await victim.send("red")
    assert (await victim.answers())["colour"] == "red"


SPANISH = {
    states.MODEL: press("Omitir"),
    states.COLOUR: press("Omitir"),
    states.IMEI_OK: press("Sí, es correcto"),
    states.IMEI2: press("Sin segundo IMEI"),
    states.NETWORK: press("No lo sé"),
    states.WHEN: press("Ahora mismo"),
    states.LOSS: press("Me lo robaron sin violencia"),
    states.HOW: press("Carterista"),
    states.TRACKED: press("No / no estoy seguro"),
    states.CONTACT_EMAIL: press("Omitir"),
    states.CHANNEL: press("Llamada"),
}


async def test_language_can_be_changed_at_any_step(victim, register):
    await victim.walk(states.MAKE)
    replies = await victim.send("/language")
    labels = [label for label, _ in replies[0].buttons]
    assert labels[:1] == ["English"] and "Español" in labels and "中文（简体）" in labels
    switched = await victim.press("Español")
    assert switched[0].text == "Idioma cambiado."
    assert switched[-1].text == "¿De qué marca es el teléfono robado?"
    assert await victim.step() == states.MAKE
    await victim.press("Samsung")
    assert "Haga esto ahora" in victim.seen[-2].text
    await victim.walk(states.REVIEW, **SPANISH)
    assert "Revise su denuncia" in victim.seen[-1].text
    filed = await victim.press("✅ Enviar denuncia")
    assert "Su denuncia está presentada" in filed[0].text
    reference = re.search(r"SPR-\w{4}-\w{2}", filed[0].text).group()
    assert (await register.reports.get(reference)).get("language") == "es"


async def test_the_first_screen_offers_every_language_the_account_s_first(make_user, register):
    lender = Victim(make_user(user_id=31337, language_code="es-ES"), register)
    welcome = await lender.send("hola")
    assert welcome[0].text.startswith("<b>Si está en peligro")
    labels = [label for label, _ in welcome[0].buttons]
    assert labels[:2] == [
        text(f"conversation.button_{key}", "es") for key in ("agree", "advice_only")
    ]
    assert labels[2:] == [text("common.language_name", code) for code in offered("es-ES")]
    assert labels[2] == "Español" and len(labels[2:]) == len(languages())
    english = await lender.press("English")
    assert english[0].text == "Language changed."
    assert english[-1].text.startswith("<b>If you are in danger")
    assert (await lender.answers())["language"] == "en"
    assert await lender.step() == states.CONSENT
    await lender.press("Yes, start my report")
    assert await lender.step() == states.ACCOUNT


@pytest.mark.parametrize(
    ("account", "first"), [("pt-br", "pt"), ("zh-hans", "zh"), ("tr", "en"), (None, "en")]
)
async def test_the_account_s_language_comes_first_only_when_we_speak_it(
    make_user, register, account, first
):
    victim = Victim(make_user(user_id=31338, language_code=account), register)
    [welcome] = await victim.send("/start")
    labels = [label for label, _ in welcome.buttons]
    assert labels[2] == text("common.language_name", first)
    assert (
        welcome.text.split("\n")[0]
        == text(
            "conversation.welcome", first, emergency="999", retention_days=0, draft_hours=0
        ).split("\n")[0]
    )


async def test_advice_mid_flow_is_tailored_and_the_flow_goes_on(victim):
    await victim.walk(states.WHEN, **{states.MAKE: press("Google Pixel")})
    replies = await victim.send("/advice")
    shown = victim.texts(replies)
    assert "Theft protection" in shown and "7726" in shown
    assert "When was it taken" in replies[-1].text
    assert await victim.step() == states.WHEN


async def test_advice_without_a_report_asks_which_phone(victim, register):
    replies = await victim.send("/advice")
    assert replies[0].text == "Which kind of phone was it?"
    advice = await victim.press("iPhone")
    assert "Stolen Device Protection" in victim.texts(advice)
    assert await victim.draft() is None


async def test_advice_only_from_the_first_message(victim):
    await victim.send("/start")
    await victim.press("Only show me the safety advice")
    advice = await victim.press("Android")
    assert "Theft protection" in victim.texts(advice)
    assert "Do you agree" in advice[-1].text  # and the report can still be started
    await victim.press("Yes, start my report")
    assert await victim.step() == states.ACCOUNT


async def test_forget_erases_the_draft_and_the_messages(victim, api):
    await victim.walk(states.CONTACT_PHONE)
    confirm = await victim.send("/forget")
    assert "erases your unfinished report" in confirm[0].text
    await victim.press("No, keep it")
    assert await victim.step() == states.CONTACT_PHONE

    await victim.send("/forget")
    done = await victim.press("Yes, delete our conversation")
    assert "I deleted our conversation" in done[0].text
    assert [m.text for m in api.visible(victim.chat_id)] == [done[0].text]
    assert await victim.draft() is None


async def test_forget_with_nothing_to_forget(victim):
    replies = await victim.send("/forget")
    assert "nothing to erase" in replies[0].text


async def test_start_in_the_middle_offers_to_continue_or_start_again(victim):
    await victim.walk(states.COLOUR)
    token = (await victim.draft()).token
    offer = await victim.send("/start")
    assert "continue where you left off" in offer[0].text
    resumed = await victim.press("Continue where I left off")
    assert "colour" in resumed[-1].text and await victim.step() == states.COLOUR

    await victim.send("/start")
    restarted = await victim.press("Start again")
    assert "Do you agree" in restarted[-1].text
    draft = await victim.draft()
    assert draft.step == states.CONSENT and draft.token != token and "model" not in draft.answers


async def test_an_unknown_command_is_answered_and_the_draft_kept(victim):
    await victim.walk(states.MODEL)
    replies = await victim.send("/frobnicate")
    assert "don't know that command" in replies[0].text
    assert await victim.step() == states.MODEL


async def test_after_filing_a_message_reminds_of_the_reference(victim, register):
    await victim.file()
    replies = await victim.send("thank you")
    assert "is filed" in replies[0].text
    assert [label for label, _ in replies[0].buttons] == ["Report a stolen phone"]
    await victim.press("Report a stolen phone")
    assert await victim.step() == states.CONSENT
    assert await register.reports.count() == 1
