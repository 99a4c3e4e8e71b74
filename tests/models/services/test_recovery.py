"""Bulk recovery: matching, ambiguous handsets, applying in chunks exactly once, auditing."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from models.register import Register
from models.services.recovery import ChunkDone, Recovery, result_rows
from models.services.reports import MATCH_CHUNK
from models.services.seized import parse_seized
from models.storage.database import Database
from models.storage.tables import Notification, StatusChange
from models.values.imei import Imei
from models.values.statuses import Status
from tests.factories import audit_events, imei, new_report, rows, subscribe
from tests.staff_fixtures import bulk_imei, bulk_reports


def dashed(value: Imei) -> str:
    """An IMEI typed with dashes, as 2-6-6-1."""
    d = value.digits
    return f"{d[:2]}-{d[2:8]}-{d[8:14]}-{d[14]}"


# --- matching and applying ----------------------------------------------------------------------


async def test_mixed_file_run_twice_changes_nothing_the_second_time(register: Register) -> None:
    first, second, dual_a, dual_b, known_closed, unknown = (imei() for _ in range(6))
    open_one = await register.reports.file(new_report(imeis=(first,)), "k-open-1")
    reviewed = await register.reports.file(new_report(imeis=(second,)), "k-open-2")
    await register.reports.change_status(reviewed.reference, Status.UNDER_REVIEW, actor="t")
    dual = await register.reports.file(new_report(imeis=(dual_a, dual_b)), "k-dual")
    closed = await register.reports.file(new_report(imeis=(known_closed,)), "k-closed")
    await register.reports.change_status(closed.reference, Status.CLOSED, actor="t")
    await subscribe(register.db, open_one.report_id, chat_id=777)
    await subscribe(register.db, dual.report_id, chat_id=778)
    content = "\n".join(
        [
            "IMEI",
            first.digits,
            second.digits[:14],  # 14 digits
            dashed(dual_a),
            dual_b.digits[:14] + "12",  # 16 digits, the same report's other IMEI
            known_closed.digits,
            unknown.digits,
            "not an imei",
            first.grouped,  # duplicate of line 2
        ]
    )
    seized = parse_seized(content.encode())

    dry = await register.recovery.run(seized, actor="cli:ann", dry_run=True, channel="cli")

    expected = sorted([open_one.reference, reviewed.reference, dual.reference])
    assert list(dry.recovered) == expected
    assert [m.reference for m in dry.plan.to_recover] == expected
    assert [(m.reference, m.status) for m in dry.plan.left_alone] == [
        (closed.reference, Status.CLOSED)
    ]
    assert [h.line for h in dry.plan.matched] == [2, 3, 4, 5, 6]
    assert [u.line for u in dry.plan.unknown] == [7]
    assert [bad.line for bad in seized.malformed] == [8]
    assert [(d.line, d.first_line) for d in seized.duplicates] == [(9, 2)]
    view = await register.reports.get(open_one.reference)
    assert view is not None and view.status is Status.SUBMITTED  # a dry run changes nothing

    applied = await register.recovery.run(seized, actor="cli:ann", dry_run=False, channel="cli")

    assert list(applied.recovered) == expected
    assert applied.notifications == 2
    for reference in expected:
        view = await register.reports.get(reference)
        assert view is not None
        assert view.status is Status.RECOVERED
        assert view.history[-1].actor == "cli:ann"
        assert "bulk recovery" in (view.history[-1].note or "")
    closed_view = await register.reports.get(closed.reference)
    assert closed_view is not None and closed_view.status is Status.CLOSED
    queued = await rows(register.db, Notification)
    assert sorted((n.report_id, n.chat_id, n.kind) for n in queued) == sorted(
        [(open_one.report_id, 777, "status:recovered"), (dual.report_id, 778, "status:recovered")]
    )
    changes_after_first = len(await rows(register.db, StatusChange))

    again = await register.recovery.run(seized, actor="cli:ann", dry_run=False, channel="cli")

    assert again.recovered == ()
    assert again.notifications == 0
    assert len(again.plan.left_alone) == 4
    assert len(await rows(register.db, StatusChange)) == changes_after_first
    assert len(await rows(register.db, Notification)) == 2

    events = await audit_events(register.db, "recovery")
    details = [json.loads(event.details) for event in events]
    assert [(d["dry_run"], d["recovered"]) for d in details] == [(True, 3), (False, 3), (False, 0)]
    assert details[1] == {
        "channel": "cli",
        "dry_run": False,
        "values": 8,
        "matched": 5,
        "unknown": 1,
        "ambiguous": 0,
        "malformed": 1,
        "duplicates": 1,
        "recovered": 3,
        "references": expected,
        "held_back": [],
        "left_alone": 1,
        "notifications": 2,
    }
    # Never an IMEI in the audit trail, not even masked ones.
    for event in events:
        for value in (first, second, dual_a, dual_b, known_closed, unknown):
            assert value.digits[:8] not in event.details


async def test_a_report_moved_after_the_plan_is_not_recovered_twice(register: Register) -> None:
    value = imei()
    filed = await register.reports.file(new_report(imeis=(value,)), "k-race")
    seized = parse_seized(value.digits.encode())
    plan = await register.recovery.plan(seized)
    assert [m.reference for m in plan.to_recover] == [filed.reference]
    await register.reports.change_status(filed.reference, Status.RECOVERED, actor="officer")

    outcome = await register.recovery.run(seized, actor="t", dry_run=False, channel="cli")

    assert outcome.recovered == ()
    view = await register.reports.get(filed.reference)
    assert view is not None
    assert [entry.status for entry in view.history].count(Status.RECOVERED) == 1


async def test_result_rows_cover_every_value(register: Register) -> None:
    known, unknown = imei(), imei()
    filed = await register.reports.file(new_report(imeis=(known,)), "k-rows")
    seized = parse_seized(f"{known.digits}\n{unknown.digits}\n=cmd|x\n{known.digits}\n".encode())

    plan = await register.recovery.plan(seized)

    assert result_rows(plan) == [
        (1, known.digits, "matched", filed.reference, "submitted"),
        (2, unknown.digits, "not in the register", "", ""),
        (3, "=cmd|x", "malformed", "", seized.malformed[0].reason),
        (4, known.digits, "repeated", "", "first on line 1"),
    ]


async def test_10k_lines_against_a_large_register(register: Register) -> None:
    """10,000 seized lines (1,000 known) against a register bigger than one IN list, timed."""
    size = 20_000
    made = await bulk_reports(register, size)
    seized_numbers = list(range(0, size, 20)) + list(range(10**9, 10**9 + 9_000))
    content = "\n".join(bulk_imei(number).digits for number in seized_numbers).encode()
    assert len(seized_numbers) == 10_000 > MATCH_CHUNK

    started = time.perf_counter()
    outcome = await register.recovery.run(
        parse_seized(content), actor="t", dry_run=False, channel="cli"
    )
    elapsed = time.perf_counter() - started

    print(f"recovery of 10,000 lines against {size:,} reports: {elapsed:.2f}s")
    assert len(outcome.recovered) == 1_000
    assert len(outcome.plan.unknown) == 9_000
    async with register.db.read() as session:
        recovered = (
            await session.execute(
                select(func.count())
                .select_from(StatusChange)
                .where(StatusChange.status == "recovered")
            )
        ).scalar_one()
    assert recovered == 1_000
    assert made[0].reference in outcome.recovered


# --- one seized handset, several reports ----------------------------------------------------------


async def test_an_imei_in_two_open_reports_marks_neither(register: Register) -> None:
    shared, own = imei(), imei()
    first = await register.reports.file(new_report(make="apple", imeis=(shared,)), "k-first")
    second = await register.reports.file(new_report(make="samsung", imeis=(shared,)), "k-second")
    third = await register.reports.file(new_report(imeis=(own,)), "k-own")
    await subscribe(register.db, first.report_id, chat_id=801)
    await subscribe(register.db, second.report_id, chat_id=802)
    seized = parse_seized(f"IMEI\n{shared.digits}\n{own.digits}\n".encode())

    outcome = await register.recovery.run(seized, actor="cli:ann", dry_run=False, channel="cli")

    assert outcome.recovered == (third.reference,)
    (handset,) = outcome.plan.ambiguous
    assert handset.line == 2 and handset.imei == shared
    assert sorted((m.reference, m.status, m.make) for m in handset.reports) == sorted(
        [
            (first.reference, Status.SUBMITTED, "apple"),
            (second.reference, Status.SUBMITTED, "samsung"),
        ]
    )
    assert all(m.created_at.tzinfo is not None for m in handset.reports)
    for filed in (first, second):
        view = await register.reports.get(filed.reference)
        assert view is not None and view.status is Status.SUBMITTED
    assert await rows(register.db, Notification) == []
    ((_, value, result, references, detail),) = [
        row for row in result_rows(outcome.plan) if row[0] == 2
    ]
    assert (value, result) == (shared.digits, "ambiguous")
    assert sorted(references.split()) == sorted([first.reference, second.reference])
    filed_on = f"{handset.reports[0].created_at:%Y-%m-%d}"
    assert f"{first.reference} (submitted, apple, filed {filed_on})" in detail
    assert f"{second.reference} (submitted, samsung, filed {filed_on})" in detail
    (event,) = await audit_events(register.db, "recovery")
    assert json.loads(event.details)["ambiguous"] == 1


async def test_after_a_person_chooses_a_rerun_still_marks_nothing_else(register: Register) -> None:
    shared = imei()
    chosen = await register.reports.file(new_report(imeis=(shared,)), "k-chosen")
    other = await register.reports.file(new_report(imeis=(shared,)), "k-other")
    seized = parse_seized(shared.digits.encode())
    await register.recovery.run(seized, actor="t", dry_run=False, channel="cli")
    await register.reports.change_status(chosen.reference, Status.RECOVERED, actor="officer")

    again = await register.recovery.run(seized, actor="t", dry_run=False, channel="cli")

    assert again.recovered == ()
    assert [h.line for h in again.plan.ambiguous] == [1]
    view = await register.reports.get(other.reference)
    assert view is not None and view.status is Status.SUBMITTED


async def test_a_returned_or_closed_report_does_not_claim_the_handset(register: Register) -> None:
    """A phone returned to its owner can be stolen again: the new report is the one."""
    value = imei()
    old = await register.reports.file(new_report(imeis=(value,)), "k-old")
    for status in (Status.RECOVERED, Status.RETURNED):
        await register.reports.change_status(old.reference, status, actor="t")
    withdrawn = await register.reports.file(new_report(imeis=(value,)), "k-withdrawn")
    await register.reports.change_status(withdrawn.reference, Status.WITHDRAWN, actor="victim")
    new = await register.reports.file(new_report(imeis=(value,)), "k-new")

    outcome = await register.recovery.run(
        parse_seized(value.digits.encode()), actor="t", dry_run=False, channel="cli"
    )

    assert outcome.recovered == (new.reference,)
    assert outcome.plan.ambiguous == []
    assert sorted(m.reference for m in outcome.plan.left_alone) == sorted(
        [old.reference, withdrawn.reference]
    )


async def test_a_dual_sim_report_with_one_imei_also_filed_elsewhere(register: Register) -> None:
    """One line names it alone: it is recovered; the shared line stays ambiguous."""
    own, shared = imei(), imei()
    dual = await register.reports.file(new_report(imeis=(own, shared)), "k-dual")
    other = await register.reports.file(new_report(imeis=(shared,)), "k-other")

    outcome = await register.recovery.run(
        parse_seized(f"IMEI\n{shared.digits}\n{own.digits}\n".encode()),
        actor="t",
        dry_run=False,
        channel="cli",
    )

    assert outcome.recovered == (dual.reference,)
    assert [h.line for h in outcome.plan.ambiguous] == [2]
    view = await register.reports.get(other.reference)
    assert view is not None and view.status is Status.SUBMITTED


async def test_a_duplicate_filed_after_the_plan_holds_the_report_back(register: Register) -> None:
    value = imei()
    filed = await register.reports.file(new_report(imeis=(value,)), "k-first")
    seized = parse_seized(value.digits.encode())
    original_plan = register.recovery.plan

    async def plan_then_someone_files(seized_file):
        plan = await original_plan(seized_file)
        await register.reports.file(new_report(imeis=(value,)), "k-meanwhile")
        return plan

    register.recovery.plan = plan_then_someone_files  # type: ignore[method-assign]

    outcome = await register.recovery.run(seized, actor="t", dry_run=False, channel="cli")

    assert outcome.recovered == ()
    assert outcome.held_back == (filed.reference,)
    view = await register.reports.get(filed.reference)
    assert view is not None and view.status is Status.SUBMITTED
    (event,) = await audit_events(register.db, "recovery")
    assert json.loads(event.details)["held_back"] == [filed.reference]


# --- applying in chunks -------------------------------------------------------------------------


async def victim_database(databases, register: Register) -> Register:
    """A second register on the same database with its own connections, as another process has;
    on SQLite its writes fail at once ("database is locked") instead of waiting for a lock."""
    db = Database(register.db.url.render_as_string(hide_password=False), schema=register.db.schema)
    databases.databases.append(db)
    if db.is_sqlite:
        async with db.write_engine.connect() as connection:
            await connection.exec_driver_sql("PRAGMA busy_timeout=0")
    return Register(db, register.vault)


async def test_a_victims_write_goes_through_between_chunks(databases, register: Register) -> None:
    made = await bulk_reports(register, 10)
    seized = parse_seized("\n".join(r.imei.digits for r in made).encode())
    recovery = Recovery(register.db, register.reports, chunk=4)
    victim = await victim_database(databases, register)
    seen: list[tuple[int, int, int]] = []
    filed_between: list[str] = []

    async def between(done: ChunkDone) -> None:
        seen.append((done.number, done.chunks, done.recovered))
        if done.number == 1:
            # The recovery is paused here, between its first and second chunk: a victim files.
            filed = await victim.reports.file(new_report(), "k-victim-between-chunks")
            filed_between.append(filed.reference)
            statuses = [(await register.reports.get(r.reference)).status for r in made]
            assert statuses == [Status.RECOVERED] * 4 + [Status.SUBMITTED] * 6

    outcome = await recovery.run(
        seized, actor="t", dry_run=False, channel="cli", after_chunk=between
    )

    assert seen == [(1, 3, 4), (2, 3, 8), (3, 3, 10)]
    assert len(outcome.recovered) == 10
    assert len(filed_between) == 1
    view = await register.reports.get(filed_between[0])
    assert view is not None and view.status is Status.SUBMITTED


async def test_a_chunk_holds_the_write_lock_and_its_writes_together(
    databases, register: Register, monkeypatch
) -> None:
    """The converse, so the test above cannot pass by accident: inside a chunk a victim's write
    is refused on SQLite (it would wait for the lock), and a failing chunk leaves no trace."""
    made = await bulk_reports(register, 3)
    seized = parse_seized("\n".join(r.imei.digits for r in made).encode())
    victim = await victim_database(databases, register)
    outcomes: list[str] = []
    original = register.reports.apply_status_many

    async def apply_then_try(*args, **kwargs):
        await original(*args, **kwargs)
        if register.db.is_sqlite:
            try:
                await victim.reports.file(new_report(), "k-victim-inside-chunk")
                outcomes.append("filed")
            except OperationalError as exc:
                outcomes.append("locked" if "locked" in str(exc) else str(exc))
        raise RuntimeError("the chunk fails before its commit")

    monkeypatch.setattr(register.reports, "apply_status_many", apply_then_try)

    with pytest.raises(RuntimeError):
        await register.recovery.run(seized, actor="t", dry_run=False, channel="cli")

    assert outcomes == (["locked"] if register.db.is_sqlite else [])
    for report in made:
        view = await register.reports.get(report.reference)
        assert view is not None and view.status is Status.SUBMITTED
    assert await rows(register.db, Notification) == []
    assert await audit_events(register.db, "recovery") == []


async def test_a_recovery_stopped_half_way_is_finished_by_running_it_again(
    register: Register, monkeypatch
) -> None:
    made = await bulk_reports(register, 10)
    for n, report in enumerate(made):
        await subscribe(register.db, report.id, chat_id=9000 + n)
        if n % 3 == 0:
            await subscribe(register.db, report.id, chat_id=9100 + n)
    subscribed = 10 + 4
    seized = parse_seized("\n".join(r.imei.digits for r in made).encode())
    recovery = Recovery(register.db, register.reports, chunk=3)
    original = register.reports.apply_status_many
    calls = []

    async def dies_in_the_third_chunk(*args, **kwargs):
        queued = await original(*args, **kwargs)
        calls.append(queued)
        if len(calls) == 3:
            raise RuntimeError("killed")  # before the third chunk commits
        return queued

    monkeypatch.setattr(register.reports, "apply_status_many", dies_in_the_third_chunk)
    with pytest.raises(RuntimeError):
        await recovery.run(seized, actor="t", dry_run=False, channel="cli")
    monkeypatch.setattr(register.reports, "apply_status_many", original)
    half = [(await register.reports.get(r.reference)).status for r in made]
    assert half == [Status.RECOVERED] * 6 + [Status.SUBMITTED] * 4

    finished = await recovery.run(seized, actor="t", dry_run=False, channel="cli")
    again = await recovery.run(seized, actor="t", dry_run=False, channel="cli")

    assert list(finished.recovered) == sorted(r.reference for r in made[6:])
    assert sorted(m.reference for m in finished.plan.left_alone) == sorted(
        r.reference for r in made[:6]
    )
    assert again.recovered == () and again.notifications == 0
    changes = await rows(register.db, StatusChange, StatusChange.status == "recovered")
    assert sorted(change.report_id for change in changes) == sorted(r.id for r in made)
    queued = await rows(register.db, Notification)
    assert len(queued) == subscribed
    assert len({(n.report_id, n.chat_id) for n in queued}) == subscribed
    events = [json.loads(e.details) for e in await audit_events(register.db, "recovery")]
    assert [e["recovered"] for e in events] == [4, 0]
