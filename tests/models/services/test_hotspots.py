"""Hotspots: the grid, the SQL grouping on both backends, tracked clusters, and the picture."""

from __future__ import annotations

import math
import struct
import zlib
from datetime import timedelta

import pytest

from models.present import heatmap
from models.present.png import SIGNATURE
from models.register import Register
from models.services.hotspots import CELL_LAT, CELL_METRES, METRES_PER_DEGREE, Cell, cell_of
from models.storage.columns import utcnow
from models.values.statuses import Status
from tests.factories import new_report, set_report_columns
from tests.staff_fixtures import bulk_reports

# Oxford Circus, and points around the Greenwich meridian (negative and positive longitudes).
LAT, LON = 51.51520, -0.14190
GREENWICH = 51.47780


def north(lat: float, metres: float) -> float:
    """A latitude METRES north of LAT."""
    return lat + metres / METRES_PER_DEGREE


def east(lat: float, lon: float, metres: float) -> float:
    """A longitude METRES east of LON at latitude LAT."""
    return lon + metres / (METRES_PER_DEGREE * math.cos(math.radians(lat)))


async def file_at(register: Register, key: str, lat: float, lon: float, **tracked) -> str:
    """File a report taken at (LAT, LON), optionally tracked somewhere."""
    report = new_report(incident_lat=lat, incident_lon=lon)
    filed = await register.reports.file(report, key)
    if tracked:
        await set_report_columns(register.db, filed.reference, **tracked)
    return filed.reference


def centre_of_cell(lat: float, lon: float) -> tuple[float, float]:
    """The centre of the cell holding (LAT, LON): a point well inside it."""
    row, column = cell_of(lat, lon)
    return Cell(row, column, 0, 0, 0, None).centre


def test_grid_snaps_100_m_together_and_2_km_apart() -> None:
    lat, lon = centre_of_cell(LAT, LON)
    assert cell_of(lat, lon) == cell_of(north(lat, 100), east(lat, lon, 100))
    assert cell_of(lat, lon) == cell_of(north(lat, -100), east(lat, lon, -100))
    assert cell_of(lat, lon) != cell_of(north(lat, 2000), lon)
    assert cell_of(lat, lon) != cell_of(lat, east(lat, lon, 2000))


def test_cells_are_about_250_m_wide_at_any_latitude() -> None:
    for lat in (0.5, 51.5, -33.9, 64.1):
        row, column = cell_of(lat, 10.0)
        west = Cell(row, column, 0, 0, 0, None).centre
        next_door = Cell(row, column + 1, 0, 0, 0, None).centre
        metres = (next_door[1] - west[1]) * METRES_PER_DEGREE * math.cos(math.radians(lat))
        assert metres == pytest.approx(CELL_METRES, rel=0.01)


def test_negative_coordinates_floor_down() -> None:
    """Just west of Greenwich is not in the same cell as just east of it."""
    assert cell_of(GREENWICH, -0.00001)[1] == -1
    assert cell_of(GREENWICH, 0.00001)[1] == 0
    assert cell_of(-0.00001, 10.0)[0] == -1
    assert cell_of(-CELL_LAT * 1.5, 10.0)[0] == -2


async def test_points_100_m_apart_share_a_cell_2_km_apart_do_not(register: Register) -> None:
    lat, lon = centre_of_cell(LAT, LON)
    await file_at(register, "a", lat, lon)
    await file_at(register, "b", north(lat, 100), east(lat, lon, 100))
    await file_at(register, "c", north(lat, 2000), lon)

    found = await register.hotspots.find()

    assert [(c.thefts, c.tracked, c.reports) for c in found.cells] == [(2, 0, 2), (1, 0, 1)]
    first, second = found.cells
    assert (first.lat_index, first.lon_index) == cell_of(lat, lon)
    assert (second.lat_index, second.lon_index) == cell_of(north(lat, 2000), lon)
    assert first.centre == pytest.approx((lat, lon), abs=1e-9)
    assert not found.clusters


async def test_both_sides_of_greenwich(register: Register) -> None:
    """The database floors negative longitudes and latitudes as Python does."""
    points = [
        (GREENWICH, -0.00001),
        (GREENWICH, 0.00001),
        (GREENWICH, -0.0050),
        (GREENWICH, -0.0051),
        (-33.92490, 18.42410),
        (-22.90680, -43.17290),
    ]
    for n, (lat, lon) in enumerate(points):
        await file_at(register, f"g-{n}", lat, lon)

    found = await register.hotspots.find()

    got = sorted((c.lat_index, c.lon_index, c.thefts) for c in found.cells)
    cells = [cell_of(lat, lon) for lat, lon in points]
    expected = sorted((row, col, cells.count((row, col))) for row, col in set(cells))
    assert got == expected
    assert cell_of(GREENWICH, -0.00001) != cell_of(GREENWICH, 0.00001)


async def test_tracked_cluster_flagged_at_three(register: Register) -> None:
    now = utcnow()
    stash = centre_of_cell(LAT, east(LAT, LON, 5000))
    for n in range(3):
        lat = north(LAT, 3000 * n)
        where = {"tracked_lat": north(stash[0], 20 * n), "tracked_lon": stash[1]}
        if n < 2:
            where["tracked_at"] = now - timedelta(hours=n + 1)
        await file_at(register, f"t-{n}", lat, LON, **where)

    two = await register.hotspots.find(status=Status.SUBMITTED, top=1)
    assert two.cells[0].tracked == 3 and two.cells[0].thefts == 0
    assert two.cells[0].is_cluster
    assert two.clusters == two.cells
    newest = two.cells[0].newest_tracked_at
    assert newest is not None and abs(newest - (now - timedelta(hours=1))) < timedelta(seconds=1)


async def test_two_tracked_is_not_a_cluster_and_distinct_reports(register: Register) -> None:
    lat, lon = centre_of_cell(LAT, LON)
    for n in range(2):
        await file_at(register, f"t-{n}", lat, lon, tracked_lat=lat, tracked_lon=lon)

    (cell,) = (await register.hotspots.find()).cells

    assert (cell.thefts, cell.tracked, cell.reports, cell.is_cluster) == (2, 2, 2, False)


async def test_period_and_status_filters(register: Register) -> None:
    lat, lon = centre_of_cell(LAT, LON)
    old = await file_at(register, "old", lat, lon)
    await set_report_columns(register.db, old, created_at=utcnow() - timedelta(days=40))
    closed = await file_at(register, "closed", lat, lon)
    await set_report_columns(register.db, closed, status=Status.CLOSED.value)
    await file_at(register, "new", lat, lon)

    assert [c.thefts for c in (await register.hotspots.find()).cells] == [2]
    assert [c.thefts for c in (await register.hotspots.find(days=60)).cells] == [3]
    submitted = await register.hotspots.find(days=60, status=Status.SUBMITTED)
    assert [c.thefts for c in submitted.cells] == [2]
    until = await register.hotspots.find(days=60, until=utcnow() - timedelta(days=1))
    assert [c.thefts for c in until.cells] == [1]


async def test_no_located_reports(register: Register) -> None:
    await register.reports.file(new_report(incident_lat=None, incident_lon=None), "none")
    assert (await register.hotspots.find()).cells == []


# --- the picture --------------------------------------------------------------------------------


def decode(png: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, RGB rows) of a PNG written by `models.present.png` (filter 0)."""
    assert png.startswith(SIGNATURE)
    at, chunks = len(SIGNATURE), {}
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind = png[at + 4 : at + 8]
        data = png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF
        chunks[kind] = chunks.get(kind, b"") + data
        at += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour_type) == (8, 2)
    raw = zlib.decompress(chunks[b"IDAT"])
    stride = 1 + 3 * width
    assert len(raw) == stride * height
    rows = [raw[y * stride : (y + 1) * stride] for y in range(height)]
    assert all(row[0] == 0 for row in rows)
    return width, height, [row[1:] for row in rows]


def pixel(rows: list[bytes], x: int, y: int) -> tuple[int, int, int]:
    return rows[y][3 * x], rows[y][3 * x + 1], rows[y][3 * x + 2]


def test_png_is_valid_small_deterministic_and_red_where_busy() -> None:
    busy = Cell(*cell_of(LAT, LON), thefts=9, tracked=3, reports=10, newest_tracked_at=None)
    quiet = Cell(busy.lat_index + 4, busy.lon_index - 3, 1, 0, 1, None)
    cells = [quiet, busy]

    png = heatmap.render(cells)

    assert png == heatmap.render(cells)
    assert len(png) < 200_000
    width, height, rows = decode(png)
    assert (width, height) == (heatmap.SIZE, heatmap.SIZE)
    projection = heatmap.project(cells)
    r, g, b = pixel(rows, *projection.pixel(*busy.centre))
    assert r > 200 and g < 60 and b < 60
    r, g, b = pixel(rows, *projection.pixel(*quiet.centre))
    assert r == 255 and 60 < g < 255 and g == b
    x, y = projection.pixel(*busy.centre)
    edge = projection.cell_px // 2 + heatmap.FRAME
    assert pixel(rows, x, y - edge) == heatmap.BLUE
    assert pixel(rows, 5, 5) == (255, 255, 255)


def test_png_of_nothing_is_blank() -> None:
    _, _, rows = decode(heatmap.render([]))
    assert pixel(rows, 300, 300) == (255, 255, 255)


async def test_many_reports_are_counted_by_the_database(register: Register) -> None:
    """Bulk reports (all taken at one spot) come back as one cell, not as rows."""
    await bulk_reports(register, 5_000, created_at=utcnow() - timedelta(hours=2))

    (cell,) = (await register.hotspots.find()).cells

    assert (cell.thefts, cell.tracked, cell.reports) == (5_000, 0, 5_000)
    assert (cell.lat_index, cell.lon_index) == cell_of(51.5, -0.12)
