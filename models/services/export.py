"""Exporting reports as CSV (safe to open in a spreadsheet) or JSON Lines, in constant memory.

A file is written under a temporary name in the target's folder and renamed into place only when
complete, so a reader never sees half an export. Every export is audited (who, filters, rows).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from models.services.audit import AuditLog
from models.services.reports import ReportStore, ReportView
from models.values.statuses import Status

# The documented column order (README, "For staff"): CSV header and JSON Lines keys alike.
COLUMNS = (
    "reference",
    "status",
    "created_at",
    "status_changed_at",
    "incident_at",
    "incident_from",
    "incident_to",
    "make",
    "model",
    "colour",
    "imei_1",
    "imei_2",
    "tac_make",
    "tac_model",
    "tac_mismatch",
    "stolen_number",
    "network",
    "loss_kind",
    "theft_method",
    "crime_reference",
    "police_force",
    "place",
    "incident_lat",
    "incident_lon",
    "incident_point_source",
    "incident_point_precision",
    "tracked_place",
    "tracked_lat",
    "tracked_lon",
    "tracked_point_source",
    "tracked_point_precision",
    "tracked_at",
    "contact_name",
    "contact_phone",
    "contact_email",
    "preferred_channel",
    "own_account",
)
# OWASP "CSV Injection": a cell starting with one of these may run as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_TRIGGERS = frozenset(FORMULA_TRIGGERS)
BOM = "\ufeff"


class ExportFormat(StrEnum):
    """The file formats an export can take."""

    CSV = "csv"
    JSONL = "jsonl"

    @property
    def suffix(self) -> str:
        """The usual file name extension."""
        return f".{self.value}"


@dataclass(frozen=True, slots=True)
class ExportFilter:
    """Which reports to export: filed in [since, until), in one status."""

    since: datetime | None = None
    until: datetime | None = None
    status: Status | None = None

    def describe(self) -> dict[str, str | None]:
        """The filter as plain values, for the audit trail."""
        return {
            "since": iso(self.since),
            "until": iso(self.until),
            "status": self.status.value if self.status else None,
        }


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote."""

    rows: int
    format: ExportFormat
    path: Path | None


def iso(moment: datetime | None) -> str | None:
    """A timestamp as ISO 8601 in UTC to the second (``2026-03-01T12:00:00Z``), or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def row_of(report: ReportView) -> dict[str, Any]:
    """A report's export row with raw values (text, numbers, booleans, None), in COLUMNS order."""
    imeis = report.imeis
    return {
        "reference": report.reference,
        "status": report.status.value,
        "created_at": iso(report.created_at),
        "status_changed_at": iso(report.status_changed_at),
        "incident_at": iso(report.incident_at),
        "incident_from": iso(report.incident_from),
        "incident_to": iso(report.incident_to),
        "make": report.make,
        "model": report.get("model"),
        "colour": report.get("colour"),
        "imei_1": imeis[0] if imeis else None,
        "imei_2": imeis[1] if len(imeis) > 1 else None,
        "tac_make": report.tac_make,
        "tac_model": report.tac_model,
        "tac_mismatch": report.tac_mismatch,
        "stolen_number": report.get("stolen_number"),
        "network": report.get("network"),
        "loss_kind": report.loss_kind,
        "theft_method": report.theft_method,
        "crime_reference": report.crime_reference,
        "police_force": report.police_force,
        "place": report.get("place"),
        "incident_lat": report.incident_lat,
        "incident_lon": report.incident_lon,
        "incident_point_source": report.incident_point_source,
        "incident_point_precision": report.incident_point_precision,
        "tracked_place": report.get("tracked_place"),
        "tracked_lat": report.tracked_lat,
        "tracked_lon": report.tracked_lon,
        "tracked_point_source": report.tracked_point_source,
        "tracked_point_precision": report.tracked_point_precision,
        "tracked_at": iso(report.tracked_at),
        "contact_name": report.get("contact_name"),
        "contact_phone": report.get("contact_phone"),
        "contact_email": report.get("contact_email"),
        "preferred_channel": report.get("preferred_channel"),
        "own_account": report.own_account,
    }


def csv_cell(value: Any) -> str | float:
    """One CSV cell: text neutralised against formula injection; numbers we wrote stay numbers."""
    if value.__class__ is str:
        return "'" + value if value[:1] in _TRIGGERS else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        # Our own coordinates, never user text: a negative longitude must stay a number.
        return value
    return csv_cell(str(value))


class CsvWriter:
    """RFC 4180 CSV (CRLF, quotes doubled) in UTF-8 with a BOM so that Excel reads it right.

    Every text cell is quoted and numbers are not, so that importers that honour quotes
    (LibreOffice's "quoted field as text", pandas, csv.QUOTE_NONNUMERIC readers) keep IMEIs
    and phone numbers as text.
    """

    def __init__(self, out: IO[str]) -> None:
        """Write to the text stream OUT (opened with newline='')."""
        self._out = out
        self._csv = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)

    def start(self) -> None:
        """Write the BOM and the header."""
        self._out.write(BOM)
        self._csv.writerow(COLUMNS)

    def write(self, row: dict[str, Any]) -> None:
        """Write one report's row."""
        self._csv.writerow([csv_cell(row[name]) for name in COLUMNS])


class JsonLinesWriter:
    """One JSON object a line, raw values, UTF-8."""

    def __init__(self, out: IO[str]) -> None:
        """Write to the text stream OUT."""
        self._out = out

    def start(self) -> None:
        """JSON Lines has no header."""

    def write(self, row: dict[str, Any]) -> None:
        """Write one report's object."""
        self._out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
        self._out.write("\n")


WRITERS: dict[ExportFormat, Callable[[IO[str]], CsvWriter | JsonLinesWriter]] = {
    ExportFormat.CSV: CsvWriter,
    ExportFormat.JSONL: JsonLinesWriter,
}


async def write_rows(
    reports: AsyncIterator[ReportView], out: IO[str], export_format: ExportFormat
) -> int:
    """Write every report from REPORTS to OUT in EXPORT_FORMAT; returns the row count."""
    writer = WRITERS[export_format](out)
    writer.start()
    rows = 0
    async for report in reports:
        writer.write(row_of(report))
        rows += 1
    return rows


def _open_temporary(target: Path) -> tuple[IO[str], Path]:
    # In the target's folder, so that os.replace is an atomic rename on one filesystem.
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    return os.fdopen(fd, "w", encoding="utf-8", newline=""), Path(name)


class Exporter:
    """Export reports to files or streams, and record each export in the audit trail."""

    def __init__(self, reports: ReportStore, audit: AuditLog) -> None:
        """Export from REPORTS, recording in AUDIT."""
        self.reports = reports
        self.audit = audit

    def _stream(self, selection: ExportFilter) -> AsyncIterator[ReportView]:
        return self.reports.stream(
            since=selection.since, until=selection.until, status=selection.status
        )

    async def to_file(
        self,
        target: Path,
        export_format: ExportFormat,
        selection: ExportFilter,
        *,
        actor: str,
        channel: str,
    ) -> ExportResult:
        """Write the export to TARGET atomically (complete, or not at all); audited."""
        target = Path(target)
        out, temporary = _open_temporary(target)
        try:
            with out:
                rows = await write_rows(self._stream(selection), out, export_format)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        await self._record(actor, channel, export_format, selection, rows)
        return ExportResult(rows, export_format, target)

    async def to_stream(
        self,
        out: IO[str],
        export_format: ExportFormat,
        selection: ExportFilter,
        *,
        actor: str,
        channel: str,
    ) -> ExportResult:
        """Write the export to the text stream OUT as it is read; audited."""
        rows = await write_rows(self._stream(selection), out, export_format)
        out.flush()
        await self._record(actor, channel, export_format, selection, rows)
        return ExportResult(rows, export_format, None)

    async def _record(
        self,
        actor: str,
        channel: str,
        export_format: ExportFormat,
        selection: ExportFilter,
        rows: int,
    ) -> None:
        await self.audit.record(
            actor,
            "export",
            None,
            format=export_format.value,
            rows=rows,
            channel=channel,
            **selection.describe(),
        )
