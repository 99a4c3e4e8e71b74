"""The victim's conversation end to end: what they see, what the register stores."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers.context import HandlerConfig
from handlers.conversation import states
from models.storage.columns import utcnow
from models.storage.tables import Subscription
from models.values.reference import Reference, deep_link_payload
from tests.factories import rows
from tests.handlers.conftest import (
    FIRST_IMEI,
    SECOND_IMEI,
    pin,
    press,
    send,
)


def filed_reference(victim) -> tuple[str, str]:
    """The reference and access code the bot showed."""
    import re

    found = re.search(
        r"Reference: <code>(SPR-\w{4}-\w{2})</code>\nAccess code: <code>(\S+)</code>",
        victim.texts(),
    )
    assert found, "no reference shown"
    return found.group(1), found.group(2)


async def test_iphone_on_own_account_files_a_subscribed_report(victim, register):
    first = await victim.send("/start")
    assert first[0].text.startswith(
        "<b>If you are in danger, or the theft is happening now, call 999"
    )
    assert "encrypted" in first[0].text and "730 days" in first[0].text

    await victim.walk(states.MODEL)
    urgent = victim.seen[-2].text
    assert "Do this now" in urgent and "icloud.com/find" in urgent and "Don't erase it" in urgent
    assert "Which model" in victim.seen[-1].text

    replies = await victim.file()
    reference, code = filed_reference(victim)
    shown = victim.texts(replies)
    assert "Stolen Device Protection" in shown and "immobilise.com" in shown
    assert "7726" in shown and "Action Fraud" in shown
    assert f"/status {reference} {code}" in shown
    assert "Clear this chat" not in str([m.buttons for m in replies])

    report = await register.reports.get(reference)
    assert report is not None and report.status.value == "submitted"
    assert (report.make, report.platform, report.theft_method) == (
        "apple",
        "iphone",
        "snatched_moped",
    )
    assert report.imeis == [FIRST_IMEI.digits]
    assert report.get("model") == "iPhone 15"
    assert report.get("colour") == "blue, cracked corner"
    assert report.get("stolen_number") == "+447400123456"
    assert report.get("network") == "Vodafone"
    assert report.get("place") == "Oxford Street by Bond Street station"
    assert report.get("contact_name") == "Alex Example"
    assert report.get("contact_phone") == "+447912345678"
    assert report.get("contact_email") == "alex@example.org"
    assert report.get("preferred_channel") == "email"
    assert report.own_account is True
    assert utcnow() - report.incident_at < timedelta(minutes=5)
    assert await register.reports.verify_access(reference, code) is not None

    subscriptions = await rows(register.db, Subscription)
    assert [(s.report_id, s.chat_id, s.via) for s in subscriptions] == [
        (report.id, victim.chat_id, "own_account")
    ]
    draft = await victim.draft()
    assert draft.step == states.FILED and draft.report_id == report.id
    assert "contact_name" not in draft.answers  # the filed draft keeps no personal data


async def test_android_on_a_borrowed_phone_is_not_subscribed_and_can_follow_elsewhere(
    victim, register
):
    await victim.walk(
        states.MODEL,
        **{states.ACCOUNT: press("No, I borrowed this phone"), states.MAKE: press("Samsung")},
    )
    assert "android.com/lock" in victim.seen[-2].text
    await victim.walk(states.CHANNEL)
    labels = [label for label, _ in victim.seen[-1].buttons]
    assert "This Telegram chat" not in labels  # nothing goes to a borrowed account

    replies = await victim.file(**{states.CHANNEL: press("Text message")})
    reference, code = filed_reference(victim)
    shown = victim.texts(replies)
    assert "Theft protection" in shown
    link = (
        f"https://t.me/StolenPhoneReportBot?start={deep_link_payload(Reference(reference), code)}"
    )
    assert link in shown
    assert f"/status {reference} {code}" in shown
    assert "Nothing will be sent to this chat" in shown
    assert ("🧹 Clear this chat", "c:") in [
        (label, data[:2]) for label, data in replies[-1].buttons
    ]

    report = await register.reports.get(reference)
    assert (report.make, report.platform, report.own_account) == ("samsung", "android", False)
    assert await rows(register.db, Subscription) == []


async def test_without_the_imei_the_report_is_still_filed(victim, register):
    await victim.walk(states.IMEI)
    help_reply = await victim.press("How do I find it?")
    assert "box" in help_reply[-1].text and "account.apple.com" in help_reply[-1].text
    assert await victim.step() == states.IMEI

    later = await victim.press("I don't know it yet")
    assert "add the IMEI later with /status" in later[0].text
    assert await victim.step() == states.NUMBER

    await victim.file()
    reference, _ = filed_reference(victim)
    assert "not known yet" in victim.texts()
    report = await register.reports.get(reference)
    assert report.imeis == [] and report.imei_tac is None


async def test_a_second_imei_is_read_back_and_must_differ(victim, register):
    await victim.walk(states.IMEI2)
    same = await victim.send(FIRST_IMEI.digits)
    assert "same as the first IMEI" in same[0].text
    readback = await victim.send(SECOND_IMEI.digits)
    assert f"<code>{SECOND_IMEI.grouped}</code>" in readback[0].text
    await victim.press("Yes, that's right")
    await victim.file()
    reference, _ = filed_reference(victim)
    report = await register.reports.get(reference)
    assert report.imeis == [FIRST_IMEI.digits, SECOND_IMEI.digits]
    assert [r.reference for r in await register.reports.find_by_imei(SECOND_IMEI)] == [reference]


async def test_the_imei_is_accepted_in_any_form_and_read_back_grouped(victim):
    await victim.walk(states.IMEI)
    typed = f"IMEI {FIRST_IMEI.digits[:14]}"  # letters are refused, the digits alone are not
    refused = await victim.send(typed)
    assert "only digits" in refused[0].text
    fourteen = await victim.send(FIRST_IMEI.digits[:14])
    assert f"<code>{FIRST_IMEI.grouped}</code>" in fourteen[0].text
    again = await victim.press("No, type it again")
    assert "IMEI" in again[-1].text and await victim.step() == states.IMEI
    imeisv = await victim.send(" ".join([FIRST_IMEI.digits[:14], "07"]))
    assert f"<code>{FIRST_IMEI.grouped}</code>" in imeisv[0].text
    await victim.press("Yes, that's right")
    assert (await victim.answers())["imeis"] == [FIRST_IMEI.digits]


async def test_force_or_threats_urge_a_robbery_report(victim, register):
    await victim.walk(states.LOSS)
    replies = await victim.press("Taken with force or threats")
    assert "This is a robbery" in replies[0].text
    assert "999" in replies[0].text and "101" in replies[0].text
    answers = await victim.answers()
    assert (answers["theft_method"], answers["loss_kind"]) == ("force", "robbery")
    assert await victim.step() == states.TRACKED


async def test_a_pin_with_words_and_a_tracked_location(victim, register):
    await victim.walk(
        states.REVIEW,
        **{
            states.WHERE: pin(51.5142, -0.1494),
            states.WHERE_NOTE: send("outside the station exit"),
            states.TRACKED: press("Yes, I can see it"),
        },
    )
    tracked_question = next(m.text for m in victim.seen if "Where does it show" in (m.text or ""))
    assert "don't go there yourself" in tracked_question
    review = victim.seen[-1].text
    assert "outside the station exit, pin 51.51420, -0.14940" in review
    assert "Seen on the map: pin 51.52260, -0.15710" in review
    await victim.press("✅ Submit report")
    reference, _ = filed_reference(victim)
    report = await register.reports.get(reference)
    assert (report.incident_lat, report.incident_lon) == (51.5142, -0.1494)
    assert report.get("place") == "outside the station exit"
    assert (report.tracked_lat, report.tracked_lon) == (51.5226, -0.1571)
    assert utcnow() - report.tracked_at < timedelta(minutes=5)


async def test_when_earlier_today_asks_the_time(victim):
    await victim.walk(states.WHEN)
    await victim.press("Earlier today")
    assert await victim.step() == states.WHEN_TIME
    now = utcnow().astimezone(HandlerConfig().zone)
    earlier = now - timedelta(minutes=10)
    if earlier.date() != now.date():  # just after midnight: 00:00 is always earlier today
        earlier = now.replace(hour=0, minute=0)
    shown = await victim.send(earlier.strftime("%I:%M %p"))  # "10:35" alone could be either half
    assert earlier.strftime("%H:%M") in shown[-1].text and await victim.step() == states.WHEN_OK
    await victim.press("Yes, that's right")
    answers = await victim.answers()
    assert answers["incident_exact"] is True
    assert answers["incident_from"] == answers["incident_to"] == answers["incident_at"]
    assert datetime.fromisoformat(answers["incident_at"]) == earlier.replace(
        second=0, microsecond=0
    )
    assert await victim.step() == states.WHERE


async def test_when_yesterday_without_a_time_is_marked_approximate(victim):
    await victim.walk(states.WHEN)
    await victim.press("Yesterday")
    await victim.press("I don't know")
    answers = await victim.answers()
    assert answers["incident_exact"] is False
    day = (utcnow().astimezone(HandlerConfig().zone) - timedelta(days=1)).date()
    assert answers["incident_from"].startswith(day.isoformat())
    await victim.walk(states.REVIEW)
    assert "🕒 When: some time on " in victim.seen[-1].text


async def test_when_typed_as_a_day_and_time(victim):
    await victim.walk(states.WHEN)
    await victim.press("Another day")
    day = (utcnow() - timedelta(days=3)).astimezone(HandlerConfig().zone)
    await victim.send(day.strftime("%d %B 18:30"))  # "01/12" could be either order
    await victim.press("Yes, that's right")
    answers = await victim.answers()
    assert answers["incident_at"].startswith(day.strftime("%Y-%m-%d"))
    assert await victim.step() == states.WHERE


async def test_optional_questions_can_be_skipped(victim, register):
    await victim.file(
        **{
            states.MODEL: press("Skip"),
            states.COLOUR: press("Skip"),
            states.NUMBER: press("Skip"),
            states.NETWORK: press("I don't know"),
            states.CONTACT_EMAIL: press("Skip"),
            states.CHANNEL: press("Phone call"),
        }
    )
    reference, _ = filed_reference(victim)
    report = await register.reports.get(reference)
    for name in ("model", "colour", "stolen_number", "network", "contact_email"):
        assert report.get(name) is None
    assert report.get("preferred_channel") == "call"


async def test_every_message_of_the_conversation_is_remembered(victim, api):
    await victim.walk(states.TRACKED)
    draft = await victim.draft()
    shown = [m.message_id for m in api.visible(victim.chat_id)]
    assert sorted(draft.message_ids) == shown


async def test_in_a_group_the_bot_sends_people_to_a_private_chat(make_user, register):
    member = make_user(user_id=555, chat_id=-100123, chat_type="group")
    replies = await member.send("/start")
    assert "private chat" in replies[0].text
    assert "https://t.me/StolenPhoneReportBot" in replies[0].text
    assert await member.send("my phone was stolen") == []
    assert await register.drafts.get(-100123) is None
