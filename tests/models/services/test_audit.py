"""Tests for the audit trail."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from models.register import Register
from models.services.audit import record
from models.storage.tables import AuditEvent
from tests.factories import audit_events


async def test_record_and_read_back(register: Register) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)

    await register.audit.record("officer:7", "export", None, format="csv", rows=12)
    await register.audit.record("cli:root", "lookup", "35391810******", found=0)

    events = [event async for event in register.audit.events()]
    assert [(e.actor, e.action, e.target) for e in events] == [
        ("officer:7", "export", None),
        ("cli:root", "lookup", "35391810******"),
    ]
    assert json.loads(events[0].details) == {"format": "csv", "rows": 12}
    assert json.loads(events[1].details) == {"found": 0}
    assert all(event.at >= before and event.at.tzinfo is not None for event in events)


async def test_details_with_dates_are_stored_as_text(register: Register) -> None:
    since = datetime(2026, 1, 2, tzinfo=UTC)

    await register.audit.record("a", "export", None, since=since, status=None)

    (event,) = await audit_events(register.db, "export")
    assert json.loads(event.details) == {"since": str(since), "status": None}


async def test_record_joins_the_callers_transaction(register: Register) -> None:
    with pytest.raises(RuntimeError):
        async with register.db.write() as session:
            record(session, "a", "doomed", None, {})
            await session.flush()
            raise RuntimeError("the change failed")

    async with register.db.write() as session:
        record(session, "a", "kept", "T", {"n": 1})

    assert [event.action for event in await audit_events(register.db)] == ["kept"]


async def test_events_pages_through_everything_in_order(register: Register) -> None:
    for n in range(7):
        await register.audit.record("a", "lookup", f"target-{n}")

    events = [event async for event in register.audit.events(batch=3)]

    assert [event.target for event in events] == [f"target-{n}" for n in range(7)]


async def test_events_since(register: Register) -> None:
    old = datetime(2025, 1, 1, tzinfo=UTC)
    async with register.db.write() as session:
        session.add(AuditEvent(actor="a", action="old", at=old))
        session.add(AuditEvent(actor="a", action="newer", at=old + timedelta(days=2)))
    await register.audit.record("a", "now")

    since = [event.action async for event in register.audit.events(since=old + timedelta(days=1))]

    assert since == ["newer", "now"]
