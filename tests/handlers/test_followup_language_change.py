"""/language while the follow-up waits for a typed answer keeps the question and asks it again.

For every question the follow-up waits on (IMEI, its read-back, place, time, crime reference,
force): the victim sends /language and picks Deutsch; the same question comes again in German
(its buttons too), and the answer given next is taken as the answer to it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bot.local_api import ChatMessage, LocalUser
from handlers.followup import waiting
from handlers.texts import text
from models.register import Register
from tests.factories import imei
from tests.followup_fixtures import file_report
from tests.transactions import count_transactions

NEW_IMEI = imei(404)


def en(key: str, **params: object) -> str:
    """A follow-up text in English."""
    return text(f"followup.{key}", "en", **params)


def de(key: str, **params: object) -> str:
    """A follow-up text in German."""
    return text(f"followup.{key}", "de", **params)


async def to_imei(user: LocalUser) -> None:
    """Up to "send the IMEI"."""
    await user.press(en("button_add_imei"))


async def to_imei_check(user: LocalUser) -> None:
    """Up to "is this the IMEI?"."""
    await to_imei(user)
    await user.send(NEW_IMEI.digits)


async def to_place(user: LocalUser) -> None:
    """Up to "where is the phone?"."""
    await user.press(en("button_add_location"))


async def to_time(user: LocalUser) -> None:
    """Up to "when was it there?"."""
    await to_place(user)
    await user.send("Oxford Street")


async def to_crime(user: LocalUser) -> None:
    """Up to "the crime reference?"."""
    await user.press(en("button_add_crime"))


async def to_force(user: LocalUser) -> None:
    """Up to "which force?"."""
    await to_crime(user)
    await user.send("1234567/24")


def labels(message: ChatMessage) -> list[str]:
    """A message's button labels."""
    return [label for label, _ in message.buttons]


# (the wait, how to reach it, the question in German, its buttons in German, then: answer it and
# what the bot says next)
CASES: list[tuple[str, Callable[[LocalUser], Awaitable[None]], str, list[str], str, str]] = [
    (
        waiting.IMEI,
        to_imei,
        de("ask_imei"),
        [de("button_cancel")],
        NEW_IMEI.digits,
        de("imei_check", grouped=NEW_IMEI.grouped),
    ),
    (
        waiting.IMEI_CHECK,
        to_imei_check,
        de("imei_check", grouped=NEW_IMEI.grouped),
        [de("button_imei_yes"), de("button_imei_no"), de("button_cancel")],
        "press:" + de("button_imei_yes"),
        "",
    ),
    (
        waiting.LOCATION,
        to_place,
        de("ask_location"),
        [de("button_cancel")],
        "Oxford Street",
        de("ask_location_time"),
    ),
    (
        waiting.LOCATION_TIME,
        to_time,
        de("ask_location_time"),
        [de("button_time_now"), de("button_time_hour"), de("button_cancel")],
        "press:" + de("button_time_now"),
        "",
    ),
    (
        waiting.CRIME,
        to_crime,
        de("ask_crime"),
        [de("button_cancel")],
        "1234567/24",
        de("ask_force"),
    ),
    (
        waiting.FORCE,
        to_force,
        de("ask_force"),
        [de("button_force_unknown"), de("button_cancel")],
        "the Met",
        "",
    ),
]


@pytest.mark.parametrize(
    ("kind", "reach", "question", "buttons", "answer", "then"), CASES, ids=[c[0] for c in CASES]
)
async def test_language_asks_the_waiting_question_again_in_the_new_language(
    register: Register,
    make_user,
    kind: str,
    reach: Callable[[LocalUser], Awaitable[None]],
    question: str,
    buttons: list[str],
    answer: str,
    then: str,
) -> None:
    filed = await file_report(register, loss_kind="theft_from_person", imeis=())
    user = make_user(user_id=8101, language_code="en")
    await user.send(f"/status {filed.reference} {filed.access_code}")
    await reach(user)
    chat_data = user.application.chat_data[user.chat_id]
    assert waiting.get_wait(chat_data)["what"] == kind

    [offered] = await user.send("/language")
    switched = await user.press(text("common.language_name", "de"), offered)
    assert switched[0].text == text("conversation.language_set", "de")
    assert switched[-1].text == question
    assert labels(switched[-1]) == buttons
    assert waiting.get_wait(chat_data)["what"] == kind

    if answer.startswith("press:"):
        replies = await user.press(answer.removeprefix("press:"), switched[-1])
    else:
        replies = await user.send(answer)
    if then:
        assert replies[-1].text == then
    report = await register.reports.get(filed.reference)
    assert report is not None
    if kind == waiting.IMEI_CHECK:
        assert report.imeis == [NEW_IMEI.digits]
        assert replies[-1].text == de("imei_added", reference=filed.reference)
    elif kind == waiting.LOCATION_TIME:
        assert report.tracked_at is not None and report.get("tracked_place") == "Oxford Street"
    elif kind == waiting.FORCE:
        assert (report.crime_reference, report.police_force) == ("1234567/24", "metropolitan")
        assert filed.reference in replies[-1].text


async def test_another_command_still_ends_the_wait(register: Register, make_user) -> None:
    filed = await file_report(register, imeis=())
    user = make_user(user_id=8102, language_code="en")
    await user.send(f"/status {filed.reference} {filed.access_code}")
    await to_imei(user)
    await user.send("/help")
    assert waiting.get_wait(user.application.chat_data[user.chat_id]) is None


async def test_with_a_report_half_told_the_waiting_question_is_asked_again(
    register: Register, make_user
) -> None:
    """A chat mid-report that opened /status and was asked for an IMEI: after /language the
    question asked again is the IMEI (the next message answers it), not the report's step."""
    filed = await file_report(register, imeis=())
    user = make_user(user_id=8103, language_code="en")
    await user.send("/start")
    assert await register.drafts.load(user.chat_id) is not None
    await user.send(f"/status {filed.reference} {filed.access_code}")
    await to_imei(user)

    [offered] = await user.send("/language")
    switched = await user.press(text("common.language_name", "de"), offered)
    assert switched[-1].text == de("ask_imei")
    replies = await user.send(NEW_IMEI.digits)
    assert replies[-1].text == de("imei_check", grouped=NEW_IMEI.grouped)


def count_report_reads(register: Register) -> list[str]:
    """The references the register's reports are read by, from now on, in order."""
    read: list[str] = []
    get = register.reports.get

    async def counted(reference):
        read.append(str(reference))
        return await get(reference)

    register.reports.get = counted  # type: ignore[method-assign]
    return read


async def test_the_waiting_question_is_asked_again_from_one_read(
    register: Register, make_user
) -> None:
    """Two followed reports, a question waiting on the older one: picking a language reads the
    register twice in all (the chat's draft, then the older report, once)."""
    older = await file_report(register, imeis=())
    newer = await file_report(register, imeis=())
    user = make_user(user_id=8104, language_code="en")
    [older_view] = await user.send(f"/status {older.reference} {older.access_code}")
    await user.send(f"/status {newer.reference} {newer.access_code}")
    await user.press(en("button_add_imei"), older_view)
    [offered] = await user.send("/language")

    transactions = count_transactions(register)
    reports_read = count_report_reads(register)
    switched = await user.press(text("common.language_name", "de"), offered)

    assert switched[-1].text == de("ask_imei")
    assert reports_read == [older.reference]
    assert transactions["read"] == 2  # the chat's draft, the older report
    replies = await user.send(NEW_IMEI.digits)
    assert replies[-1].text == de("imei_check", grouped=NEW_IMEI.grouped)


async def test_the_followed_report_is_shown_again_from_one_read(
    register: Register, make_user
) -> None:
    """No question waiting: picking a language shows the newest followed report in it, read once,
    its Unsubscribe button known from storing the choice (no second read of the subscription)."""
    older = await file_report(register, imeis=())
    newer = await file_report(register, imeis=())
    user = make_user(user_id=8105, language_code="en")
    await user.send(f"/status {older.reference} {older.access_code}")
    [newer_view] = await user.send(f"/status {newer.reference} {newer.access_code}")
    await user.press(en("button_subscribe"), newer_view)
    [offered] = await user.send("/language")

    counts = count_transactions(register)
    reports_read = count_report_reads(register)
    switched = await user.press(text("common.language_name", "de"), offered)

    assert newer.reference in switched[-1].text
    assert de("view_subscribed") in switched[-1].text
    assert labels(switched[-1])[0] == de("button_unsubscribe")
    assert reports_read == [newer.reference]
    assert counts["read"] == 2  # the chat's draft, the newer report
    # The choice, stored for both followed reports in one write.
    assert counts["write"] == 1
    assert waiting.get_wait(user.application.chat_data[user.chat_id]) is None
