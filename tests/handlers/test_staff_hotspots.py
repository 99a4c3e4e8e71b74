"""/hotspots: a table and a picture for officers and admins, audited; anyone else is refused."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.local_api import BOT_USER, LocalBotApi
from handlers.staff.hotspots import MAX_DAYS
from handlers.texts import text
from models.present.png import SIGNATURE
from models.register import Register
from models.services.staff import Role
from models.storage.columns import utcnow
from tests import staff_fixtures
from tests.factories import audit_events, new_report, set_report_columns

staff_member = staff_fixtures.staff_member

STASH = (51.54420, -0.10260)


async def file_reports(register: Register) -> None:
    """Three thefts at Oxford Circus whose phones were all tracked to one address, and one old."""
    now = utcnow()
    for n in range(3):
        filed = await register.reports.file(
            new_report(incident_lat=51.51520, incident_lon=-0.14190 + 0.0003 * n), f"k-{n}"
        )
        await set_report_columns(
            register.db,
            filed.reference,
            tracked_lat=STASH[0],
            tracked_lon=STASH[1] + 0.0001 * n,
            tracked_at=now - timedelta(hours=n),
        )
    old = await register.reports.file(new_report(incident_lat=53.48, incident_lon=-2.24), "old")
    await set_report_columns(register.db, old.reference, created_at=now - timedelta(days=40))


def unknown_command_answer(chat_type: str) -> str:
    if chat_type == "private":
        return text("common.unknown_command")
    return text("common.private_only", link=f"https://t.me/{BOT_USER['username']}")


async def test_officer_gets_table_and_picture(register: Register, staff_member, api) -> None:
    await file_reports(register)
    officer = await staff_member(Role.OFFICER)

    table, picture = await officer.send("/hotspots")

    assert "last 30 days" in table.text and "2 busy cells" in table.text
    lines = table.text.split("<pre>")[1].split("</pre>")[0].splitlines()
    assert lines[1].startswith(" 1  51.54")
    assert lines[1].split()[2:4] == ["0", "3"] and lines[1].endswith(" *")
    assert lines[2].startswith(" 2  51.51") and lines[2].split()[2:4] == ["3", "0"]
    assert "Tracked clusters: 1" in table.text
    assert "53.47" not in table.text
    assert picture.photo is not None and picture.text and "blue" in picture.text
    png = api.files[picture.photo]
    assert png.startswith(SIGNATURE) and len(png) < 200_000
    (event,) = await audit_events(register.db, "hotspots")
    assert event.actor == f"tg:{staff_fixtures.OFFICER_ID}"
    assert json.loads(event.details) == {"cells": 2, "channel": "telegram", "days": 30}


async def test_days_argument_and_bad_input(register: Register, staff_member) -> None:
    await file_reports(register)
    admin = await staff_member(Role.ADMIN)

    table, _ = await admin.send("/hotspots 60")
    assert "last 60 days" in table.text and "3 busy cells" in table.text
    for bad in ("/hotspots 0", "/hotspots x", f"/hotspots {MAX_DAYS + 1}", "/hotspots 1 2"):
        (reply,) = await admin.send(bad)
        assert reply.text == text("staff.hotspots_usage", most=MAX_DAYS), bad
    details = [json.loads(e.details) for e in await audit_events(register.db, "hotspots")]
    assert details == [{"cells": 3, "channel": "telegram", "days": 60}]


async def test_nothing_located(register: Register, staff_member, api: LocalBotApi) -> None:
    officer = await staff_member(Role.OFFICER)

    (reply,) = await officer.send("/hotspots 7")

    assert reply.text == text("staff.hotspots_none", days=7)
    assert not [call for call in api.calls if call.method == "sendPhoto"]
    (event,) = await audit_events(register.db, "hotspots")
    assert json.loads(event.details)["cells"] == 0


@pytest.mark.parametrize("chat_type", ["private", "group"])
@pytest.mark.parametrize("role", [None, Role.OFFICER, Role.ADMIN])
async def test_role_checks(register: Register, staff_member, api, role, chat_type) -> None:
    await file_reports(register)
    user = await staff_member(role, chat_type=chat_type)

    replies = await user.send("/hotspots")

    if role is not None and chat_type == "private":
        assert len(replies) == 2 and replies[1].photo is not None
        assert len(await audit_events(register.db, "hotspots")) == 1
    else:
        assert [r.text for r in replies] == [unknown_command_answer(chat_type)]
        assert [r.buttons for r in replies] == [[]]
        assert await audit_events(register.db, "hotspots") == []
        assert not [call for call in api.calls if call.method == "sendPhoto"]


async def test_staffhelp_lists_hotspots(register: Register, staff_member) -> None:
    officer = await staff_member(Role.OFFICER)
    (reply,) = await officer.send("/staffhelp")
    assert "/hotspots" in reply.text
