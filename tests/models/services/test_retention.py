"""Tests for purging what the register no longer needs to keep."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from models.register import Register, RegisterConfig
from models.services.retention import (
    CODE_ATTEMPT_DAYS,
    PROCESSED_UPDATE_DAYS,
    PurgeResult,
    Retention,
)
from models.storage.tables import (
    AuditEvent,
    CodeAttempt,
    Draft,
    Notification,
    ProcessedUpdate,
    Report,
    ReportImei,
    StatusChange,
    Subscription,
)
from models.values.statuses import Status
from tests.factories import audit_events, new_report, rows, set_report_columns, subscribe

# How a report gets to each status (so its history and notifications are real).
PATHS = {
    Status.SUBMITTED: (),
    Status.LOCATED: (Status.LOCATED,),
    Status.RECOVERED: (Status.LOCATED, Status.RECOVERED),
    Status.RETURNED: (Status.LOCATED, Status.RECOVERED, Status.RETURNED),
    Status.CLOSED: (Status.LOCATED, Status.CLOSED),
    Status.WITHDRAWN: (Status.WITHDRAWN,),
}
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DAYS = 30


@pytest.fixture
def retention(register: Register) -> Retention:
    """Retention with a 30-day report period on the test register."""
    return Retention(register.db, report_days=DAYS)


async def _report(register: Register, key: str, status: Status, changed_days_ago: float) -> int:
    filed = await register.reports.file(new_report(), key)
    await subscribe(register.db, filed.report_id, 100 + filed.report_id)
    for step in PATHS[status]:
        await register.reports.change_status(filed.reference, step, actor="o")
    changed = NOW - timedelta(days=changed_days_ago)
    await set_report_columns(
        register.db,
        filed.reference,
        status_changed_at=changed,
        created_at=changed - timedelta(days=400),
    )
    return filed.report_id


async def _draft(register: Register, chat_id: int, expires_at: datetime) -> None:
    async with register.db.write() as session:
        session.add(
            Draft(
                chat_id=chat_id,
                user_id=chat_id,
                step="imei",
                idempotency_key=f"draft-{chat_id}",
                sealed=register.vault.seal_json({}, context=b"draft"),
                expires_at=expires_at,
            )
        )


async def _working_data(register: Register) -> None:
    async with register.db.write() as session:
        for update_id, age in ((1, PROCESSED_UPDATE_DAYS + 1), (2, PROCESSED_UPDATE_DAYS - 1)):
            session.add(
                ProcessedUpdate(update_id=update_id, processed_at=NOW - timedelta(days=age))
            )
        for chat_id, age in ((5, CODE_ATTEMPT_DAYS + 0.5), (6, CODE_ATTEMPT_DAYS - 0.5)):
            session.add(CodeAttempt(chat_id=chat_id, at=NOW - timedelta(days=age)))


async def _populate(register: Register) -> dict[str, int]:
    ids = {
        "closed_old": await _report(register, "k1", Status.CLOSED, DAYS + 1),
        "withdrawn_old": await _report(register, "k2", Status.WITHDRAWN, DAYS + 10),
        "returned_old": await _report(register, "k3", Status.RETURNED, DAYS + 100),
        "closed_recent": await _report(register, "k4", Status.CLOSED, DAYS - 1),
        "submitted_old": await _report(register, "k5", Status.SUBMITTED, DAYS * 20),
        "located_old": await _report(register, "k6", Status.LOCATED, DAYS * 20),
        "recovered_old": await _report(register, "k7", Status.RECOVERED, DAYS * 20),
    }
    await _draft(register, 11, NOW - timedelta(minutes=1))
    await _draft(register, 12, NOW + timedelta(minutes=1))
    await _working_data(register)
    return ids


KEPT = {"closed_recent", "submitted_old", "located_old", "recovered_old"}


async def test_purge_deletes_what_is_past_its_time(
    register: Register, retention: Retention
) -> None:
    ids = await _populate(register)
    audit_before = len(await rows(register.db, AuditEvent))

    result = await retention.purge(NOW, actor="cli:ops")

    assert result == PurgeResult(reports=3, drafts=1, processed_updates=1, code_attempts=1)
    kept_ids = {ids[name] for name in KEPT}
    assert {report.id for report in await rows(register.db, Report)} == kept_ids
    for table in (ReportImei, StatusChange, Subscription, Notification):
        assert {row.report_id for row in await rows(register.db, table)} <= kept_ids, table
    assert {row.report_id for row in await rows(register.db, Subscription)} == kept_ids
    assert [draft.chat_id for draft in await rows(register.db, Draft)] == [12]
    assert [row.update_id for row in await rows(register.db, ProcessedUpdate)] == [2]
    assert [row.chat_id for row in await rows(register.db, CodeAttempt)] == [6]
    # The audit trail is never purged; the purge itself is recorded.
    events = await rows(register.db, AuditEvent)
    assert len(events) == audit_before + 1
    purge = events[-1]
    assert (purge.actor, purge.action) == ("cli:ops", "purge")
    assert json.loads(purge.details) == {
        "reports": 3,
        "drafts": 1,
        "processed_updates": 1,
        "code_attempts": 1,
    }


async def test_dry_run_counts_without_deleting(register: Register, retention: Retention) -> None:
    ids = await _populate(register)
    audit_before = len(await rows(register.db, AuditEvent))

    result = await retention.purge(NOW, dry_run=True)

    assert result == PurgeResult(reports=3, drafts=1, processed_updates=1, code_attempts=1)
    assert {report.id for report in await rows(register.db, Report)} == set(ids.values())
    assert len(await rows(register.db, Draft)) == 2
    assert len(await rows(register.db, ProcessedUpdate)) == 2
    assert len(await rows(register.db, CodeAttempt)) == 2
    assert len(await rows(register.db, AuditEvent)) == audit_before
    # The real purge then deletes exactly what the dry run counted.
    assert await retention.purge(NOW) == result


async def test_purge_twice_deletes_nothing_more(register: Register, retention: Retention) -> None:
    await _populate(register)
    await retention.purge(NOW)

    assert await retention.purge(NOW) == PurgeResult(0, 0, 0, 0)
    assert len(await audit_events(register.db, "purge")) == 2


async def test_purge_of_an_empty_register(retention: Retention) -> None:
    assert await retention.purge(NOW) == PurgeResult(0, 0, 0, 0)


async def test_draft_of_a_purged_report_loses_its_link(
    register: Register, retention: Retention
) -> None:
    report_id = await _report(register, "k", Status.CLOSED, DAYS + 1)
    await _draft(register, 21, NOW + timedelta(hours=1))
    async with register.db.write() as session:
        await session.execute(update(Draft).where(Draft.chat_id == 21).values(report_id=report_id))

    await retention.purge(NOW)

    (draft_row,) = await rows(register.db, Draft)
    assert draft_row.report_id is None


async def test_register_uses_the_configured_retention(register: Register) -> None:
    configured = Register(register.db, register.vault, RegisterConfig(report_retention_days=5))
    report_id = await _report(register, "k", Status.CLOSED, 6)
    await _report(register, "k2", Status.CLOSED, 4)

    result = await configured.retention.purge(NOW)

    assert result.reports == 1
    assert report_id not in {report.id for report in await rows(register.db, Report)}
