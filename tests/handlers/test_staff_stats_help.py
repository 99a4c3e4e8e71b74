"""/stats and /staffhelp."""

from __future__ import annotations

from datetime import timedelta

from models.register import Register
from models.services.staff import Role
from models.storage.columns import utcnow
from tests import staff_fixtures
from tests.factories import new_report, set_report_columns

staff_member = staff_fixtures.staff_member


async def test_stats(register: Register, staff_member) -> None:
    today = utcnow()
    for n in range(3):
        filed = await register.reports.file(
            new_report(imeis=() if n == 2 else new_report().imeis, tracked_at=today), f"k-{n}"
        )
        await set_report_columns(register.db, filed.reference, created_at=today - timedelta(days=n))
    officer = await staff_member(Role.OFFICER)

    (reply,) = await officer.send("/stats")

    assert "3 reports · 3 in the last 30 days" in reply.text
    assert "With an IMEI: 67% · with a tracked location: 100%" in reply.text
    assert f"{today.date().isoformat()}       1" in reply.text
    assert "submitted          3" in reply.text
    assert "snatched moped       3" in reply.text


async def test_staffhelp_lists_what_the_role_allows(register: Register, staff_member) -> None:
    officer = await staff_member(Role.OFFICER)
    admin = await staff_member(Role.ADMIN)

    (for_officer,) = await officer.send("/staffhelp")
    (for_admin,) = await admin.send("/staffhelp")

    for command in ("/lookup", "/setstatus", "/stats", "/staffhelp"):
        assert command in for_officer.text and command in for_admin.text
    for command in ("/export", "/recover"):
        assert command not in for_officer.text
        assert command in for_admin.text
