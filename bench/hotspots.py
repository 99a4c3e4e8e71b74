"""Hotspots: clustering N reports' theft places and tracked locations, and drawing the map.

python -m bench.hotspots [--quick] [--size N] [--sample N] [--keep PATH] [--database-url URL]

Builds a register of N reports (1,000,000; `--quick`: 2,000) straight into the tables, then places
their points like a city's: 60% of the thefts around 60 hotspots (spread 80-400 m), the rest
scattered over about 45 x 40 km; every fifth report's phone tracked, one in ten of those to one of
20 addresses. Measured, in this process:

- `HotspotFinder.find` over every report: the database's grouping into 50 m cells, then DBSCAN
  (haversine, weighted) on the cells, each stage timed alone too;
- the baseline, in the same run: the grid the hotspots used before, the database's GROUP BY of
  the same points into 250 m cells and nothing more (no clusters, a cell edge splits a hotspot);
- the alternative the design avoids: DBSCAN on SAMPLE raw points (100,000), no grid;
- drawing the map (PNG), and the process's peak memory.

`--keep PATH` builds the SQLite register once and reuses it (keys and build record beside it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

if not __package__:  # run as `python bench/hotspots.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from sklearn.cluster import DBSCAN
from sqlalchemy import bindparam, update

from bench._backends import PostgresBackend, SqliteBackend
from bench._bulk import build_record, kept_ring, large_register_parser, register_size
from bench.common import Result, emit, log, peak_rss_mb, ratio, stage
from bench.register import ensure_built
from models.present import heatmap
from models.sealing.vault import KeyRing, Vault
from models.services.hotspots import RADIUS_METRES, HotspotFinder, _clustered
from models.services.reports import ReportStore
from models.storage.tables import Report
from models.values.earth import EARTH_RADIUS_METRES

FIND_TARGET_S = 60.0
RSS_TARGET_MB = 1024.0
SINCE = datetime(2000, 1, 1, tzinfo=UTC)
CENTRE = (51.5072, -0.1276)
BATCH = 20_000


@dataclass(frozen=True)
class Sizes:
    """How big this run is."""

    reports: int
    sample: int


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of this benchmark."""
    arguments = large_register_parser(__doc__.splitlines()[0])
    arguments.add_argument("--sample", type=int, help="raw points for plain DBSCAN (100,000)")
    return arguments.parse_args(argv)


def sizes_of(args: argparse.Namespace) -> Sizes:
    """The sizes the options ask for."""
    reports = register_size(args)
    return Sizes(reports, min(reports, args.sample or (2_000 if args.quick else 100_000)))


def city_points(reports: int, seed: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """(theft lat/lon for every report, tracked lat/lon or NaN), placed like a city's."""
    rng = np.random.default_rng(seed)
    metre = 1 / 111_195
    stretch = 1 / np.cos(np.radians(CENTRE[0]))
    centres = np.column_stack(
        [
            CENTRE[0] + rng.uniform(-0.15, 0.15, 60),
            CENTRE[1] + rng.uniform(-0.25, 0.25, 60),
        ]
    )
    spread = rng.uniform(80, 400, 60) * metre
    clustered = int(reports * 0.6)
    which = rng.integers(0, 60, clustered)
    noise = rng.normal(0, 1, (clustered, 2)) * spread[which, None] * np.array([1, stretch])
    thefts = np.vstack(
        [
            centres[which] + noise,
            np.column_stack(
                [
                    CENTRE[0] + rng.uniform(-0.2, 0.2, reports - clustered),
                    CENTRE[1] + rng.uniform(-0.3, 0.3, reports - clustered),
                ]
            ),
        ]
    )
    rng.shuffle(thefts)
    tracked = np.full((reports, 2), np.nan)
    every_fifth = np.arange(0, reports, 5)
    stashes = np.column_stack(
        [CENTRE[0] + rng.uniform(-0.2, 0.2, 20), CENTRE[1] + rng.uniform(-0.3, 0.3, 20)]
    )
    to_stash = rng.random(len(every_fifth)) < 0.1
    picked = stashes[rng.integers(0, 20, len(every_fifth))]
    scattered = np.column_stack(
        [
            CENTRE[0] + rng.uniform(-0.2, 0.2, len(every_fifth)),
            CENTRE[1] + rng.uniform(-0.3, 0.3, len(every_fifth)),
        ]
    )
    near = picked + rng.normal(0, 20 * metre, (len(every_fifth), 2))
    tracked[every_fifth] = np.where(to_stash[:, None], near, scattered)
    return thefts, tracked


async def place_points(backend: SqliteBackend | PostgresBackend, reports: int) -> None:
    """Move every report's points to the city layout (ids 1..N, in batches)."""
    thefts, tracked = city_points(reports)
    table = Report.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("rid"))
        .values(
            incident_lat=bindparam("ilat"),
            incident_lon=bindparam("ilon"),
            tracked_lat=bindparam("tlat"),
            tracked_lon=bindparam("tlon"),
        )
    )
    async with backend.db.write() as session:
        ids = [
            row
            for (row,) in await session.execute(
                Report.__table__.select()
                .with_only_columns(Report.__table__.c.id)
                .order_by(Report.__table__.c.id)
            )
        ]
    for start in range(0, len(ids), BATCH):
        rows = [
            {
                "rid": ids[index],
                "ilat": float(thefts[index, 0]),
                "ilon": float(thefts[index, 1]),
                "tlat": None if np.isnan(tracked[index, 0]) else float(tracked[index, 0]),
                "tlon": None if np.isnan(tracked[index, 1]) else float(tracked[index, 1]),
            }
            for index in range(start, min(start + BATCH, len(ids)))
        ]
        async with backend.db.write() as session:
            connection = await session.connection()
            await connection.execute(statement, rows)


def plain_dbscan(sample: int) -> dict[str, float]:
    """DBSCAN (haversine, min 3) on SAMPLE raw theft points: no grid, no weights."""
    thefts, _ = city_points(sample, seed=99)
    started = time.perf_counter()
    model = DBSCAN(
        eps=RADIUS_METRES / EARTH_RADIUS_METRES,
        min_samples=3,
        metric="haversine",
        algorithm="ball_tree",
    )
    labels = model.fit_predict(np.radians(thefts))
    return {
        "seconds": time.perf_counter() - started,
        "clusters": int(labels.max() + 1),
        "points": sample,
    }


async def measure(
    backend: SqliteBackend | PostgresBackend, vault: Vault, sizes: Sizes, marker: Path | None
) -> Result:
    """Build and lay out the register, then time the hotspots on it."""
    result = Result(
        "hotspots",
        sizes={
            "reports": sizes.reports,
            "raw_dbscan_points": sizes.sample,
            "backend": backend.name,
        },
    )
    store = ReportStore(backend.db, vault)
    await ensure_built(backend, store, sizes.reports, build_record(marker))
    placed = marker.with_name(marker.name + ".hotspots.json") if marker else None
    if placed is None or not placed.exists():
        with stage(f"placing {sizes.reports:,} reports' points like a city's"):
            await place_points(backend, sizes.reports)
        if placed is not None:
            placed.write_text(json.dumps({"reports": sizes.reports}))
    finder = HotspotFinder(backend.db)
    now = datetime.now(UTC)
    with stage("baseline: the 250 m grid's GROUP BY alone") as grid:
        grid_cells = await finder.cells(SINCE, now, cell_metres=250.0)
    with stage("the database's 50 m cells alone") as grouping:
        cells = await finder.cells(SINCE, now)
    with stage("DBSCAN on the cells alone") as clustering:
        clustered = _clustered(cells, SINCE, now, None)
    with stage(f"HotspotFinder.find over {sizes.reports:,} reports") as find:
        found = await finder.find(since=SINCE, until=now, landmarks=False)
    with stage("drawing the map (PNG)") as drawing:
        png = heatmap.render(found)
    with stage(f"plain DBSCAN on {sizes.sample:,} raw points") as _:
        raw = await asyncio.to_thread(plain_dbscan, sizes.sample)
    tracked = len(found.tracked_clusters)
    result.figures.update(
        {
            "find_s": find.seconds,
            "find_reports_per_s": sizes.reports / find.seconds,
            "grouping_s": grouping.seconds,
            "clustering_s": clustering.seconds,
            "map_png_s": drawing.seconds,
            "map_png_kb": len(png) / 1024,
            "points": found.points,
            "cells": len(cells),
            "clusters": len(found.clusters),
            "tracked_clusters": tracked,
            "theft_min_reports": found.min_reports.get("theft"),
            "peak_rss_mb": peak_rss_mb(),
        }
    )
    assert len(clustered.clusters) == len(found.clusters)
    result.baseline.update(
        {
            "grid_250m_group_by_s": grid.seconds,
            "grid_250m_cells": len(grid_cells),
        }
    )
    result.figures.update({f"raw_dbscan.{key}": value for key, value in raw.items()})
    result.ratio["find_to_grid_group_by"] = ratio(find.seconds, grid.seconds)
    result.ratio["raw_dbscan_s_per_point_to_find_s_per_point"] = ratio(
        raw["seconds"] / sizes.sample, find.seconds / sizes.reports
    )
    result.below("find_s", find.seconds, FIND_TARGET_S, "s")
    result.below("peak_rss_mb", result.figures["peak_rss_mb"], RSS_TARGET_MB, "MB")
    return result


async def run(args: argparse.Namespace) -> Result:
    """On PostgreSQL (--database-url) in a private schema, else on a SQLite file."""
    sizes = sizes_of(args)
    if args.database_url:
        backend: SqliteBackend | PostgresBackend = PostgresBackend(args.database_url)
        await backend.create_schema()
        ring = KeyRing.generate()
        try:
            return await measure(backend, Vault(ring), sizes, None)
        finally:
            await backend.close()
    with tempfile.TemporaryDirectory(prefix="bench-hotspots-") as folder:
        path = args.keep or Path(folder) / "register.db"
        backend = SqliteBackend(path)
        try:
            return await measure(backend, Vault(kept_ring(args.keep)), sizes, args.keep)
        finally:
            await backend.close()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON line."""
    args = arguments(argv)
    result = asyncio.run(run(args))
    log(f"hotspots: {result.figures['clusters']} clusters in {result.figures['find_s']:.1f} s")
    return emit(result, quick=args.quick)


if __name__ == "__main__":
    sys.exit(main())
