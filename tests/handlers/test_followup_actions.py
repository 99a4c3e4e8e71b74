"""The status view's buttons: add an IMEI, add a tracked location, withdraw, and re-checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.local_api import LocalBotApi
from handlers.followup import access, waiting
from handlers.followup.actions import clean_place, parse_time_today
from models.register import Register
from models.values.imei import Imei
from models.values.statuses import Status
from tests.factories import audit_events, imei
from tests.followup_fixtures import file_report

TWO_IMEIS = 2


async def open_status(make_user, filed, user_id: int = 8001):
    """A user who proved access with /status; returns (user, the status view)."""
    user = make_user(user_id=user_id)
    [view] = await user.send(f"/status {filed.reference} {filed.access_code}")
    return user, view


def alerts(api: LocalBotApi) -> list[str]:
    """Texts of the alerts and toasts the bot answered button presses with."""
    return [
        str(call.params.get("text", ""))
        for call in api.calls
        if call.method == "answerCallbackQuery" and call.params.get("text")
    ]


async def test_adding_an_imei_reads_it_back_first(register: Register, make_user, api) -> None:
    filed = await file_report(register, imeis=())
    user, _ = await open_status(make_user, filed)
    [ask] = await user.press("➕ Add IMEI")
    assert "Send the phone's IMEI" in ask.text
    [bad] = await user.send("35 209900 176148 2")
    assert "do not add up" in bad.text
    assert [label for label, _ in bad.buttons] == ["Cancel"]
    [sticker] = await user.send_sticker()
    assert "type the IMEI as digits" in sticker.text
    [check] = await user.send("35-209900-176148-1")
    assert "352 099 001 761 481" in check.text
    [again] = await user.press("No, type it again")
    assert "Send the phone's IMEI" in again.text
    await user.send("352099001761481")
    [done] = await user.press("Yes, add it")
    assert f"The IMEI is added to report {filed.reference}" in done.text and not done.buttons
    report = await register.reports.get(filed.reference)
    assert report is not None and report.imeis == ["352099001761481"]
    [found] = await register.reports.find_by_imei(Imei.parse("352099001761481"))
    assert found.reference == filed.reference
    assert [event.target for event in await audit_events(register.db, "add_imei")] == [
        filed.reference
    ]
    # A second tap changes nothing, and the chat no longer waits for an IMEI.
    await user.press_data(f"f:iy:{_token(user)}", done)
    report = await register.reports.get(filed.reference)
    assert report is not None and len(report.imeis) == 1
    assert waiting.get_wait(user.application.chat_data[user.chat_id]) is None


async def test_an_imei_in_another_open_report_is_flagged(register: Register, make_user) -> None:
    shared = imei()
    await file_report(register, imeis=(shared,))
    filed = await file_report(register, imeis=())
    user, _ = await open_status(make_user, filed)
    await user.press("➕ Add IMEI")
    await user.send(shared.digits)
    await user.press("Yes, add it")
    [event] = await audit_events(register.db, "duplicate_imei")
    assert event.target == filed.reference


async def test_no_add_imei_when_the_report_has_two(register: Register, make_user) -> None:
    filed = await file_report(register, imeis=(imei(), imei()))
    _, view = await open_status(make_user, filed)
    assert "➕ Add IMEI" not in [label for label, _ in view.buttons]


async def test_adding_the_same_imei_again_changes_nothing(register: Register, make_user) -> None:
    known = imei()
    filed = await file_report(register, imeis=(known,))
    user, _ = await open_status(make_user, filed)
    await user.press("➕ Add IMEI")
    await user.send(known.digits)
    [reply] = await user.press("Yes, add it")
    assert "already in report" in reply.text


async def test_adding_a_tracked_pin_just_now(register: Register, make_user) -> None:
    filed = await file_report(register)
    user, _ = await open_status(make_user, filed)
    [ask] = await user.press("📍 Add tracked location")
    assert "don't go there yourself" in ask.text
    [bad] = await user.send_photo()
    assert "share a location pin" in bad.text
    [when] = await user.send_location(51.5155, -0.0922)
    assert [label for label, _ in when.buttons] == ["Just now", "About an hour ago", "Cancel"]
    before = datetime.now(UTC)
    [done] = await user.press("Just now")
    assert "location is added" in done.text
    report = await register.reports.get(filed.reference)
    assert report is not None
    assert (report.tracked_lat, report.tracked_lon) == (51.5155, -0.0922)
    assert report.tracked_at is not None and report.tracked_at >= before - timedelta(seconds=1)
    assert report.get("tracked_history")[-1]["lat"] == 51.5155


async def test_adding_a_typed_place_with_a_typed_time(register: Register, make_user) -> None:
    filed = await file_report(register)
    user, _ = await open_status(make_user, filed)
    await user.press("📍 Add tracked location")
    await user.send("Brick Lane\u200b  market <b>stall</b>")
    [retry] = await user.send("teatime")
    assert "14:30" in retry.text
    [done] = await user.send("14:30")
    assert "location is added" in done.text
    report = await register.reports.get(filed.reference)
    assert report is not None
    assert report.get("tracked_place") == "Brick Lane market <b>stall</b>"
    assert report.tracked_lat is None and report.tracked_at is not None
    [view] = await user.send(f"/status {filed.reference} {filed.access_code}")
    assert "Last tracked location added" in view.text


async def test_withdrawing_asks_first(register: Register, make_user, api) -> None:
    filed = await file_report(register)
    user, _ = await open_status(make_user, filed)
    [confirm] = await user.press("Withdraw report")
    assert "Police will stop looking" in confirm.text
    [view] = await user.press("No, keep it")
    assert "Status: <b>Submitted</b>" in view.text
    await user.press("Withdraw report")
    [view] = await user.press("Yes, withdraw it")
    assert "Status: <b>Withdrawn</b>" in view.text
    assert f"Report {filed.reference} is withdrawn" in alerts(api)[-1]
    labels = [label for label, _ in view.buttons]
    assert labels == ["🔔 Get updates here", "↻ Refresh"]
    report = await register.reports.get(filed.reference)
    assert report is not None and report.status is Status.WITHDRAWN
    assert report.history[-1].actor == "victim"
    # A stale "Yes" on the old confirmation does nothing more.
    await user.press_data(f"f:wdy:{_token(user)}", view)
    assert "can't be changed" in alerts(api)[-1]
    report = await register.reports.get(filed.reference)
    assert report is not None and len(report.history) == 2


async def test_buttons_never_work_without_a_live_session(register: Register, make_user, api):
    filed = await file_report(register)
    user, view = await open_status(make_user, filed)
    withdraw = next(data for label, data in view.buttons if label == "Withdraw report")
    # Forged data, or another chat pressing this chat's button: nothing happens.
    await user.press_data("f:wdy:forged", view)
    stranger = make_user(user_id=8099)
    await stranger.press_data(withdraw.replace(":wd:", ":wdy:"), view)
    assert (
        alerts(api).count(
            "This button has expired. For your safety, send /status with your reference "
            "and access code again."
        )
        == 2
    )
    # After the session's time is up, the chat's own buttons stop working too.
    sessions = user.application.chat_data[user.chat_id][access.SESSIONS]
    for entry in sessions.values():
        entry["expires"] = 0
    await user.press_data(withdraw, view)
    assert alerts(api)[-1].startswith("This button has expired")
    report = await register.reports.get(filed.reference)
    assert report is not None and report.status is Status.SUBMITTED


async def test_a_command_ends_the_wait_for_an_answer(register: Register, make_user) -> None:
    filed = await file_report(register, imeis=())
    user, _ = await open_status(make_user, filed)
    await user.press("➕ Add IMEI")
    chat_data = user.application.chat_data[user.chat_id]
    assert waiting.get_wait(chat_data) is not None
    await user.send("/help")
    assert waiting.get_wait(chat_data) is None


async def test_cancel_changes_nothing(register: Register, make_user) -> None:
    filed = await file_report(register, imeis=())
    user, _ = await open_status(make_user, filed)
    await user.press("📍 Add tracked location")
    [cancelled] = await user.press("Cancel")
    assert cancelled.text == "OK, nothing was changed."
    assert waiting.get_wait(user.application.chat_data[user.chat_id]) is None
    report = await register.reports.get(filed.reference)
    assert report is not None and report.tracked_at is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("14:30", (14, 30)), ("09:05", (9, 5)), ("23h59", (23, 59)), ("24:00", None), ("x", None)],
)
def test_typed_times_are_the_registers_time_never_in_the_future(typed: str, expected) -> None:
    now = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)  # 13:00 in London (summer time)
    moment = parse_time_today(typed, "en", now=now, zone=ZoneInfo("Europe/London"))
    if expected is None:
        assert moment is None
        return
    assert moment is not None and moment <= now
    assert (moment.hour + 1) % 24 == expected[0] and moment.minute == expected[1]


def test_places_are_tidied_and_bounded() -> None:
    assert clean_place("  Oxford\u200b  Circus ") == "Oxford Circus"
    assert clean_place("x") is None
    assert clean_place("y" * 201) is None


def _token(user) -> str:
    sessions = user.application.chat_data[user.chat_id][access.SESSIONS]
    return next(iter(sessions))
