"""Bulk recovery: reading seized-IMEI files, matching, applying once, auditing."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from models.register import Register
from models.services.recovery import (
    MAX_IMEIS,
    RecoveryFileError,
    parse_seized,
    result_rows,
)
from models.services.reports import MATCH_CHUNK
from models.storage.tables import Notification, StatusChange
from models.values.imei import Imei
from models.values.statuses import Status
from tests.factories import audit_events, imei, new_report, rows, subscribe
from tests.staff_fixtures import bulk_imei, bulk_reports


def dashed(value: Imei) -> str:
    """An IMEI typed with dashes, as 2-6-6-1."""
    d = value.digits
    return f"{d[:2]}-{d[2:8]}-{d[8:14]}-{d[14]}"


# --- reading files ----------------------------------------------------------------------------


def test_one_imei_a_line_in_every_accepted_form() -> None:
    a, b, c, d = imei(), imei(), imei(), imei()
    content = "\n".join(
        [
            a.digits,  # 15 digits
            b.digits[:14],  # 14: check digit left off
            c.digits[:14] + "07",  # 16: IMEISV
            dashed(d),
            "",  # blank lines are skipped
            f"  {a.grouped}  ",  # a repeat, spaced
        ]
    )

    seized = parse_seized(content.encode())

    assert [(item.line, item.imei) for item in seized.imeis] == [(1, a), (2, b), (3, c), (4, d)]
    assert [(dup.line, dup.first_line, dup.imei) for dup in seized.duplicates] == [(6, 1, a)]
    assert seized.malformed == []
    assert seized.values == 5


def test_csv_with_imei_columns_found_by_header() -> None:
    a, b, c = imei(), imei(), imei()
    content = (
        "Exhibit;Make;IMEI 1;imei_2\n"
        f"EX1;Apple;{a.digits};\n"
        f"EX2;Samsung;{dashed(b)};{c.digits[:14]}\n"
        "EX3;Nokia;;\n"
    )

    seized = parse_seized(content.encode("utf-8-sig"))

    assert [(item.line, item.imei) for item in seized.imeis] == [(2, a), (3, b), (3, c)]
    assert seized.malformed == []


def test_csv_quoted_cells_and_spreadsheet_quirks() -> None:
    a, b = imei(), imei()
    content = (
        f'"imei","note"\r\n"{a.digits}","seized, bag 4"\r\n\'{b.digits},x\r\n3.52099E+14,y\r\n'
    )

    seized = parse_seized(content.encode())

    assert [(item.line, item.imei) for item in seized.imeis] == [(2, a), (3, b)]
    ((line, reason),) = [(bad.line, bad.reason) for bad in seized.malformed]
    assert line == 4
    assert "spreadsheet" in reason


def test_malformed_lines_say_which_and_why() -> None:
    good = imei()
    wrong_check = good.digits[:14] + str((int(good.digits[14]) + 1) % 10)
    content = "\n".join(
        [good.digits, "12345", wrong_check, "35 2099 abc", "111111111111111", good.digits]
    )

    seized = parse_seized(content.encode())

    assert [item.line for item in seized.imeis] == [1]
    malformed = {bad.line: bad.reason for bad in seized.malformed}
    assert sorted(malformed) == [2, 3, 4, 5]
    errors = {bad.line: bad.error for bad in seized.malformed}
    assert [(line, errors[line].code, errors[line].params) for line in sorted(errors)] == [
        (2, "imei_length", {"count": 5}),
        (3, "imei_check_digit", {"expected": good.digits[14]}),
        (4, "imei_not_a_digit", {"character": "a"}),
        (5, "imei_fake_same_digit", {}),
    ]
    assert all(malformed[line] == errors[line].code for line in malformed)
    assert [(dup.line, dup.first_line) for dup in seized.duplicates] == [(6, 1)]


def test_headerless_csv_with_several_values_a_line_is_malformed() -> None:
    a, b = imei(), imei()

    seized = parse_seized(f"{a.digits},{b.digits}\n{a.digits},\n".encode())

    assert [item.line for item in seized.imeis] == [2]
    (bad,) = seized.malformed
    assert bad.line == 1
    assert "column headed IMEI" in bad.reason


def test_other_encodings() -> None:
    a = imei()
    assert parse_seized(f"IMEI\n{a.digits}\n".encode("utf-16")).imeis[0].imei == a
    latin = f"IMEI,Besitzer\n{a.digits},Jürgen\n".encode("cp1252")
    assert parse_seized(latin).imeis[0].imei == a


@pytest.mark.parametrize("content", [b"", b"\n\n", b"IMEI\n", b"imei,make\n,,\n"])
def test_a_file_without_imeis_is_refused(content: bytes) -> None:
    with pytest.raises(RecoveryFileError, match="no IMEIs"):
        parse_seized(content)


def test_a_file_with_too_many_values_is_refused() -> None:
    content = "\n".join(["1"] * (MAX_IMEIS + 1)).encode()
    with pytest.raises(RecoveryFileError, match="at most"):
        parse_seized(content)


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
        "malformed": 1,
        "duplicates": 1,
        "recovered": 3,
        "references": expected,
        "left_alone": 1,
        "notifications": 2,
    }
    # Never an IMEI in the audit trail, not even masked ones.
    for event in events:
        for value in (first, second, dual_a, dual_b, known_closed, unknown):
            assert value.digits[:8] not in event.details


async def test_apply_is_one_transaction(register: Register, monkeypatch) -> None:
    seized_imeis = [imei() for _ in range(3)]
    filed = [
        await register.reports.file(new_report(imeis=(value,)), f"k-tx-{n}")
        for n, value in enumerate(seized_imeis)
    ]
    original = register.reports.apply_status_many

    async def failing(*args, **kwargs):
        # The batch is applied, then the database fails before the commit.
        await original(*args, **kwargs)
        raise RuntimeError("database went away")

    monkeypatch.setattr(register.reports, "apply_status_many", failing)
    seized = parse_seized("\n".join(value.digits for value in seized_imeis).encode())

    with pytest.raises(RuntimeError):
        await register.recovery.run(seized, actor="t", dry_run=False, channel="cli")

    for report in filed:
        view = await register.reports.get(report.reference)
        assert view is not None and view.status is Status.SUBMITTED
    assert await audit_events(register.db, "recovery") == []


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
