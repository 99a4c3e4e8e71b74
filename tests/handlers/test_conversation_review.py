"""The review: editing any answer returns to it; Submit files one report however often."""

from __future__ import annotations

import logging

import pytest

from bot.local_api import ApiError
from handlers.conversation import states
from tests.handlers.conftest import SECOND_IMEI, Act, pin, press, send

EDITS: dict[str, tuple[list[Act], str, str]] = {
    # group: (what the victim does, a line of the new review, the button that opens it)
    "device": (
        [press("Samsung"), send("Galaxy S23"), send("black")],
        "📱 Phone: Samsung Galaxy S23",
        "✏️ Phone",
    ),
    "imei": (
        [send(SECOND_IMEI.digits), press("Yes, that's right"), press("No second IMEI")],
        f"🔢 IMEI: <code>{SECOND_IMEI.grouped}</code>",
        "✏️ IMEI",
    ),
    "number": (
        [send("+33 6 12 34 56 78"), send("Orange")],
        "+33 6 12 34 56 78 · network: Orange",
        "✏️ Its number",
    ),
    "when": ([press("In the last hour")], "🕒 When: ", "✏️ When"),
    "where": ([pin(51.5, -0.12), press("Skip")], "📍 Where: pin 51.50000, -0.12000", "✏️ Where"),
    "how": (
        [press("Stolen from me, no force"), press("Pickpocketed")],
        "❓ How: Stolen – Pickpocketed",
        "✏️ How",
    ),
    "tracked": (
        [press("Yes, I can see it"), send("Wembley"), press("About an hour ago")],
        "🗺 Seen on the map: Wembley",
        "✏️ Map",
    ),
    "name": ([send("Sam O'Neil")], "👤 Your name: Sam O'Neil", "✏️ Name"),
    "phone": ([send("07911 123456")], "📞 Your number: +44 7911 123456", "✏️ Your number"),
    "email": ([send("Sam@Example.ORG")], "✉️ Email: Sam@example.org", "✏️ Email"),
    "channel": ([press("Text message")], "💬 Contact you by: Text message", "✏️ Contact by"),
    "account": ([press("No, I borrowed this phone")], "is borrowed", "✏️ Account"),
}


@pytest.mark.parametrize("group", list(EDITS))
async def test_editing_an_answer_returns_to_the_review(victim, group):
    acts, expected, label = EDITS[group]
    await victim.walk(states.REVIEW)
    await victim.press(label)
    for act in acts:
        await victim.do(act)
    assert await victim.step() == states.REVIEW
    assert expected in victim.seen[-1].text
    assert "_editing" not in await victim.answers()


async def test_edit_can_be_left_unchanged(victim):
    await victim.walk(states.REVIEW)
    before = victim.seen[-1].text
    await victim.press("✏️ Where")
    assert [label for label, _ in victim.seen[-1].buttons] == ["↩️ Keep it, back to the summary"]
    await victim.press("↩️ Keep it, back to the summary")
    assert await victim.step() == states.REVIEW and victim.seen[-1].text == before

    await victim.press("✏️ Name")
    await victim.send("/back")
    assert await victim.step() == states.REVIEW and victim.seen[-1].text == before


async def test_removing_the_email_asks_the_channel_again(victim):
    await victim.walk(states.REVIEW)  # the happy path chose to be contacted by email
    await victim.press("✏️ Email")
    replies = await victim.press("Skip")
    assert await victim.step() == states.CHANNEL
    assert "Email" not in [label for label, _ in replies[-1].buttons]
    await victim.press("Phone call")
    assert await victim.step() == states.REVIEW


async def test_the_stolen_number_edited_into_the_contact_number_is_asked_again(victim):
    await victim.walk(states.REVIEW)
    await victim.press("✏️ Its number")
    await victim.send("07912 345678")  # the contact number given later
    await victim.press("Vodafone")
    assert await victim.step() == states.CONTACT_PHONE


async def test_double_tap_on_submit_files_one_report(victim, register):
    await victim.walk(states.REVIEW)
    review = victim.seen[-1]
    submit = review.buttons[-1][1]
    first = await victim.press("✅ Submit report", review)
    second = await victim.user.press_data(submit, review)
    assert await register.reports.count() == 1
    shown_first = [m.text for m in first if "Reference" in (m.text or "")]
    shown_second = [m.text for m in second if "Reference" in (m.text or "")]
    assert shown_first == shown_second and len(shown_first) == 1


async def test_a_replayed_submit_update_files_one_report(victim, register):
    await victim.walk(states.REVIEW)
    review = victim.seen[-1]
    data = review.buttons[-1][1]
    callback = {
        "callback_query": {
            "id": "replayed-1",
            "from": victim.user.user,
            "chat_instance": "1",
            "data": data,
            "message": {
                "message_id": review.message_id,
                "date": 0,
                "chat": {"id": victim.chat_id, "type": "private", "first_name": "Sam"},
                "text": review.text,
            },
        }
    }
    await victim.user.deliver(callback, update_id=900_001)
    await victim.user.deliver(callback, update_id=900_001)
    assert await register.reports.count() == 1


async def test_a_replayed_message_is_answered_once(victim, api):
    await victim.walk(states.MODEL)
    payload = victim.user.message(text="iPhone 13")
    await victim.user.deliver(payload, update_id=900_002)
    sent = len(api.calls)
    await victim.user.deliver(payload, update_id=900_002)
    assert len(api.calls) == sent
    assert (await victim.answers())["model"] == "iPhone 13"
    assert await victim.step() == states.COLOUR


async def test_submit_again_after_a_send_error_files_one_report(victim, register, api, caplog):
    await victim.walk(states.REVIEW)
    review = victim.seen[-1]
    submit = review.buttons[-1][1]
    failures = iter([True])

    def fail_once(call):
        if call.method == "sendMessage" and next(failures, False):
            raise ApiError(502, "Bad Gateway")

    api.on_call = fail_once
    with caplog.at_level(logging.CRITICAL):
        await victim.press("✅ Submit report", review)
    assert await register.reports.count() == 1
    retried = await victim.user.press_data(submit, review)
    assert await register.reports.count() == 1
    assert any("Reference" in (m.text or "") for m in retried)
