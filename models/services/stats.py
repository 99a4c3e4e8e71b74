"""Register statistics, counted by the database (aggregates, never a loop over every report)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, Result, case, func, select, type_coerce
from sqlmodel import col

from models.storage.columns import utcnow
from models.storage.database import Database
from models.storage.tables import Report
from models.values.statuses import Status

DAYS = 30


@dataclass(frozen=True, slots=True)
class RegisterStats:
    """What the register holds, in numbers."""

    today: date
    per_day: list[tuple[date, int]]
    by_status: list[tuple[str, int]]
    by_method: list[tuple[str | None, int]]
    total: int
    with_imei: int
    with_tracked: int

    @property
    def last_days_total(self) -> int:
        """Reports filed in the days that `per_day` covers."""
        return sum(count for _, count in self.per_day)

    @staticmethod
    def share(part: int, whole: int) -> float:
        """PART of WHOLE as a percentage (0 when there is nothing)."""
        return 100.0 * part / whole if whole else 0.0

    @property
    def imei_share(self) -> float:
        """Percentage of reports that give at least one IMEI."""
        return self.share(self.with_imei, self.total)

    @property
    def tracked_share(self) -> float:
        """Percentage of reports with a tracked location (where Find My showed the phone)."""
        return self.share(self.with_tracked, self.total)


class Stats:
    """Counts over the register."""

    def __init__(self, db: Database) -> None:
        """Count in DB."""
        self.db = db

    def _day(self) -> ColumnElement[Any]:
        # SQLite stores UTC text, whose date() is the UTC day; PostgreSQL must be told the zone.
        if self.db.is_sqlite:
            return func.date(Report.created_at)
        return func.date(func.timezone("UTC", Report.created_at))

    async def compute(self, now: datetime | None = None, *, days: int = DAYS) -> RegisterStats:
        """Per day for the last DAYS days (today included), by status, by method, and shares."""
        today = (now or utcnow()).astimezone(UTC).date()
        return await self._count(today - timedelta(days=days - 1), today, whole=True)

    async def for_period(self, first: date, last: date) -> RegisterStats:
        """The same figures for reports filed from day FIRST to day LAST (UTC days, included)."""
        return await self._count(first, last, whole=False)

    async def _count(self, first: date, last: date, *, whole: bool) -> RegisterStats:
        """Per day from FIRST to LAST; the rest over the whole register if WHOLE, else the days."""
        start = datetime.combine(first, time(), tzinfo=UTC)
        end = datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC)
        days = (last - first).days + 1
        day = self._day().label("day")
        tracked = (col(Report.tracked_lat).is_not(None)) | (col(Report.tracked_at).is_not(None))
        within = [] if whole else [col(Report.created_at) >= start, col(Report.created_at) < end]
        async with self.db.read() as session:
            per_day_rows: Result[Any, int] = await session.execute(
                select(day, func.count())
                .where(col(Report.created_at) >= start, col(Report.created_at) < end)
                .group_by(day)
                .order_by(day)
            )
            counted = {_as_date(value): count for value, count in per_day_rows}
            status_rows = await session.execute(
                select(col(Report.status), func.count()).where(*within).group_by(col(Report.status))
            )
            by_status = {status: count for status, count in status_rows}
            method_rows = await session.execute(
                select(col(Report.theft_method), func.count())
                .where(*within)
                .group_by(col(Report.theft_method))
            )
            # A handful of groups: ordered here, since backends disagree on where NULL sorts.
            method_counts = sorted(
                ((method, count) for method, count in method_rows),
                key=lambda row: (-row[1], row[0] is None, row[0] or ""),
            )
            total, with_imei, with_tracked = (
                await session.execute(
                    select(
                        func.count(),
                        _count_where(col(Report.imei_count) > 0),
                        _count_where(tracked),
                    )
                    .select_from(Report)
                    .where(*within)
                )
            ).one()
        return RegisterStats(
            today=last,
            per_day=[
                (first + timedelta(days=n), counted.get(first + timedelta(days=n), 0))
                for n in range(days)
            ],
            by_status=[(status.value, by_status.get(status.value, 0)) for status in Status],
            by_method=method_counts,
            total=int(total),
            with_imei=int(with_imei),
            with_tracked=int(with_tracked),
        )


def _count_where(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows meet CONDITION (0, not NULL, over no rows)."""
    return type_coerce(func.coalesce(func.sum(case((condition, 1), else_=0)), 0), Integer)


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
