"""Staff in Telegram: /lookup by every key StaffSearch knows, /reissue, /police and /alerts."""

from __future__ import annotations

import json

import pytest

from models.register import Register
from models.services.staff import Role
from models.storage.tables import Notification
from models.values.phone import PhoneNumber
from tests import staff_fixtures
from tests.factories import audit_events, imei, new_report, rows
from tests.staff_fixtures import ADMIN_ID, OFFICER_ID

staff_member = staff_fixtures.staff_member


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("+44 7912 345678", "phone"),
        ("07912345678", "phone"),
        ("ZOE@Example.ORG", "email"),
        ("o'brien zoe", "name"),
        ("name Zoë", "name"),
        ("1234567/24", "crime_reference"),
        ("crime 1234567/24", "crime_reference"),
    ],
)
async def test_lookup_finds_by_phone_email_name_and_crime_reference(
    register: Register, staff_member, typed: str, kind: str
) -> None:
    wanted = await register.reports.file(
        new_report(
            contact_name="Zoë O'Brien",
            contact_email="zoe@example.org",
            contact_phone=PhoneNumber.parse("07912 345678"),
        ),
        "k-wanted",
    )
    await register.reports.file(
        new_report(
            contact_name="Sam Other",
            contact_email="sam@example.org",
            contact_phone=PhoneNumber.parse("07911 123456"),
        ),
        "k-other",
    )
    await register.police.set_by_staff(
        wanted.reference, crime_reference="1234567/24", actor="test", channel="test"
    )
    officer = await staff_member(Role.OFFICER)

    (sheet,) = await officer.send(f"/lookup {typed}")

    assert sheet.text.startswith(f"<b>{wanted.reference}</b>")
    assert "Crime reference: 1234567/24" in sheet.text
    (event,) = await audit_events(register.db, "lookup")
    details = json.loads(event.details)
    assert (event.actor, details["kind"], details["found"]) == (f"tg:{OFFICER_ID}", kind, 1)
    # What was searched for is never in the audit trail.
    assert "7912" not in event.details and "zoe" not in event.details.lower()
    assert event.target is None


async def test_reissue_gives_a_new_code_to_the_staff_member_only(
    register: Register, staff_member, api
) -> None:
    filed = await register.reports.file(new_report(), "k-1")
    officer = await staff_member(Role.OFFICER)

    (reply,) = await officer.send(f"/reissue {filed.reference.lower()}")

    code = reply.text.split("<code>")[1].split("</code>")[0]
    assert code != filed.access_code
    assert await register.reports.verify_access(filed.reference, code) is not None
    assert await register.reports.verify_access(filed.reference, filed.access_code) is None
    # Sent once, to the asking staff member's private chat, and nowhere else.
    carrying = [call for call in api.calls if code in json.dumps(call.params)]
    assert [call.params["chat_id"] for call in carrying] == [OFFICER_ID]
    (event,) = await audit_events(register.db, "access_code_reissue")
    assert (event.actor, event.target) == (f"tg:{OFFICER_ID}", filed.reference)
    assert code not in (event.details or "")
    # The sheet's history says a code was reissued, never the code.
    (sheet,) = await officer.send(f"/lookup {filed.reference}")
    assert "access code reissued · tg:" in sheet.text and code not in sheet.text


async def test_reissue_refusals(register: Register, staff_member) -> None:
    officer = await staff_member(Role.OFFICER)
    (usage,) = await officer.send("/reissue")
    (bad,) = await officer.send("/reissue SPR-XXXX")
    (missing,) = await officer.send("/reissue SPR-7KQ4-M9")
    assert "/reissue SPR-XXXX-XX" in usage.text
    assert "not a valid reference" in bad.text
    assert "not in the register" in missing.text
    assert await audit_events(register.db, "access_code_reissue") == []


async def test_police_sets_the_crime_reference_and_force(register: Register, staff_member):
    filed = await register.reports.file(new_report(), "k-1")
    officer = await staff_member(Role.OFFICER)

    (done,) = await officer.send(f"/police {filed.reference} 1234567/24 British Transport Police")
    (again,) = await officer.send(f"/police {filed.reference} 1234567/24")
    (force_only,) = await officer.send(f"/police {filed.reference} - Met")

    assert "crime reference <code>1234567/24</code>, force British Transport Police" in done.text
    assert "nothing changed" in again.text
    assert "force Metropolitan Police Service" in force_only.text
    report = await register.reports.get(filed.reference)
    assert (report.crime_reference, report.police_force) == ("1234567/24", "metropolitan")
    (sheet,) = await officer.send(f"/lookup {filed.reference}")
    assert "Crime reference: 1234567/24 (Metropolitan Police Service)" in sheet.text
    assert "crime reference set to 1234567/24 · tg:" in sheet.text
    events = await audit_events(register.db, "police_reference")
    assert [json.loads(event.details)["set"] for event in events] == [
        ["crime_reference", "police_force"],
        ["police_force"],
    ]


async def test_police_refusals(register: Register, staff_member) -> None:
    filed = await register.reports.file(new_report(), "k-1")
    officer = await staff_member(Role.OFFICER)
    (usage,) = await officer.send(f"/police {filed.reference}")
    (ours,) = await officer.send(f"/police {filed.reference} {filed.reference}")
    (force,) = await officer.send(f"/police {filed.reference} 1234567/24 Atlantis Yard")
    (missing,) = await officer.send("/police SPR-7KQ4-M9 1234567/24")
    assert "/police SPR-XXXX-XX CRIME_REF [FORCE]" in usage.text
    assert ours.text.startswith("Not set: That is this report's own reference.")
    assert "police force is not known" in force.text
    assert "not in the register" in missing.text
    report = await register.reports.get(filed.reference)
    assert (report.crime_reference, report.police_force) == (None, None)


async def test_alerts_on_and_off(register: Register, staff_member) -> None:
    admin = await staff_member(Role.ADMIN)
    (state,) = await admin.send("/alerts")
    (on,) = await admin.send("/alerts ON")
    (now,) = await admin.send("/alerts")
    assert "Alerts are now <b>off</b>" in state.text
    assert "Staff alerts are <b>on</b>" in on.text
    assert "Alerts are now <b>on</b>" in now.text
    assert await register.alerts.subscribed(ADMIN_ID) is True
    (off,) = await admin.send("/alerts off")
    assert off.text == "Staff alerts are <b>off</b>."
    assert await register.alerts.subscribed(ADMIN_ID) is False
    assert len(await audit_events(register.db, "staff_alerts")) == 2


async def test_a_duplicate_imei_alert_reaches_subscribed_staff_and_shows_in_lookup(
    register: Register, staff_member
) -> None:
    officer = await staff_member(Role.OFFICER)
    await officer.send("/alerts on")
    shared = imei()
    first = await register.reports.file(new_report(imeis=(shared,)), "k-1")
    second = await register.reports.file(new_report(imeis=(shared,), make="samsung"), "k-2")
    queued = [row for row in await rows(register.db, Notification) if row.kind.startswith("alert:")]
    assert [(row.kind, row.chat_id) for row in queued] == [("alert:duplicate_imei", OFFICER_ID)]
    (sheet,) = await officer.send(f"/lookup {first.reference}")
    assert f"⚠️ Duplicate IMEI: also in {second.reference} (" in sheet.text
