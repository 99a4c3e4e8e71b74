"""`reportbot staff alerts USER_ID on|off` and the ALERTS column of `staff list`."""

from __future__ import annotations

import json

import pytest

from models.register import Register
from models.services.staff import Role
from tests import staff_fixtures
from tests.bot.cli_runner import run
from tests.factories import audit_events

cli_env = staff_fixtures.cli_env
pytestmark = pytest.mark.usefixtures("cli_env")


async def test_turn_alerts_on_and_off(register: Register, capsys) -> None:
    await register.staff.add(4242, Role.OFFICER, added_by="test")

    assert await run(capsys, "staff", "alerts", "4242", "on") == (0, "alerts on for 4242\n", "")
    assert await register.alerts.subscribed(4242) is True
    again = await run(capsys, "staff", "alerts", "4242", "on")
    assert again == (0, "alerts on for 4242 (already)\n", "")
    code, out, _ = await run(capsys, "staff", "list")
    assert code == 0
    header, row = out.splitlines()
    assert header.split()[:3] == ["USER_ID", "ROLE", "ALERTS"]
    assert row.split()[:3] == ["4242", "officer", "on"]

    assert await run(capsys, "staff", "alerts", "4242", "off") == (0, "alerts off for 4242\n", "")
    assert await register.alerts.subscribed(4242) is False
    events = await audit_events(register.db, "staff_alerts")
    assert [json.loads(event.details) for event in events] == [
        {"alerts": True},
        {"alerts": True},
        {"alerts": False},
    ]
    assert all(event.actor.startswith("cli:") for event in events)


async def test_not_staff_and_bad_state_are_one_line(register: Register, capsys) -> None:
    code, out, err = await run(capsys, "staff", "alerts", "4242", "on")
    assert (code, out, err) == (1, "", "reportbot: 4242 is not a staff member\n")

    code, out, err = await run(capsys, "staff", "alerts", "4242", "maybe")
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "invalid choice" in err
