"""Hotspots: where thefts and tracked phones cluster, found by density (DBSCAN on the sphere).

Two steps. The database filters the period and snaps every point (a report's theft place and its
tracked location, each valid pin once) to a fine grid of cells about MICRO_METRES square, and
returns one row per (kind, cell): how many points, their mean position and the newest time. No
report is loaded into Python, and at a million reports the work that follows is on a few hundred
thousand cells at most. Then, per kind, scikit-learn's DBSCAN groups the cells with the haversine
metric (great-circle distances, right at any latitude), each cell weighted by its count: a
cluster is a set of points that lie within RADIUS_METRES of enough others.

"Enough" is MIN_REPORTS, or more when the period is busy: twice as many as an average disc of
RADIUS_METRES holds over the ground where reports occur (points per occupied square kilometre,
times the disc's area), so that a city-wide scatter of a million reports does not chain into one
cluster; in an ordinary period (a city's month of reports) that is 3, so three stolen phones
tracked to one address make a cluster. docs/hotspots.md justifies the library and
BENCHMARKS.md gives the measured time at a million reports.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np
from sqlalchemy import (
    Float,
    Integer,
    Result,
    and_,
    case,
    cast,
    func,
    literal,
    not_,
    select,
    union_all,
)
from sqlmodel import col

from models.services.places import DATASET as PLACES
from models.storage.columns import utcnow
from models.storage.database import Database
from models.storage.tables import Dataset, PlaceName, Report
from models.values.coordinates import Precision
from models.values.earth import EARTH_RADIUS_METRES, METRES_PER_DEGREE, haversine_metres
from models.values.statuses import Status

DAYS = 30
THEFT, TRACKED = "theft", "tracked"
KINDS = (TRACKED, THEFT)
# The database's grid: fine enough that snapping moves a point by at most ~35 m.
MICRO_METRES = 50.0
# DBSCAN: neighbours within this distance; a core point has at least min_reports of them.
RADIUS_METRES = 200.0
MIN_REPORTS = 3
# The background density is measured over squares of this side where reports occur; a core point
# needs DENSITY_FACTOR times what an average disc of RADIUS_METRES holds there.
BACKGROUND_METRES = 1000.0
DENSITY_FACTOR = 2.0
# Reports' phones tracked to one place from this many on (in an ordinary period): a likely stash.
CLUSTER_MIN = MIN_REPORTS
TABLE_ROWS = 10
_NOISE = -1


class LandmarkSource(Protocol):
    """Named places to draw behind the clusters (an imported gazetteer), if any."""

    async def within(
        self, south: float, west: float, north: float, east: float, limit: int
    ) -> list[Landmark]:
        """Up to LIMIT places inside the box, the most important first."""
        ...


@dataclass(frozen=True, slots=True)
class Landmark:
    """A named point of the gazetteer."""

    name: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Cell:
    """The points of one kind in one grid cell: how many, where on average, the newest time."""

    kind: str
    lat: float
    lon: float
    count: int
    newest: datetime | None
    cluster: int = 0  # the number of its cluster in the table, 0 when in none


@dataclass(frozen=True, slots=True)
class Cluster:
    """A density cluster of one kind: numbered as in the table and on the picture."""

    number: int
    kind: str
    lat: float
    lon: float
    reports: int
    radius_metres: float
    newest: datetime | None

    @property
    def centre(self) -> tuple[float, float]:
        """The cluster's centre (lat, lon): the mean of its points."""
        return self.lat, self.lon

    @property
    def is_tracked(self) -> bool:
        """Whether it is where phones were tracked (a possible stash) rather than taken."""
        return self.kind == TRACKED


@dataclass(frozen=True, slots=True)
class Hotspots:
    """The clusters of a period, tracked clusters first, then by size."""

    since: datetime
    until: datetime
    status: Status | None
    clusters: list[Cluster]
    cells: list[Cell]
    min_reports: dict[str, int] = field(default_factory=dict)
    landmarks: list[Landmark] = field(default_factory=list)

    @property
    def points(self) -> int:
        """How many points (theft places and tracked locations) the period has."""
        return sum(cell.count for cell in self.cells)

    @property
    def tracked_clusters(self) -> list[Cluster]:
        """The clusters of tracked locations."""
        return [cluster for cluster in self.clusters if cluster.is_tracked]

    @property
    def days(self) -> float:
        """The period's length in days."""
        return (self.until - self.since) / timedelta(days=1)

    def extent(self, rows: int = TABLE_ROWS) -> tuple[float, float, float, float] | None:
        """(south, west, north, east) around the first ROWS clusters (or every point)."""
        shown = self.clusters[:rows]
        if shown:
            boxes = [_box(c.lat, c.lon, max(c.radius_metres, MICRO_METRES)) for c in shown]
        elif self.cells:
            boxes = [_box(cell.lat, cell.lon, MICRO_METRES) for cell in self.cells]
        else:
            return None
        return (
            min(box[0] for box in boxes),
            min(box[1] for box in boxes),
            max(box[2] for box in boxes),
            max(box[3] for box in boxes),
        )


def _box(lat: float, lon: float, metres: float) -> tuple[float, float, float, float]:
    dlat = metres / METRES_PER_DEGREE
    dlon = metres / (METRES_PER_DEGREE * max(0.01, math.cos(math.radians(lat))))
    return lat - dlat, lon - dlon, lat + dlat, lon + dlon


def min_reports_for(cells: Sequence[tuple[float, float, int]]) -> int:
    """The density a core point needs: MIN_REPORTS, or twice what an average RADIUS disc holds
    over the square kilometres where reports occur (a busy period's background)."""
    if not cells:
        return MIN_REPORTS
    side = BACKGROUND_METRES / METRES_PER_DEGREE
    occupied = set()
    total = 0
    for lat, lon, count in cells:
        row = math.floor(lat / side)
        scale = max(0.01, math.cos(math.radians((row + 0.5) * side)))
        occupied.add((row, math.floor(lon * scale / side)))
        total += count
    per_square_metre = total / (len(occupied) * BACKGROUND_METRES**2)
    average_disc = per_square_metre * math.pi * RADIUS_METRES**2
    return max(MIN_REPORTS, math.ceil(DENSITY_FACTOR * average_disc))


def cluster_cells(
    cells: Sequence[tuple[float, float, int]], min_reports: int
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """DBSCAN labels of CELLS (lat, lon, weight) on the sphere: -1 for noise."""
    if not cells:
        return np.empty(0, dtype=np.int64)
    # Imported here: scikit-learn takes about a second to import, and only hotspots need it,
    # so every other command and the bot's start do not pay for it.
    from sklearn.cluster import DBSCAN

    coordinates = np.radians(np.array([(lat, lon) for lat, lon, _ in cells], dtype=float))
    weights = np.array([count for _, _, count in cells], dtype=float)
    model = DBSCAN(
        eps=RADIUS_METRES / EARTH_RADIUS_METRES,
        min_samples=min_reports,
        metric="haversine",
        algorithm="ball_tree",
    )
    return np.asarray(model.fit_predict(coordinates, sample_weight=weights), dtype=np.int64)


class GazetteerLandmarks:
    """Landmarks from the imported gazetteer (`reportbot places import`): its named places."""

    def __init__(self, db: Database) -> None:
        """Read from DB."""
        self.db = db

    async def within(
        self, south: float, west: float, north: float, east: float, limit: int
    ) -> list[Landmark]:
        """Up to LIMIT named places of the gazetteer in use inside the box, best ranked first.

        Postcodes are left out: they would bury the map in labels.
        """
        query = (
            select(col(PlaceName.name), col(PlaceName.lat), col(PlaceName.lon))
            .join(
                Dataset,
                and_(
                    col(Dataset.name) == PLACES,
                    col(Dataset.generation) == col(PlaceName.generation),
                ),
            )
            .where(
                col(PlaceName.precision) == Precision.PLACE.value,
                col(PlaceName.lat).between(south, north),
                col(PlaceName.lon).between(west, east),
            )
            .order_by(col(PlaceName.rank), col(PlaceName.name))
            .limit(limit)
        )
        async with self.db.read() as session:
            rows = await session.execute(query)
            return [Landmark(str(name), float(lat), float(lon)) for name, lat, lon in rows]


class HotspotFinder:
    """Clusters the register's theft places and tracked locations."""

    LANDMARKS = 40

    def __init__(self, db: Database, landmarks: LandmarkSource | None = None) -> None:
        """Count in DB; draw LANDMARKS (default: the imported gazetteer, if any) behind."""
        self.db = db
        self.landmarks: LandmarkSource = landmarks or GazetteerLandmarks(db)

    def _floor(self, value: Any) -> Any:
        if not self.db.is_sqlite:
            return cast(func.floor(value), Integer)
        # SQLite truncates towards zero (and older builds have no floor()): step negatives down.
        truncated = cast(value, Integer)
        return case((value < truncated, truncated - 1), else_=truncated)

    @staticmethod
    def _valid(lat: Any, lon: Any) -> Any:
        return and_(
            lat.is_not(None),
            lon.is_not(None),
            lat.between(-90.0, 90.0),
            lon.between(-180.0, 180.0),
            not_(and_(lat == 0.0, lon == 0.0)),
        )

    def _points(self, since: datetime, until: datetime, status: Status | None) -> Any:
        period = [col(Report.created_at) >= since, col(Report.created_at) < until]
        if status is not None:
            period.append(col(Report.status) == status.value)
        tracked = select(
            literal(1, Integer).label("kind"),
            cast(Report.tracked_lat, Float).label("lat"),
            cast(Report.tracked_lon, Float).label("lon"),
            func.coalesce(Report.tracked_at, Report.created_at).label("at"),
        ).where(self._valid(col(Report.tracked_lat), col(Report.tracked_lon)), *period)
        thefts = select(
            literal(0, Integer).label("kind"),
            cast(Report.incident_lat, Float).label("lat"),
            cast(Report.incident_lon, Float).label("lon"),
            func.coalesce(Report.incident_at, Report.created_at).label("at"),
        ).where(self._valid(col(Report.incident_lat), col(Report.incident_lon)), *period)
        return union_all(tracked, thefts).subquery("points")

    async def cells(
        self,
        since: datetime,
        until: datetime,
        status: Status | None = None,
        *,
        cell_metres: float = MICRO_METRES,
    ) -> list[Cell]:
        """The period's points grouped by the database into cells of CELL_METRES, per kind."""
        step = cell_metres / METRES_PER_DEGREE
        points = self._points(since, until, status)
        rows = select(
            points.c.kind,
            points.c.lat,
            points.c.lon,
            points.c.at,
            self._floor(points.c.lat / step).label("row"),
        ).subquery("rows")
        # Cells are square at any latitude: a row's longitude step widens by 1/cos(latitude).
        scale = func.cos(rows.c.row * (step * math.pi / 180.0) + step * math.pi / 360.0)
        if self.db.is_sqlite:
            scale = _cos_polynomial(rows.c.row * (step * math.pi / 180.0) + step * math.pi / 360.0)
        grouped = select(
            rows.c.kind,
            rows.c.row,
            self._floor(rows.c.lon * scale / step).label("col"),
            rows.c.lat,
            rows.c.lon,
            rows.c.at,
        ).subquery("grouped")
        query = select(
            grouped.c.kind,
            func.count(),
            func.avg(grouped.c.lat),
            func.avg(grouped.c.lon),
            func.max(grouped.c.at),
        ).group_by(grouped.c.kind, grouped.c.row, grouped.c.col)
        async with self.db.read() as session:
            result: Result[int, int, float, float, datetime | None] = await session.execute(query)
            return [
                Cell(TRACKED if kind else THEFT, float(lat), float(lon), int(count), newest)
                for kind, count, lat, lon, newest in result
            ]

    async def find(
        self,
        *,
        days: int = DAYS,
        since: datetime | None = None,
        until: datetime | None = None,
        status: Status | None = None,
        now: datetime | None = None,
        landmarks: bool = True,
    ) -> Hotspots:
        """The clusters of reports filed in the period (default: the last DAYS days)."""
        end = until or now or utcnow()
        start = since or end - timedelta(days=days)
        cells = await self.cells(start, end, status)
        # Clustering is CPU work (seconds at a million reports): off the event loop.
        found = await asyncio.to_thread(_clustered, cells, start, end, status)
        box = found.extent()
        if landmarks and box is not None:
            margin = 0.25 * max(box[2] - box[0], box[3] - box[1]) + 0.005
            found.landmarks.extend(
                await self.landmarks.within(
                    box[0] - margin,
                    box[1] - margin,
                    box[2] + margin,
                    box[3] + margin,
                    self.LANDMARKS,
                )
            )
        return found


def _clustered(
    cells: list[Cell], start: datetime, end: datetime, status: Status | None
) -> Hotspots:
    """The clusters of CELLS, numbered: tracked clusters first, then by size."""
    clusters: list[tuple[str, list[Cell]]] = []
    labelled: list[tuple[Cell, int]] = []
    thresholds: dict[str, int] = {}
    for kind in KINDS:
        mine = [cell for cell in cells if cell.kind == kind]
        weighted = [(cell.lat, cell.lon, cell.count) for cell in mine]
        threshold = min_reports_for(weighted)
        thresholds[kind] = threshold
        labels = cluster_cells(weighted, threshold)
        groups: dict[int, list[Cell]] = {}
        for cell, label in zip(mine, labels.tolist(), strict=True):
            if label != _NOISE:
                groups.setdefault(label, []).append(cell)
            labelled.append((cell, len(clusters) + label if label != _NOISE else -1))
        clusters.extend((kind, groups[label]) for label in sorted(groups))
    summaries = [_summary(kind, members) for kind, members in clusters]
    order = sorted(
        range(len(summaries)),
        key=lambda i: (
            summaries[i].kind != TRACKED,
            -summaries[i].reports,
            summaries[i].lat,
            summaries[i].lon,
        ),
    )
    number_of = {index: rank for rank, index in enumerate(order, start=1)}
    numbered = [
        Cluster(
            number_of[i],
            s.kind,
            s.lat,
            s.lon,
            s.reports,
            s.radius_metres,
            s.newest,
        )
        for i, s in enumerate(summaries)
    ]
    numbered.sort(key=lambda cluster: cluster.number)
    cells_out = [
        Cell(cell.kind, cell.lat, cell.lon, cell.count, cell.newest, number_of.get(index, 0))
        if index >= 0
        else cell
        for cell, index in labelled
    ]
    return Hotspots(start, end, status, numbered, cells_out, thresholds)


def _cos_polynomial(radians: Any) -> Any:
    """cos(x) for |x| <= pi/2 as a Taylor polynomial: SQLite builds may lack cos()."""
    x2 = radians * radians
    return 1.0 + x2 * (-1.0 / 2 + x2 * (1.0 / 24 + x2 * (-1.0 / 720 + x2 * (1.0 / 40320))))


def _summary(kind: str, members: list[Cell]) -> Cluster:
    reports = sum(cell.count for cell in members)
    lat = sum(cell.lat * cell.count for cell in members) / reports
    lon = sum(cell.lon * cell.count for cell in members) / reports
    radius = max(haversine_metres(lat, lon, cell.lat, cell.lon) for cell in members)
    times = [cell.newest for cell in members if cell.newest is not None]
    return Cluster(0, kind, lat, lon, reports, radius, max(times) if times else None)


def table(clusters: list[Cluster], limit: int = TABLE_ROWS) -> list[str]:
    """The first LIMIT clusters as plain-text table lines, numbered as on the picture."""
    lines = [
        f"{'#':>2}  {'kind':<7}  {'centre lat,lon':<20}  {'reports':>7}  {'radius':>6}  newest"
    ]
    for cluster in clusters[:limit]:
        newest = cluster.newest
        seen = newest.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if newest else "-"
        lines.append(
            f"{cluster.number:>2}  {cluster.kind:<7}  "
            f"{f'{cluster.lat:.5f},{cluster.lon:.5f}':<20}  {cluster.reports:>7}  "
            f"{f'{cluster.radius_metres:.0f} m':>6}  {seen}"
        )
    return lines
