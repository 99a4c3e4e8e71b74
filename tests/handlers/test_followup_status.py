"""/status REF CODE and the deep link: access, the wrong-code limit, the view, subscribing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from telegram import Update

from bot.local_api import ChatMessage, LocalBotApi
from handlers.followup import status as status_handlers
from models.register import Register
from models.storage.columns import utcnow
from models.storage.tables import CodeAttempt, Notification, Subscription
from models.values.reference import Reference, deep_link_payload
from models.values.statuses import Status
from tests.factories import rows, text_update
from tests.followup_fixtures import FakeClock, TelegramScript, dispatcher, file_report

WRONG_CODE = "ABCD-EFGH"
PERSONAL = ("Alex Example", "+447912345678", "alex@example.org", "+447400123456", "Oxford Street")


def assert_safe(messages: list[ChatMessage]) -> None:
    """Every message fits Telegram and every button's data is under 64 bytes."""
    for message in messages:
        assert message.text is not None and len(message.text) < 4096
        for _label, data in message.buttons:
            assert len(data.encode()) <= 64


def answers(api: LocalBotApi) -> list[str]:
    """The texts of the toasts and alerts the bot answered button presses with."""
    return [
        str(call.params.get("text", ""))
        for call in api.calls
        if call.method == "answerCallbackQuery"
    ]


async def test_status_shows_the_report_to_any_private_chat(register, make_user, api) -> None:
    filed = await file_report(register, model="<b>iPhone</b> & co")
    user = make_user(user_id=9001)
    replies = await user.send(f"/status {filed.reference} {filed.access_code}")
    assert len(replies) == 1
    view = replies[0]
    assert filed.reference in view.text and "Submitted" in view.text
    assert "&lt;b&gt;iPhone&lt;/b&gt; &amp; co" in view.text
    for personal in PERSONAL:
        assert personal not in view.text
    assert "removed your message with the access code" in view.text
    labels = [label for label, _ in view.buttons]
    assert labels == [
        "🔔 Get updates here",
        "➕ Add IMEI",  # a second one (dual SIM)
        "📍 Add tracked location",
        "👮 Add crime reference",
        "Withdraw report",
        "↻ Refresh",
    ]
    assert_safe(replies)
    # The message that held the code is gone from the chat.
    assert not [m for m in api.visible(user.chat_id) if not m.from_bot]


async def test_a_report_without_imei_offers_to_add_one(register, make_user) -> None:
    filed = await file_report(register, imeis=())
    replies = await make_user().send(f"/status {filed.reference} {filed.access_code}")
    assert "not given yet" in replies[0].text
    assert "➕ Add IMEI" in [label for label, _ in replies[0].buttons]


async def test_unknown_reference_and_wrong_code_get_the_same_answer(register, make_user) -> None:
    filed = await file_report(register)
    unknown = str(Reference.generate())
    wrong = await make_user(user_id=9002).send(f"/status {filed.reference} {WRONG_CODE}")
    nobody = await make_user(user_id=9012).send(f"/status {unknown} {WRONG_CODE}")
    assert wrong[0].text == nobody[0].text
    assert "could not find a report with that reference and access code" in wrong[0].text
    assert filed.reference not in wrong[0].text and not wrong[0].buttons


async def test_wrong_codes_are_limited_per_chat(register: Register, make_user) -> None:
    filed = await file_report(register)
    user = make_user(user_id=9003)
    for left in (4, 3, 2, 1, 0):
        [reply] = await user.send(f"/status {filed.reference} {WRONG_CODE}")
        assert f"Tries left this hour: {left}." in reply.text
    # Even the right code is not checked now: a guesser learns nothing.
    [reply] = await user.send(f"/status {filed.reference} {filed.access_code}")
    assert "Too many wrong codes" in reply.text and filed.reference not in reply.text
    assert len(await rows(register.db, CodeAttempt)) == 5
    # Another chat is not affected.
    other = await make_user(user_id=9004).send(f"/status {filed.reference} {filed.access_code}")
    assert "Status:" in other[0].text
    # An hour later the chat may try again.
    async with register.db.write() as session:
        await session.execute(
            update(CodeAttempt).values(at=utcnow() - timedelta(hours=1, seconds=1))
        )
    [reply] = await user.send(f"/status {filed.reference} {filed.access_code}")
    assert "Status:" in reply.text


async def test_typos_and_missing_parts_are_explained_and_not_counted(register, make_user) -> None:
    filed = await file_report(register)
    user = make_user(user_id=9005)
    [usage] = await user.send("/status")
    assert "/status SPR-7KQ4-M9 K7QM-3XDP" in usage.text
    [missing] = await user.send(f"/status {filed.reference}")
    assert "add the access code" in missing.text
    typo = filed.reference[:-1] + ("2" if filed.reference[-1] != "2" else "3")
    [bad] = await user.send(f"/status {typo} {filed.access_code}")
    assert "typo" in bad.text
    [ambiguous] = await user.send(f"/status SPR-0KQ4-M9 {filed.access_code}")
    assert "no 0, 1, I, L or O" in ambiguous.text
    [short] = await user.send(f"/status {filed.reference} ABC")
    assert "8 letters and digits" in short.text
    assert await rows(register.db, CodeAttempt) == []


async def test_reference_and_code_may_be_typed_loosely(register, make_user) -> None:
    filed = await file_report(register)
    spaced = filed.reference.lower().replace("-", " ") + " " + filed.access_code.lower()
    run_together = (filed.reference + filed.access_code).replace("-", "")
    for typed in (spaced, run_together, filed.reference + " " + filed.access_code):
        [reply] = await make_user(user_id=9006).send(f"/status {typed}")
        assert f"Report {filed.reference}" in reply.text, typed


async def test_the_deep_link_opens_the_report_in_one_tap(register: Register, make_user) -> None:
    filed = await file_report(register)
    payload = deep_link_payload(Reference(filed.reference), filed.access_code)
    user = make_user(user_id=9007)
    [view] = await user.send(f"/start {payload}")
    assert f"Report {filed.reference}" in view.text
    await user.press("🔔 Get updates here")
    [subscription] = await rows(register.db, Subscription)
    assert (subscription.chat_id, subscription.via) == (9007, "deep_link")


async def test_a_broken_deep_link_is_explained_and_plain_start_is_not_ours(
    register, make_user, application
) -> None:
    filed = await file_report(register)
    compact = filed.reference.replace("-", "")
    [reply] = await make_user(user_id=9008).send(f"/start {compact}_ABCD")
    assert "That link is not complete" in reply.text
    handler = next(
        h
        for h in application.handlers[0]
        if getattr(h, "callback", None) is status_handlers.start_with_payload
    )

    def start_update(text: str) -> Update:
        command = {"type": "bot_command", "offset": 0, "length": 6}
        return text_update(text, application.bot, entities=[command])

    assert not handler.check_update(start_update("/start"))
    assert not handler.check_update(start_update("/start from_group"))
    assert not handler.check_update(start_update("/start report_stolen"))
    assert handler.check_update(start_update("/start SPR7KQ4M9_K7QM3XDP"))
    assert handler.check_update(start_update("/start spr7kq4m9_k7qm"))


async def test_status_in_a_group_is_refused_and_checks_nothing(register, make_user) -> None:
    filed = await file_report(register)
    member = make_user(user_id=9009, chat_id=-100123, chat_type="group")
    [reply] = await member.send(f"/status {filed.reference} {WRONG_CODE}")
    assert "only show reports in a private chat" in reply.text
    assert "https://t.me/StolenPhoneReportBot" in reply.text
    assert await rows(register.db, CodeAttempt) == []


async def test_a_chat_subscribed_by_code_gets_the_updates(
    register: Register, make_user, application, api
) -> None:
    filed = await file_report(register)
    user = make_user(user_id=9010)
    await user.send(f"/status {filed.reference} {filed.access_code}")
    replies = await user.press("🔔 Get updates here")
    assert "Updates about this report come to this chat" in replies[0].text
    assert "Done: updates about this report will come to this chat." in answers(api)
    [subscription] = await rows(register.db, Subscription)
    assert (subscription.chat_id, subscription.via, subscription.active) == (9010, "code", True)
    await register.reports.change_status(filed.reference, Status.RECOVERED, actor="officer")
    clock = FakeClock()
    api.on_call = TelegramScript(clock)
    await dispatcher(register, application, clock).drain()
    recovered = [m for m in api.bot_messages(9010) if "has been recovered" in m.text]
    assert len(recovered) == 1 and filed.reference in recovered[0].text
    # Stop updates: the chat's unsent messages (the reminder) are cancelled.
    await user.press("🔕 Stop updates here")
    assert not await register.subscriptions.is_subscribed(filed.report_id, 9010)
    states = {n.kind: n.state for n in await rows(register.db, Notification)}
    assert states == {"reminder": "cancelled", "status:recovered": "delivered"}


async def test_the_view_stays_short_whatever_was_typed(register: Register, make_user) -> None:
    filed = await file_report(register, model="M" * 5000, colour="<&>" * 1000)
    for _ in range(15):
        await register.reports.change_status(filed.reference, Status.UNDER_REVIEW, actor="o")
        await register.reports.change_status(filed.reference, Status.LOCATED, actor="o")
    [view] = await make_user(user_id=9011).send(f"/status {filed.reference} {filed.access_code}")
    assert len(view.text) < 4096
    assert view.text.count(" · ") == 10  # the latest ten steps of the history
    assert "<&>" not in view.text
