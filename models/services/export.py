"""Exporting the register: choosing what to read, writing it atomically, and auditing it.

The formats' writers live in models.present (CSV, JSON Lines, GeoJSON, KML, the block-list
feed); this service reads the register in keyset pages (memory stays flat), hands each report or
IMEI to the writer, and records every export in the audit trail (who, format, filters, rows).
A file is written under a temporary name in the target's folder and renamed into place only when
complete, so a reader never sees half an export.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO

from models.errors import RegisterError
from models.present.blocklist import BlockListWriter
from models.present.geojson import GeoJsonWriter
from models.present.jsonlines import JsonLinesWriter
from models.present.kml import KmlWriter

# Kept importable from here: the column list, the row and the CSV cell predate models.present.
from models.present.rows import COLUMNS, iso, row_of
from models.present.spreadsheet import BOM, FORMULA_TRIGGERS, CsvWriter, csv_cell
from models.services.audit import AuditLog
from models.services.blocklist import BlockList
from models.services.listing import ReportFilter
from models.services.reports import ReportStore
from models.storage.files import atomic_write
from models.values.statuses import Status

__all__ = [
    "BOM",
    "COLUMNS",
    "FORMULA_TRIGGERS",
    "CsvWriter",
    "ExportFilter",
    "ExportFormat",
    "ExportOptionError",
    "ExportResult",
    "Exporter",
    "JsonLinesWriter",
    "csv_cell",
    "iso",
    "row_of",
]


class ExportFormat(StrEnum):
    """The file formats an export can take."""

    CSV = "csv"
    JSONL = "jsonl"
    GEOJSON = "geojson"
    KML = "kml"
    BLOCKLIST = "blocklist"

    @property
    def suffix(self) -> str:
        """The usual file name extension."""
        return ".csv" if self is ExportFormat.BLOCKLIST else f".{self.value}"

    @property
    def is_map(self) -> bool:
        """Whether the format holds points (GeoJSON, KML) rather than rows."""
        return self in (ExportFormat.GEOJSON, ExportFormat.KML)

    @property
    def unit(self) -> str:
        """What one written item is: reports, points or IMEIs."""
        if self.is_map:
            return "points"
        return "IMEIs" if self is ExportFormat.BLOCKLIST else "reports"


class ExportOptionError(RegisterError):
    """An option the chosen format does not take (e.g. a delta of a CSV export)."""

    def __init__(self, option: str, export_format: str) -> None:
        """Name the option and the format."""
        super().__init__("export_option", option=option, format=export_format)


@dataclass(frozen=True, slots=True)
class ExportFilter:
    """What to export: reports filed in [since, until), in one status; and per format,
    PERSONAL data on map points (admins only) or the block list's changes since DELTA_SINCE."""

    since: datetime | None = None
    until: datetime | None = None
    status: Status | None = None
    personal: bool = False
    delta_since: datetime | None = None
    # The web console's list filters (see models.services.listing.ReportFilter).
    method: str | None = None
    has_imei: bool | None = None
    tracked: bool | None = None

    def narrowing(self) -> ReportFilter:
        """The filters beyond dates and status, as conditions for the reports' stream."""
        return ReportFilter(method=self.method, has_imei=self.has_imei, tracked=self.tracked)

    def describe(self) -> dict[str, str | bool | None]:
        """The filter as plain values, for the audit trail."""
        described: dict[str, str | bool | None] = {
            "since": iso(self.since),
            "until": iso(self.until),
            "status": self.status.value if self.status else None,
        }
        described.update(self.narrowing().describe())
        if self.personal:
            described["personal"] = True
        if self.delta_since is not None:
            described["delta_since"] = iso(self.delta_since)
        return described

    def check(self, export_format: ExportFormat) -> None:
        """Refuse options EXPORT_FORMAT does not take (ExportOptionError)."""
        if self.personal and not export_format.is_map:
            raise ExportOptionError("personal", export_format.value)
        if export_format is ExportFormat.BLOCKLIST:
            for option in ("since", "until", "status", "method", "has_imei", "tracked"):
                if getattr(self, option) is not None:
                    raise ExportOptionError(option, export_format.value)
        elif self.delta_since is not None:
            raise ExportOptionError("delta_since", export_format.value)


@dataclass(frozen=True, slots=True)
class ExportResult:
    """What an export wrote: ROWS items (reports, points or IMEIs), SKIPPED impossible points."""

    rows: int
    format: ExportFormat
    path: Path | None
    skipped: int = 0


@dataclass(slots=True)
class _Tally:
    """What an export wrote so far."""

    rows: int = 0
    skipped: int = 0


# A streamed export is sent in pieces of about this many characters.
CHUNK_CHARACTERS = 64 * 1024


class Exporter:
    """Export reports to files or streams, and record each export in the audit trail."""

    def __init__(self, reports: ReportStore, audit: AuditLog) -> None:
        """Export from REPORTS, recording in AUDIT."""
        self.reports = reports
        self.audit = audit
        self.blocklist = BlockList(reports.db, reports)

    async def write(
        self, out: IO[str], export_format: ExportFormat, selection: ExportFilter
    ) -> tuple[int, int]:
        """Write the export to OUT as it is read: (items written, impossible points skipped)."""
        tally = _Tally()
        async for _ in self._produce(out, export_format, selection, tally):
            pass
        return tally.rows, tally.skipped

    async def _produce(
        self, out: IO[str], export_format: ExportFormat, selection: ExportFilter, tally: _Tally
    ) -> AsyncIterator[None]:
        """Write the export to OUT, pausing after each item written (for chunked streaming)."""
        selection.check(export_format)
        if export_format is ExportFormat.BLOCKLIST:
            feed = BlockListWriter(out, delta=selection.delta_since is not None)
            feed.start()
            entries = (
                self.blocklist.full()
                if selection.delta_since is None
                else self.blocklist.delta(selection.delta_since)
            )
            async for entry in entries:
                tally.rows += feed.entry(entry)
                yield
            feed.finish()
            return
        writer: CsvWriter | JsonLinesWriter | GeoJsonWriter | KmlWriter
        if export_format is ExportFormat.CSV:
            writer = CsvWriter(out)
        elif export_format is ExportFormat.JSONL:
            writer = JsonLinesWriter(out)
        elif export_format is ExportFormat.GEOJSON:
            writer = GeoJsonWriter(out, personal=selection.personal)
        else:
            writer = KmlWriter(out, personal=selection.personal)
        mapped = export_format.is_map
        reports = self.reports.stream(
            since=selection.since,
            until=selection.until,
            status=selection.status,
            located=mapped,
            # Map points without personal data need no decryption at all.
            sealed=not mapped or selection.personal,
            where=selection.narrowing().conditions(),
        )
        writer.start()
        async for report in reports:
            tally.rows += writer.report(report)
            yield
        writer.finish()
        tally.skipped = getattr(writer, "skipped", 0)

    async def chunks(
        self,
        export_format: ExportFormat,
        selection: ExportFilter,
        *,
        actor: str,
        channel: str,
        size: int = CHUNK_CHARACTERS,
    ) -> AsyncIterator[str]:
        """The export as pieces of about SIZE characters, read as they are sent (flat memory).

        Audited when it ends; an export the reader abandons is recorded as incomplete.
        """
        selection.check(export_format)
        buffer = io.StringIO()
        tally = _Tally()
        complete = False
        try:
            async for _ in self._produce(buffer, export_format, selection, tally):
                if buffer.tell() >= size:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
            if buffer.tell():
                yield buffer.getvalue()
            complete = True
        finally:
            # Shielded: a download cancelled mid-way is still recorded.
            await asyncio.shield(
                self._record(
                    actor, channel, export_format, selection, tally.rows, tally.skipped, complete
                )
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
        selection.check(export_format)
        target = Path(target)
        with atomic_write(target) as out:
            rows, skipped = await self.write(out, export_format, selection)
        await self._record(actor, channel, export_format, selection, rows, skipped)
        return ExportResult(rows, export_format, target, skipped)

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
        rows, skipped = await self.write(out, export_format, selection)
        out.flush()
        await self._record(actor, channel, export_format, selection, rows, skipped)
        return ExportResult(rows, export_format, None, skipped)

    async def _record(
        self,
        actor: str,
        channel: str,
        export_format: ExportFormat,
        selection: ExportFilter,
        rows: int,
        skipped: int,
        complete: bool = True,
    ) -> None:
        extra: dict[str, int | bool] = {"skipped_points": skipped} if skipped else {}
        if not complete:
            extra["incomplete"] = True
        await self.audit.record(
            actor,
            "export",
            None,
            format=export_format.value,
            rows=rows,
            channel=channel,
            **selection.describe(),
            **extra,
        )
