"""Lists of reports for staff: filters shared by the reports list and exports, newest first.

A list shows only plain columns (status, times, make, how taken, whether there is an IMEI or a
tracked location): no personal data is opened to draw it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import defer
from sqlmodel import col

from models.services.reports import ReportStore, ReportView
from models.storage.database import Database
from models.storage.pages import newest_page
from models.storage.tables import Report, attribute
from models.values.statuses import Status

PAGE_SIZE = 50
# A list says how many reports match up to this many, then "more than": counting every match
# of a wide filter on a large register costs more than the number tells staff.
COUNT_CAP = 10_000


def iso_or_none(moment: datetime | None) -> str | None:
    """A time as ISO 8601 text, for the audit trail."""
    return moment.isoformat() if moment else None


@dataclass(frozen=True, slots=True)
class ReportFilter:
    """Reports filed in [SINCE, UNTIL), in STATUS, taken by METHOD, with or without an IMEI or
    a tracked location (None: either)."""

    since: datetime | None = None
    until: datetime | None = None
    status: Status | None = None
    method: str | None = None
    has_imei: bool | None = None
    tracked: bool | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The filter as SQL conditions on `report`."""
        found: list[ColumnElement[bool]] = []
        if self.since is not None:
            found.append(col(Report.created_at) >= self.since)
        if self.until is not None:
            found.append(col(Report.created_at) < self.until)
        if self.status is not None:
            found.append(col(Report.status) == self.status.value)
        if self.method is not None:
            found.append(col(Report.theft_method) == self.method)
        if self.has_imei is not None:
            found.append(
                col(Report.imei_count) > 0 if self.has_imei else col(Report.imei_count) == 0
            )
        if self.tracked is not None:
            tracked = or_(col(Report.tracked_lat).is_not(None), col(Report.tracked_at).is_not(None))
            found.append(tracked if self.tracked else ~tracked)
        return found

    def describe(self) -> dict[str, Any]:
        """The filter as plain values, for the audit trail (only what is set)."""
        described: dict[str, Any] = {
            "since": iso_or_none(self.since),
            "until": iso_or_none(self.until),
            "status": self.status.value if self.status else None,
            "method": self.method,
            "has_imei": self.has_imei,
            "tracked": self.tracked,
        }
        return {name: value for name, value in described.items() if value is not None}


@dataclass(frozen=True, slots=True)
class ListPage:
    """One page of a list: its reports (no personal data opened) and the next page's cursor."""

    reports: list[ReportView]
    next_before: int | None


class ReportListing:
    """Pages of reports matching a filter, newest first, by keyset (no OFFSET).

    The index `ix_report_listing` (status, id, then every filtered column) answers a page and a
    count from the index alone, for any filter with or without a status; a period alone uses
    the index on `created_at`.
    """

    def __init__(self, db: Database, reports: ReportStore) -> None:
        """Bind to the register's database and reports."""
        self.db = db
        self.reports = reports

    async def page(
        self, selection: ReportFilter, *, before: int | None = None, size: int = PAGE_SIZE
    ) -> ListPage:
        """Up to SIZE reports matching SELECTION with ids below BEFORE, newest first."""
        query = (
            select(Report).options(defer(attribute(Report.sealed))).where(*selection.conditions())
        )
        shown, more = await newest_page(self.db, query, col(Report.id), before=before, size=size)
        return ListPage([self.reports.view_without_personal_data(report) for report in shown], more)

    async def count(self, selection: ReportFilter, *, cap: int | None = None) -> int:
        """How many reports match SELECTION; with CAP, counting stops at CAP + 1 (more than
        CAP)."""
        matches = select(col(Report.id)).where(*selection.conditions())
        if cap is not None:
            matches = matches.limit(cap + 1)
        query = select(func.count()).select_from(matches.subquery())
        async with self.db.read() as session:
            return int((await session.execute(query)).scalar_one())
