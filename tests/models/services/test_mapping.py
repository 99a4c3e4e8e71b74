"""The hotspot map's feed: one GeoJSON point per theft and tracked place in the period."""

from __future__ import annotations

from datetime import timedelta

import pyogrio
import shapely

from models.register import Register
from models.services.mapping import MAP_PROPERTIES, MapTally
from models.storage.columns import utcnow
from tests.factories import new_report, set_report_columns


async def _feed(register: Register, tmp_path, **period) -> tuple[dict, MapTally]:
    tally = MapTally()
    path = tmp_path / "map.geojson"
    text = "".join([piece async for piece in register.map.geojson(tally=tally, **period)])
    assert "Alex Example" not in text and "07912" not in text  # no personal data
    path.write_text(text)
    meta, _, geometry, fields = pyogrio.raw.read(path)
    names = list(meta["fields"])
    points = shapely.from_wkb(geometry)
    features = {}
    for row, point in enumerate(points):
        props = {name: fields[i][row] for i, name in enumerate(names)}
        features[(props["reference"], props["kind"])] = (
            round(point.x, 4),
            round(point.y, 4),
            props,
        )
    return features, tally


async def test_one_point_per_place_in_the_period_and_no_personal_data(
    register: Register, tmp_path
) -> None:
    now = utcnow()
    both = await register.reports.file(
        new_report(tracked_lat=51.52, tracked_lon=-0.08, tracked_at=now), "k-both"
    )
    theft_only = await register.reports.file(new_report(), "k-theft")
    nowhere = await register.reports.file(
        new_report(incident_lat=None, incident_lon=None, place="somewhere"), "k-none"
    )
    old = await register.reports.file(new_report(), "k-old")
    await set_report_columns(register.db, old.reference, created_at=now - timedelta(days=40))

    features, tally = await _feed(register, tmp_path, since=now - timedelta(days=30))

    assert sorted(features) == sorted(
        [(both.reference, "theft"), (both.reference, "tracked"), (theft_only.reference, "theft")]
    )
    assert features[(both.reference, "tracked")][:2] == (-0.08, 51.52)
    assert features[(theft_only.reference, "theft")][:2] == (-0.1494, 51.5142)
    # GDAL reads each Feature's "id" (reference/kind) as a field of its own.
    assert set(features[(both.reference, "theft")][2]) == {"id", *MAP_PROPERTIES}
    assert (tally.points, tally.reports) == (3, 2)
    assert nowhere.reference not in {reference for reference, _ in features}


async def test_an_empty_period_is_a_valid_empty_collection(register: Register, tmp_path) -> None:
    await register.reports.file(new_report(), "k-1")

    pieces = [piece async for piece in register.map.geojson(until=utcnow() - timedelta(days=1))]

    assert "".join(pieces).replace("\n", "") == '{"type":"FeatureCollection","features":[]}'
