"""/setstatus and the status buttons: every transition, the refusals, history and the outbox."""

from __future__ import annotations

import json

import pytest

from models.register import Register
from models.services.staff import Role
from models.storage.tables import Notification
from models.values.statuses import NOTIFY_VICTIM, TRANSITIONS, Status
from tests import staff_fixtures
from tests.factories import audit_events, new_report, rows, set_report_columns, subscribe

staff_member = staff_fixtures.staff_member
CHAT = 4242


async def report_in(register: Register, status: Status, key: str = "") -> tuple[str, int]:
    filed = await register.reports.file(new_report(), f"k-{status.value}-{key}")
    await set_report_columns(register.db, filed.reference, status=status.value)
    await subscribe(register.db, filed.report_id, CHAT)
    return filed.reference, filed.report_id


@pytest.mark.parametrize("current", list(Status), ids=[status.value for status in Status])
async def test_every_transition_by_command(
    register: Register, staff_member, current: Status
) -> None:
    """From CURRENT to every status: allowed moves happen, the others are refused."""
    officer = await staff_member(Role.OFFICER)
    for wanted in Status:
        reference, report_id = await report_in(register, current, wanted.value)

        (reply,) = await officer.send(f"/setstatus {reference} {wanted.value} seen on CCTV <cam 4>")

        case = f"{current.value} -> {wanted.value}"
        report = await register.reports.get(reference)
        assert report is not None
        notifications = await rows(register.db, Notification, Notification.report_id == report_id)
        events = [
            e for e in await audit_events(register.db, "status_change") if e.target == reference
        ]
        if wanted in TRANSITIONS[current]:
            assert report.status is wanted, case
            last = report.history[-1]
            assert (last.status, last.actor, last.note) == (
                wanted,
                f"tg:{officer.user_id}",
                "seen on CCTV <cam 4>",
            ), case
            assert f"{current.value} → <b>{wanted.value}</b>" in reply.text, case
            if wanted in NOTIFY_VICTIM:
                assert [(n.chat_id, n.kind) for n in notifications] == [
                    (CHAT, f"status:{wanted.value}")
                ], case
                assert "notifications queued: 1" in reply.text, case
            else:
                assert notifications == [], case
                assert "not notified" in reply.text, case
            (event,) = events
            assert event.actor == f"tg:{officer.user_id}", case
            assert json.loads(event.details) == {"from": current.value, "to": wanted.value}
        else:
            assert report.status is current, case
            assert notifications == [], case
            assert events == [], case
            if wanted is current:
                assert "already" in reply.text, case
            else:
                allowed = ", ".join(status.value for status in TRANSITIONS[current])
                assert f"Allowed: {allowed}." in reply.text, case
                assert [data for _, data in reply.buttons] == [
                    f"s:st:{reference}:{status.value}" for status in TRANSITIONS[current]
                ], case


@pytest.mark.parametrize("current", list(Status), ids=[status.value for status in Status])
async def test_every_allowed_transition_by_button(
    register: Register, staff_member, current: Status
) -> None:
    """From CURRENT, each button offered moves the report there."""
    officer = await staff_member(Role.OFFICER)
    for wanted in TRANSITIONS[current]:
        reference, _ = await report_in(register, current, wanted.value)
        (choices,) = await officer.send(f"/setstatus {reference}")
        assert [label for label, _ in choices.buttons] == [s.value for s in TRANSITIONS[current]]

        replies = await officer.press(wanted.value, choices)

        report = await register.reports.get(reference)
        assert report is not None and report.status is wanted
        assert replies[0].message_id == choices.message_id and replies[0].buttons == []
        assert f"→ <b>{wanted.value}</b>" in replies[-1].text


async def test_a_button_pressed_twice_moves_once(register: Register, staff_member) -> None:
    reference, _ = await report_in(register, Status.SUBMITTED)
    officer = await staff_member(Role.OFFICER)
    (choices,) = await officer.send(f"/setstatus {reference}")
    data = f"s:st:{reference}:located"

    await officer.press_data(data, choices)
    replies = await officer.press_data(data, choices)

    assert "already <b>located</b>" in replies[-1].text
    report = await register.reports.get(reference)
    assert report is not None
    assert [entry.status for entry in report.history].count(Status.LOCATED) == 1
    assert len(await rows(register.db, Notification)) == 1


async def test_bad_input(register: Register, staff_member, api) -> None:
    reference, _ = await report_in(register, Status.SUBMITTED)
    officer = await staff_member(Role.OFFICER)

    (usage,) = await officer.send("/setstatus")
    (bad_ref,) = await officer.send("/setstatus SPR-22 located")
    (bad_status,) = await officer.send(f"/setstatus {reference} found")
    (missing,) = await officer.send("/setstatus SPR-7KQ4-M9 located")
    (long_note,) = await officer.send(f"/setstatus {reference} located {'x' * 501}")
    forged = await officer.press_data(f"s:st:{reference}:nonsense", usage)

    assert "/setstatus REF STATUS" in usage.text
    assert "not a valid reference" in bad_ref.text
    assert "unknown status 'found'" in bad_status.text
    assert "No report <code>SPR-7KQ4-M9</code>" in missing.text
    assert "too long" in long_note.text
    assert forged == []
    assert "no longer works" in api.calls[-1].params["text"]
    assert api.calls[-1].method == "answerCallbackQuery"
    report = await register.reports.get(reference)
    assert report is not None and report.status is Status.SUBMITTED


async def test_a_final_status_without_moves_offers_no_buttons(
    register: Register, staff_member, monkeypatch
) -> None:
    import handlers.staff.render as render

    reference, _ = await report_in(register, Status.CLOSED)
    monkeypatch.setattr(render, "allowed_next", lambda status: ())
    officer = await staff_member(Role.OFFICER)

    (reply,) = await officer.send(f"/setstatus {reference}")

    assert "cannot move anywhere" in reply.text
    assert reply.buttons == []
