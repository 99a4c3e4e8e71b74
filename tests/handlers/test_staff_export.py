"""/export: admins get the file as a document, filtered, and the export is audited."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from models.register import Register
from models.services.export import BOM, COLUMNS
from models.services.staff import Role
from models.values.statuses import Status
from tests import staff_fixtures
from tests.factories import audit_events, new_report, set_report_columns

staff_member = staff_fixtures.staff_member


async def filed_on(register: Register, day: int, **overrides) -> str:
    filed = await register.reports.file(new_report(**overrides), f"k-{day}")
    created = datetime(2026, 3, day, 23, 59, tzinfo=UTC)
    await set_report_columns(register.db, filed.reference, created_at=created)
    return filed.reference


async def test_admin_gets_a_csv_document(register: Register, staff_member, api) -> None:
    ref = await filed_on(register, 1, contact_name='=HYPERLINK("http://x")')
    admin = await staff_member(Role.ADMIN)

    (document,) = await admin.send("/export")

    assert document.document is not None
    assert "1 reports · all reports · CSV" in (document.text or "")
    (call,) = [call for call in api.calls if call.method == "sendDocument"]
    assert list(call.files) == ["document"]
    content = api.files[document.document].decode("utf-8")
    assert content.startswith(BOM)
    rows = list(csv.reader(io.StringIO(content.removeprefix(BOM), newline="")))
    assert rows[0] == list(COLUMNS)
    row = dict(zip(COLUMNS, rows[1], strict=True))
    assert row["reference"] == ref
    assert row["contact_name"] == '\'=HYPERLINK("http://x")'
    (event,) = await audit_events(register.db, "export")
    assert event.actor == f"tg:{admin.user_id}"
    assert json.loads(event.details) == {
        "channel": "telegram",
        "format": "csv",
        "rows": 1,
        "since": None,
        "until": None,
        "status": None,
    }


async def test_filters_dates_inclusive_status_and_jsonl(
    register: Register, staff_member, api
) -> None:
    refs = [await filed_on(register, day) for day in (1, 2, 3, 4)]
    await register.reports.change_status(refs[2], Status.LOCATED, actor="t")
    admin = await staff_member(Role.ADMIN)

    (document,) = await admin.send("/export 2026-03-02 2026-03-03 JSONL")
    (located,) = await admin.send("/export located 2026-03-01")

    lines = api.files[document.document].decode().splitlines()
    assert [json.loads(line)["reference"] for line in lines] == [refs[1], refs[2]]
    assert "from 2026-03-02, until 2026-03-03" in document.text
    content = api.files[located.document].decode().removeprefix(BOM)
    assert [row["reference"] for row in csv.DictReader(io.StringIO(content))] == [refs[2]]
    events = [json.loads(e.details) for e in await audit_events(register.db, "export")]
    assert events[0]["since"] == "2026-03-02T00:00:00Z"
    assert events[0]["until"] == "2026-03-04T00:00:00Z"
    assert (events[0]["format"], events[0]["rows"]) == ("jsonl", 2)
    assert (events[1]["status"], events[1]["rows"]) == ("located", 1)


async def test_bad_arguments_empty_results(register: Register, staff_member, api) -> None:
    admin = await staff_member(Role.ADMIN)

    (bad,) = await admin.send("/export yesterday")
    (backwards,) = await admin.send("/export 2026-03-05 2026-03-01")
    (three,) = await admin.send("/export 2026-03-01 2026-03-02 2026-03-03")
    (empty,) = await admin.send("/export closed")

    assert "<code>yesterday</code>" in bad.text and "/export [since]" in bad.text
    assert "before the until date" in backwards.text
    assert "<code>2026-03-03</code>" in three.text
    assert empty.text == "No reports match: status closed."
    assert not [call for call in api.calls if call.method == "sendDocument"]
    # Only the export that ran (and found nothing) is in the audit trail.
    (event,) = await audit_events(register.db, "export")
    assert json.loads(event.details)["rows"] == 0
