"""Hotspots: the database's grouping on both backends, density clusters, and the map."""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ET
from datetime import timedelta

import numpy as np
import pytest
from matplotlib.image import imread

from models.present import heatmap
from models.register import Register
from models.services.hotspots import (
    CLUSTER_MIN,
    MIN_REPORTS,
    RADIUS_METRES,
    GazetteerLandmarks,
    Landmark,
    cluster_cells,
    min_reports_for,
    table,
)
from models.storage.columns import utcnow
from models.storage.tables import Dataset, PlaceName
from models.values.earth import METRES_PER_DEGREE, haversine_metres
from models.values.statuses import Status
from tests.factories import new_report, set_report_columns
from tests.staff_fixtures import bulk_reports

# Oxford Circus, a stash in north London, and the Greenwich meridian.
LAT, LON = 51.51520, -0.14190
STASH = (51.54420, -0.10260)
GREENWICH = 51.47780
SVG = "{http://www.w3.org/2000/svg}"


def north(lat: float, metres: float) -> float:
    """A latitude METRES north of LAT."""
    return lat + metres / METRES_PER_DEGREE


def east(lat: float, lon: float, metres: float) -> float:
    """A longitude METRES east of LON at latitude LAT."""
    return lon + metres / (METRES_PER_DEGREE * math.cos(math.radians(lat)))


async def file_at(register: Register, key: str, lat: float | None, lon: float | None, **tracked):
    """File a report taken at (LAT, LON), optionally tracked somewhere."""
    filed = await register.reports.file(new_report(incident_lat=lat, incident_lon=lon), key)
    if tracked:
        await set_report_columns(register.db, filed.reference, **tracked)
    return filed.reference


async def stash_and_street(register: Register) -> None:
    """Five thefts along 120 m of Oxford Street, three phones tracked to one stash, strays."""
    now = utcnow()
    for n in range(5):
        await file_at(register, f"street-{n}", LAT, east(LAT, LON, 30 * n))
    for n in range(3):
        await file_at(
            register,
            f"stash-{n}",
            None,
            None,
            tracked_lat=north(STASH[0], 10 * n),
            tracked_lon=STASH[1],
            tracked_at=now - timedelta(hours=n + 1),
        )
    await file_at(register, "stray-1", north(LAT, 3000), LON)
    await file_at(register, "stray-2", north(LAT, -4000), LON)


async def test_clusters_numbered_tracked_first_with_sizes(register: Register) -> None:
    await stash_and_street(register)

    found = await register.hotspots.find()

    assert [(c.number, c.kind, c.reports) for c in found.clusters] == [
        (1, "tracked", 3),
        (2, "theft", 5),
    ]
    stash, street = found.clusters
    assert haversine_metres(*stash.centre, north(STASH[0], 10), STASH[1]) < 5
    assert haversine_metres(*street.centre, LAT, east(LAT, LON, 60)) < 10
    assert 40 < street.radius_metres < 90
    assert stash.newest is not None
    assert abs(stash.newest - (utcnow() - timedelta(hours=1))) < timedelta(minutes=1)
    assert found.points == 10 and found.min_reports == {"tracked": 3, "theft": 3}
    # The strays are points of the period but belong to no cluster.
    assert sorted(cell.cluster for cell in found.cells if cell.cluster == 0) == [0, 0]
    lines = table(found.clusters)
    assert lines[0].split() == ["#", "kind", "centre", "lat,lon", "reports", "radius", "newest"]
    assert lines[1].split()[:2] == ["1", "tracked"] and lines[1].split()[3] == "3"
    assert lines[2].split()[:2] == ["2", "theft"] and lines[2].split()[3] == "5"


async def test_two_tracked_phones_are_not_a_cluster(register: Register) -> None:
    for n in range(CLUSTER_MIN - 1):
        await file_at(register, f"t-{n}", None, None, tracked_lat=STASH[0], tracked_lon=STASH[1])
    found = await register.hotspots.find()
    assert found.clusters == [] and found.points == CLUSTER_MIN - 1


async def test_a_cluster_straddling_the_meridian_is_one(register: Register) -> None:
    """No grid edge splits a hotspot: 60 m across Greenwich, from both sides, is one cluster."""
    for n, metres in enumerate((-30, -10, 10, 30)):
        await file_at(register, f"g-{n}", GREENWICH, east(GREENWICH, 0.0, metres))
    await file_at(register, "south", -33.92490, 18.42410)
    await file_at(register, "rio", -22.90680, -43.17290)

    (cluster,) = (await register.hotspots.find()).clusters

    assert cluster.reports == 4 and abs(cluster.lon) < 1e-4
    assert cluster.lat == pytest.approx(GREENWICH, abs=1e-5)


async def test_period_status_and_impossible_pins(register: Register) -> None:
    for n in range(3):
        await file_at(register, f"new-{n}", LAT, east(LAT, LON, 20 * n))
    old = await file_at(register, "old", LAT, LON)
    await set_report_columns(register.db, old, created_at=utcnow() - timedelta(days=40))
    closed = await file_at(register, "closed", LAT, LON)
    await set_report_columns(register.db, closed, status=Status.CLOSED.value)
    for key, lat, lon in (("off", 91.0, 200.0), ("null", 0.0, 0.0)):
        await file_at(register, key, lat, lon)

    assert [c.reports for c in (await register.hotspots.find()).clusters] == [4]
    assert [c.reports for c in (await register.hotspots.find(days=60)).clusters] == [5]
    submitted = await register.hotspots.find(days=60, status=Status.SUBMITTED)
    assert [c.reports for c in submitted.clusters] == [4]
    until = await register.hotspots.find(days=60, until=utcnow() - timedelta(days=1))
    assert until.clusters == [] and until.points == 1
    assert (await register.hotspots.find()).points == 4


async def test_no_located_reports(register: Register) -> None:
    await register.reports.file(new_report(incident_lat=None, incident_lon=None), "none")
    found = await register.hotspots.find()
    assert (found.cells, found.clusters, found.extent()) == ([], [], None)


async def test_many_reports_are_grouped_by_the_database(register: Register) -> None:
    """Bulk reports (all taken at one spot) come back as one cell, not as rows."""
    await bulk_reports(register, 5_000, created_at=utcnow() - timedelta(hours=2))

    found = await register.hotspots.find()

    (cell,) = found.cells
    assert (cell.kind, cell.count, cell.cluster) == ("theft", 5_000, 1)
    assert (cell.lat, cell.lon) == pytest.approx((51.5, -0.12))
    (cluster,) = found.clusters
    assert cluster.reports == 5_000 and cluster.radius_metres == pytest.approx(0, abs=1e-6)


def test_a_busy_scatter_does_not_chain_into_one_cluster() -> None:
    """A city-wide scatter of 20,000 thefts with two real hotspots: the hotspots come out as the
    two biggest clusters, no cluster sprawls, and the scatter stays (almost all) noise."""
    rng = np.random.default_rng(7)
    scatter = np.column_stack(
        [51.5 + rng.uniform(-0.05, 0.05, 20_000), -0.12 + rng.uniform(-0.08, 0.08, 20_000)]
    )
    hotspots = [(51.51, -0.14), (51.49, -0.10)]
    dense = [np.array(centre) + rng.normal(0, 0.0006, (400, 2)) for centre in hotspots]
    points = np.vstack([scatter, *dense])
    cells = [(float(lat), float(lon), 1) for lat, lon in points]

    threshold = min_reports_for(cells)
    labels = cluster_cells(cells, threshold)

    assert threshold > MIN_REPORTS
    sizes = np.bincount(labels[labels >= 0])
    biggest = list(np.argsort(sizes)[::-1][:2])
    for label, centre in zip(
        sorted(biggest, key=lambda k: -points[labels == k][:, 0].mean()), hotspots, strict=True
    ):
        members = points[labels == label]
        assert haversine_metres(*members.mean(axis=0), *centre) < 60
        assert max(haversine_metres(*p, *centre) for p in members) < 3 * RADIUS_METRES
    assert (labels[: len(scatter)] == -1).mean() > 0.95
    # With the fixed minimum, the same scatter chains into a cluster as wide as the city.
    chained = cluster_cells(cells, MIN_REPORTS)
    assert np.bincount(chained[chained >= 0]).max() > 10_000


def test_min_reports_stays_at_the_minimum_for_a_quiet_period() -> None:
    cells = [(LAT + 0.01 * n, LON, 1) for n in range(50)] + [(STASH[0], STASH[1], 3)]
    assert min_reports_for(cells) == MIN_REPORTS
    assert min_reports_for([]) == MIN_REPORTS


# --- the gazetteer behind the map ------------------------------------------------------------


async def test_landmarks_come_from_the_gazetteer_in_use(register: Register) -> None:
    assert await GazetteerLandmarks(register.db).within(51, -1, 52, 1, 10) == []
    async with register.db.write() as session:
        session.add(
            Dataset(name="places", generation=2, rows=4, format="plain", imported_by="test")
        )
        for generation, name, lat, lon, precision, rank in (
            (1, "Old Name", LAT, LON, "place", 1),
            (2, "Oxford Circus", LAT, LON, "place", 20),
            (2, "Regent Street", north(LAT, -300), LON, "place", 10),
            (2, "W1B 3AG", LAT, LON, "postcode", 1),
            (2, "Manchester", 53.48, -2.24, "place", 1),
        ):
            session.add(
                PlaceName(
                    generation=generation,
                    key=name.lower(),
                    name=name,
                    lat=lat,
                    lon=lon,
                    precision=precision,
                    source="places_csv",
                    rank=rank,
                )
            )
    for n in range(3):
        await file_at(register, f"s-{n}", LAT, east(LAT, LON, 20 * n))

    found = await register.hotspots.find()

    assert [place.name for place in found.landmarks] == ["Regent Street", "Oxford Circus"]
    svg = ET.fromstring(heatmap.render(found, image_format="svg"))
    texts = [element.text for element in svg.iter(f"{SVG}text")]
    assert "Regent Street" in texts and "Oxford Circus" in texts
    assert "gazetteer place" in texts


# --- the map -----------------------------------------------------------------------------


class Places:
    """A fixed gazetteer for the picture."""

    async def within(self, south, west, north_, east_, limit):
        """Two West End landmarks."""
        return [Landmark("Oxford Circus", LAT, LON), Landmark("Bond Street", 51.5142, -0.1494)]


async def test_map_png_and_svg_carry_numbers_legend_scale_and_period(
    register: Register,
) -> None:
    await stash_and_street(register)
    register.hotspots.landmarks = Places()
    found = await register.hotspots.find()

    png = heatmap.render(found)
    svg = heatmap.render(found, image_format="svg")

    image = imread(io.BytesIO(png))
    assert image.shape[:2] == (880, 880) and len(png) < 400_000
    root = ET.fromstring(svg)
    texts = [element.text for element in root.iter(f"{SVG}text")]
    assert f"Hotspots: reports filed {heatmap.period(found)}" in texts
    assert heatmap.period(found).endswith("(30 days)")
    # The clusters' numbers are drawn, exactly those of the table.
    numbers = sorted(
        element.get("id")
        for element in root.iter(f"{SVG}g")
        if (element.get("id") or "").startswith("cluster-")
    )
    assert numbers == ["cluster-1", "cluster-2"]
    assert {"1", "2"} <= set(texts)
    for legend in ("tracked cluster (phones seen there)", "theft cluster", "other reports"):
        assert legend in texts
    assert "gazetteer place" in texts and "Oxford Circus" in texts
    scale = [t for t in texts if t and (t.endswith(" m") or t.endswith(" km"))]
    assert len(scale) == 1 and scale[0] in {"200 m", "500 m", "1 km", "2 km"}
    degree_labels = [t for t in texts if t and t.endswith("°")]
    assert any(t.startswith("51.") for t in degree_labels)
    assert any(t.startswith("-0.") for t in degree_labels)
    assert "longitude (WGS84; east positive)" in texts


async def test_clusters_are_drawn_where_they_are(register: Register) -> None:
    """The pixel at the tracked cluster's point is blue, at the street cluster's red."""
    await stash_and_street(register)
    found = await register.hotspots.find()
    fig = heatmap.figure(found)
    fig.canvas.draw()
    pixels = np.asarray(fig.canvas.buffer_rgba())
    (axes,) = fig.axes
    height = pixels.shape[0]
    for kind, blue in (("tracked", True), ("theft", False)):
        cell = max((c for c in found.cells if c.kind == kind and c.cluster), key=lambda c: c.count)
        x, y = axes.transData.transform(heatmap.mercator(cell.lat, cell.lon))
        r, g, b, _ = (int(v) for v in pixels[height - round(y), round(x)])
        assert (b > r + 60) if blue else (r > b + 60), (kind, r, g, b)


def test_scale_bar_lengths_and_projection() -> None:
    assert [heatmap.nice_length(m) for m in (130, 260, 740, 1999, 5100)] == [
        100,
        200,
        500,
        1000,
        5000,
    ]
    assert heatmap.scale_label(500) == "500 m" and heatmap.scale_label(2000) == "2 km"
    x, y = heatmap.mercator(LAT, LON)
    assert heatmap.degrees(x, y) == pytest.approx((LAT, LON))
    # Web Mercator: 1 degree of longitude is 111,319.49 m at any latitude.
    assert heatmap.mercator(LAT, LON + 1)[0] - x == pytest.approx(111_319.49, abs=0.01)
    assert RADIUS_METRES == 200
