"""The block-list feed: the IMEIs of open reports, in the form lost-and-stolen systems exchange.

One entry per IMEI (a handset reported twice is listed once): `imei`, `reporting_date` (the day,
UTC, the earliest open report holding it was filed) and `status` (`blacklist`: block it). An IMEI
is listed while at least one report holding it is open (submitted, under review, located).

The delta since a moment D compares what was listed at D with what is listed now, per IMEI:
`add` (listed now, not at D: a new report, an IMEI added to an open report, a report reopened),
`remove` (listed at D, not now: every report holding it was recovered, returned, closed or
withdrawn) and `update` (listed at both, but its reporting date changed: the earliest report was
ended and a later one still holds it). What was listed at D is read from each report's status
history and the time each IMEI joined its report. docs/export-formats.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Result, and_, case, func, literal, or_, select
from sqlmodel import col

from models.services.reports import ReportStore, report_context
from models.storage.database import Database
from models.storage.tables import Report, ReportImei, StatusChange
from models.values.statuses import OPEN

BLOCK = "blacklist"
ADD, UPDATE, REMOVE = "add", "update", "remove"
BATCH = 2_000
_OPEN = [status.value for status in OPEN]


@dataclass(frozen=True, slots=True)
class Listed:
    """One IMEI of the feed; CHANGE_TYPE is set in a delta."""

    imei: str
    reporting_date: date
    status: str = BLOCK
    change_type: str | None = None


@dataclass(slots=True)
class _Row:
    imei_hash: str
    reference: str
    created_at: datetime
    sealed: bytes
    open_now: bool
    open_then: bool


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


class BlockList:
    """Reads the feed from the register in keyset pages: memory stays flat."""

    def __init__(self, db: Database, reports: ReportStore, *, batch: int = BATCH) -> None:
        """Read from DB; REPORTS opens the sealed IMEIs and computes their keyed hashes."""
        self.db = db
        self.reports = reports
        self.batch = batch

    def _imei_of(self, row: _Row) -> str:
        private = self.reports.vault.open_json(row.sealed, context=report_context(row.reference))
        imeis: list[str] = private.get("imeis") or []
        for digits in imeis:
            if self.reports.imei_hash(digits) == row.imei_hash:
                return digits
        raise LookupError(f"report {row.reference} does not hold the IMEI it is indexed under")

    async def _rows(self, since: datetime | None) -> AsyncIterator[_Row]:
        """Every (IMEI, report) row that may be listed now or at SINCE, by IMEI hash."""
        open_now = col(Report.status).in_(_OPEN)
        if since is None:
            relevant: Any = open_now
            open_then: Any = literal(False)
        else:
            relevant = or_(open_now, col(Report.status_changed_at) >= since)
            status_then = (
                select(col(StatusChange.status))
                .where(
                    col(StatusChange.report_id) == col(Report.id),
                    col(StatusChange.changed_at) < since,
                )
                .order_by(col(StatusChange.changed_at).desc(), col(StatusChange.id).desc())
                .limit(1)
                .scalar_subquery()
            )
            joined = func.coalesce(ReportImei.added_at, Report.created_at)
            open_then = and_(
                joined < since,
                case(
                    (col(Report.status_changed_at) < since, open_now),
                    else_=status_then.in_(_OPEN),
                ),
            )
        query = (
            select(
                col(ReportImei.id),
                col(ReportImei.imei_hash),
                col(Report.reference),
                col(Report.created_at),
                col(Report.sealed),
                case((open_now, 1), else_=0),
                case((open_then, 1), else_=0),
            )
            .join(Report, col(Report.id) == col(ReportImei.report_id))
            .where(relevant)
            .order_by(col(ReportImei.imei_hash), col(ReportImei.id))
            .limit(self.batch)
        )
        last: tuple[str, int] | None = None
        while True:
            page_query = query
            if last is not None:
                page_query = query.where(
                    or_(
                        col(ReportImei.imei_hash) > last[0],
                        and_(col(ReportImei.imei_hash) == last[0], col(ReportImei.id) > last[1]),
                    )
                )
            async with self.db.read() as session:
                found: Result[int, str, str, datetime, bytes, int, int]
                found = await session.execute(page_query)
                page = found.all()
            if not page:
                return
            for row_id, imei_hash, reference, created, sealed, now_, then_ in page:
                yield _Row(imei_hash, reference, created, sealed, bool(now_), bool(then_))
                last = (imei_hash, row_id)

    async def _groups(self, since: datetime | None) -> AsyncIterator[list[_Row]]:
        group: list[_Row] = []
        async for row in self._rows(since):
            if group and row.imei_hash != group[0].imei_hash:
                yield group
                group = []
            group.append(row)
        if group:
            yield group

    async def full(self) -> AsyncIterator[Listed]:
        """Every IMEI listed now."""
        async for group in self._groups(None):
            yield Listed(self._imei_of(group[0]), _day(min(row.created_at for row in group)))

    async def delta(self, since: datetime) -> AsyncIterator[Listed]:
        """What changed in the list between SINCE and now (add, update, remove)."""
        async for group in self._groups(since):
            now = [row.created_at for row in group if row.open_now]
            then = [row.created_at for row in group if row.open_then]
            if now and not then:
                yield Listed(self._imei_of(group[0]), _day(min(now)), change_type=ADD)
            elif then and not now:
                yield Listed(self._imei_of(group[0]), _day(min(then)), change_type=REMOVE)
            elif now and then and _day(min(now)) != _day(min(then)):
                yield Listed(self._imei_of(group[0]), _day(min(now)), change_type=UPDATE)
