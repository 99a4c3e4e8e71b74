"""The follow-up speaks the report's language (or the one a following chat picks), never English.

A report filed in a language is followed from a new phone whose account is English: the status
view, its buttons and answers, adding an IMEI, the reminder and the recovery message all come in
the report's language, with days and times written by Babel in the register's time zone. Nothing
English is left: every sentence of the English catalogue is looked for in what the bot sent.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.local_api import LocalBotApi, LocalUser
from handlers.context import HandlerConfig
from handlers.followup.notifications import render_notification
from handlers.i18n import formats
from handlers.i18n.moments import show_moment
from handlers.texts import languages, text
from models.register import Register
from models.storage.tables import CodeAttempt, Subscription
from models.values.statuses import Status
from tests.factories import imei, rows
from tests.followup_fixtures import FakeClock, dispatcher, file_report
from tests.handlers.english import english_in

NON_ENGLISH = [code for code in languages() if code != "en"]
LONDON = HandlerConfig().zone
NEW_IMEI = imei(303)


def toasts(api: LocalBotApi) -> list[str]:
    """What the bot answered button presses with (short notices and alerts)."""
    return [
        str(call.params["text"])
        for call in api.calls
        if call.method == "answerCallbackQuery" and call.params.get("text")
    ]


def follow(language: str, key: str, **params: object) -> str:
    """A follow-up text in LANGUAGE."""
    return text(f"followup.{key}", language, **params)


def test_the_english_check_finds_english() -> None:
    english = render_notification("reminder", "SPR-7KQ4-M9", "en")
    assert english_in(english)
    assert english_in("Estado: OK, but the status is now withdrawn")
    assert not english_in(text("notifications.status", "es", reference="SPR-7KQ4-M9", status="x"))


@pytest.mark.parametrize("language", NON_ENGLISH)
async def test_a_follow_up_in_the_report_s_language_has_no_english(
    register: Register, application, make_user, api: LocalBotApi, language: str
) -> None:
    filed = await file_report(
        register,
        language=language,
        make="samsung",
        platform="android",
        model="Galaxy S23",
        colour=None,
        imeis=(),
    )
    # The victim's new phone: an English account, no language picked in this chat.
    victim: LocalUser = make_user(user_id=6_100_000_001, language_code="en")
    [view] = await victim.send(f"/status {filed.reference} {filed.access_code}")
    assert follow(language, "view_title", reference=filed.reference) in view.text
    report = await register.reports.get(filed.reference)
    assert report is not None
    filed_at = show_moment(report.created_at, language, LONDON)  # Babel, in London
    assert filed_at in view.text and "UTC" not in view.text

    await victim.press(follow(language, "button_subscribe"))
    [following] = await rows(register.db, Subscription)
    assert following.language is None  # the report's own: nothing was picked here
    await victim.press(follow(language, "button_add_imei"))
    [check] = await victim.send(NEW_IMEI.grouped)
    assert check.text == follow(language, "imei_check", grouped=NEW_IMEI.grouped)
    await victim.press(follow(language, "button_imei_yes"))
    assert (await register.reports.get(filed.reference)).imeis == [NEW_IMEI.digits]

    clock = FakeClock()
    await dispatcher(register, application, clock).drain(horizon=timedelta(days=2))
    await register.reports.change_status(filed.reference, Status.RECOVERED, actor="officer")
    await dispatcher(register, application, clock).drain()
    [refreshed] = await victim.send(f"/status {filed.reference} {filed.access_code}")

    sent = [message.text or "" for message in api.bot_messages(victim.chat_id)]
    shown = "\n".join(sent)
    for kind in ("reminder", "status:recovered"):
        notice = render_notification(kind, filed.reference, language, make="samsung")
        assert notice in sent
    assert follow(language, "status_recovered") in refreshed.text
    assert "iPhone" not in shown and "UTC" not in shown
    assert english_in("\n".join([*sent, *toasts(api)])) == []


async def test_a_following_chat_may_pick_its_own_language(
    register: Register, application, make_user, api: LocalBotApi
) -> None:
    filed = await file_report(register, language="es", make="apple", platform="iphone")
    own = 6_100_000_002
    await register.subscriptions.subscribe(filed.report_id, own, via="own_account")
    friend = make_user(user_id=6_100_000_003, language_code="es")
    await friend.send(f"/status {filed.reference} {filed.access_code}")
    await friend.press(follow("es", "button_subscribe"))

    offered = await friend.send("/language")
    switched = await friend.press("Deutsch", offered[0])
    assert switched[0].text == text("conversation.language_set", "de")
    # The report this chat follows is shown again, now in German.
    assert follow("de", "view_title", reference=filed.reference) in switched[-1].text
    assert follow("de", "button_unsubscribe") in [label for label, _ in switched[-1].buttons]
    chosen = {row.chat_id: row.language for row in await rows(register.db, Subscription)}
    assert chosen == {own: None, friend.chat_id: "de"}

    await register.reports.change_status(filed.reference, Status.LOCATED, actor="officer")
    await dispatcher(register, application, FakeClock()).drain()
    located = {chat: api.bot_messages(chat)[-1].text for chat in (own, friend.chat_id)}
    assert located == {
        own: render_notification("status:located", filed.reference, "es", make="apple"),
        friend.chat_id: render_notification("status:located", filed.reference, "de", make="apple"),
    }


async def test_a_language_picked_first_is_kept_when_subscribing(
    register: Register, make_user
) -> None:
    filed = await file_report(register, language="pl")
    friend = make_user(user_id=6_100_000_004)
    await friend.send("/language")
    await friend.press("Română")
    [view] = await friend.send(f"/status {filed.reference} {filed.access_code}")
    assert follow("ro", "view_title", reference=filed.reference) in view.text
    await friend.press(follow("ro", "button_subscribe"))
    [following] = await rows(register.db, Subscription)
    assert following.language == "ro"


async def test_the_wrong_code_limit_says_when_in_local_time(register: Register, make_user) -> None:
    filed = await file_report(register)
    user = make_user(user_id=6_100_000_005)
    for _ in range(5):
        await user.send(f"/status {filed.reference} ABCD-EFGH")
    [limited] = await user.send(f"/status {filed.reference} {filed.access_code}")
    oldest = min(attempt.at for attempt in await rows(register.db, CodeAttempt))
    until = formats.local(oldest + timedelta(hours=1), LONDON)
    assert f"until {formats.time_of_day(until, 'en')} (about" in limited.text
    assert "UTC" not in limited.text
