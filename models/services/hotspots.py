"""Hotspots: where thefts and tracked phones cluster, counted by the database on a ~250 m grid.

Each point (a report's incident location, and its tracked location) is snapped to a cell: the
latitude row is floor(lat / CELL_LAT) and, within a row, the longitude column is
floor(lon * cos(row's centre latitude) / CELL_LAT), so cells are about CELL_METRES square at
any latitude. The grouping runs in SQL (no report is loaded into Python) on SQLite and
PostgreSQL alike: cosine is a polynomial and floor is spelled per backend.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Float, Integer, case, cast, func, literal, null, select, union_all

from models.storage.columns import UTCDateTime, utcnow
from models.storage.database import Database
from models.storage.tables import Report
from models.values.statuses import Status

CELL_METRES = 250.0
METRES_PER_DEGREE = 111_320.0
CELL_LAT = CELL_METRES / METRES_PER_DEGREE
DAYS = 30
# Reports' tracked locations in one cell from this many reports on: a likely stash or fence.
CLUSTER_MIN = 3
TOP = 200
INCIDENT, TRACKED = 0, 1


def cos_approx(radians: Any) -> Any:
    """cos(x) for |x| <= pi/2 as a Taylor polynomial (works on SQL expressions and floats)."""
    x2 = radians * radians
    return 1.0 + x2 * (-1.0 / 2 + x2 * (1.0 / 24 + x2 * (-1.0 / 720 + x2 * (1.0 / 40320))))


def row_centre(lat_index: int) -> float:
    """The latitude of the middle of grid row LAT_INDEX."""
    return (lat_index + 0.5) * CELL_LAT


def row_scale(lat_index: Any) -> Any:
    """How much narrower a degree of longitude is in row LAT_INDEX (a float or SQL expression)."""
    return cos_approx((lat_index + 0.5) * (CELL_LAT * math.pi / 180.0))


def cell_of(lat: float, lon: float) -> tuple[int, int]:
    """The grid cell (row, column) of a point, as the database computes it."""
    row = math.floor(lat / CELL_LAT)
    return row, math.floor(lon * row_scale(row) / CELL_LAT)


def cell_centre(lat_index: int, lon_index: int) -> tuple[float, float]:
    """The centre (lat, lon) of a grid cell."""
    return row_centre(lat_index), (lon_index + 0.5) * CELL_LAT / row_scale(lat_index)


@dataclass(frozen=True, slots=True)
class Cell:
    """One grid cell with points in it."""

    lat_index: int
    lon_index: int
    thefts: int
    tracked: int
    reports: int
    newest_tracked_at: datetime | None

    @property
    def centre(self) -> tuple[float, float]:
        """The cell's centre (lat, lon)."""
        return cell_centre(self.lat_index, self.lon_index)

    @property
    def total(self) -> int:
        """Thefts and tracked phones together."""
        return self.thefts + self.tracked

    @property
    def is_cluster(self) -> bool:
        """Whether at least CLUSTER_MIN reports' tracked locations fall in this cell."""
        return self.tracked >= CLUSTER_MIN


@dataclass(frozen=True, slots=True)
class Hotspots:
    """The busiest cells of a period, tracked clusters first."""

    since: datetime
    until: datetime | None
    status: Status | None
    cells: list[Cell]

    @property
    def clusters(self) -> list[Cell]:
        """The cells flagged as tracked clusters."""
        return [cell for cell in self.cells if cell.is_cluster]


class HotspotFinder:
    """Clusters the register's incident and tracked locations."""

    def __init__(self, db: Database) -> None:
        """Count in DB."""
        self.db = db

    def _floor(self, value: Any) -> Any:
        if not self.db.is_sqlite:
            return cast(func.floor(value), Integer)
        # SQLite truncates towards zero (and older builds have no floor()): step negatives down.
        truncated = cast(value, Integer)
        return case((value < truncated, truncated - 1), else_=truncated)

    def _points(self, since: datetime, until: datetime | None, status: Status | None) -> Any:
        period = [Report.created_at >= since]
        if until is not None:
            period.append(Report.created_at < until)
        if status is not None:
            period.append(Report.status == status.value)
        tracked = select(
            literal(TRACKED, Integer).label("kind"),
            Report.id.label("report_id"),  # type: ignore[union-attr]
            cast(Report.tracked_lat, Float).label("lat"),
            cast(Report.tracked_lon, Float).label("lon"),
            Report.tracked_at.label("tracked_at"),  # type: ignore[union-attr]
        ).where(Report.tracked_lat.is_not(None), Report.tracked_lon.is_not(None), *period)  # type: ignore[union-attr]
        incidents = select(
            literal(INCIDENT, Integer).label("kind"),
            Report.id.label("report_id"),  # type: ignore[union-attr]
            cast(Report.incident_lat, Float).label("lat"),
            cast(Report.incident_lon, Float).label("lon"),
            cast(null(), UTCDateTime()).label("tracked_at"),
        ).where(Report.incident_lat.is_not(None), Report.incident_lon.is_not(None), *period)  # type: ignore[union-attr]
        return union_all(tracked, incidents).subquery("points")

    async def find(
        self,
        *,
        days: int = DAYS,
        since: datetime | None = None,
        until: datetime | None = None,
        status: Status | None = None,
        now: datetime | None = None,
        top: int = TOP,
    ) -> Hotspots:
        """The TOP busiest cells of reports filed in the period (default: the last DAYS days)."""
        start = since or (now or utcnow()) - timedelta(days=days)
        points = self._points(start, until, status)
        rows = select(
            points.c.kind,
            points.c.report_id,
            points.c.lon,
            points.c.tracked_at,
            self._floor(points.c.lat / CELL_LAT).label("lat_index"),
        ).subquery("rows")
        cells = select(
            rows.c.kind,
            rows.c.report_id,
            rows.c.tracked_at,
            rows.c.lat_index,
            self._floor(rows.c.lon * row_scale(rows.c.lat_index) / CELL_LAT).label("lon_index"),
        ).subquery("cells")
        is_tracked = cells.c.kind == TRACKED
        thefts = func.sum(case((is_tracked, 0), else_=1)).label("thefts")
        tracked = func.sum(case((is_tracked, 1), else_=0)).label("tracked")
        flagged = case((func.sum(case((is_tracked, 1), else_=0)) >= CLUSTER_MIN, 1), else_=0)
        query = (
            select(
                cells.c.lat_index,
                cells.c.lon_index,
                thefts,
                tracked,
                func.count(func.distinct(cells.c.report_id)),
                func.max(case((is_tracked, cells.c.tracked_at), else_=None)),
            )
            .group_by(cells.c.lat_index, cells.c.lon_index)
            .order_by(
                flagged.desc(),
                func.count().desc(),
                tracked.desc(),
                cells.c.lat_index,
                cells.c.lon_index,
            )
            .limit(top)
        )
        async with self.db.read() as session:
            result = await session.execute(query)
            found = [
                Cell(int(lat), int(lon), int(t), int(tr), int(n), newest)
                for lat, lon, t, tr, n, newest in result
            ]
        return Hotspots(since=start, until=until, status=status, cells=found)


def table(cells: list[Cell], limit: int = 10) -> list[str]:
    """The first LIMIT cells as plain-text table lines; tracked clusters are starred."""
    lines = [f"{'#':>2}  {'centre lat,lon':<20}  {'thefts':>6}  {'tracked':>7}  newest tracked"]
    for number, cell in enumerate(cells[:limit], start=1):
        lat, lon = cell.centre
        newest = cell.newest_tracked_at
        seen = newest.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if newest else "-"
        star = " *" if cell.is_cluster else ""
        lines.append(
            f"{number:>2}  {f'{lat:.5f},{lon:.5f}':<20}  {cell.thefts:>6}  {cell.tracked:>7}"
            f"  {seen}{star}"
        )
    return lines
