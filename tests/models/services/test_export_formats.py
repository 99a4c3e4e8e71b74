"""GeoJSON and KML read back by a GIS library (GDAL through pyogrio), KML by an XML parser, and
the block-list feed (full and delta) checked row by row."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import shapely
from pyogrio.raw import read as ogr_read
from sqlalchemy import update

from models.present.points import PERSONAL_PROPERTIES, PLAIN_PROPERTIES
from models.register import Register
from models.services.export import ExportFilter, ExportFormat, ExportOptionError
from models.storage.columns import utcnow
from models.storage.tables import Report, ReportImei, StatusChange
from models.values.statuses import Status
from tests.factories import audit_events, imei, new_report, set_report_columns

KML = "{http://www.opengis.net/kml/2.2}"
PERSONAL_FIELDS = ("contact_name", "contact_phone", "contact_email", "imei_1", "place", "model")


async def export(
    register: Register, tmp_path: Path, export_format: ExportFormat, **options
) -> tuple[Path, int, int]:
    """Export to a file: (path, items written, points left out)."""
    target = tmp_path / f"out{export_format.suffix}"
    result = await register.export.to_file(
        target, export_format, ExportFilter(**options), actor="tester", channel="test"
    )
    return target, result.rows, result.skipped


async def mapped_register(register: Register) -> dict[tuple[str, str], tuple[float, float]]:
    """Reports with a theft pin, a tracked pin, both, neither, and an impossible pin.

    Returns the expected points: (reference, kind) -> (lon, lat).
    """
    expected: dict[tuple[str, str], tuple[float, float]] = {}
    theft = await register.reports.file(
        new_report(incident_lat=51.5142, incident_lon=-0.1494), "theft"
    )
    expected[(theft.reference, "theft")] = (-0.1494, 51.5142)
    both = await register.reports.file(
        new_report(
            incident_lat=-33.8688,
            incident_lon=151.2093,
            tracked_lat=-33.87,
            tracked_lon=151.21,
            tracked_at=utcnow(),
        ),
        "both",
    )
    expected[(both.reference, "theft")] = (151.2093, -33.8688)
    expected[(both.reference, "tracked")] = (151.21, -33.87)
    tracked = await register.reports.file(
        new_report(
            incident_lat=None,
            incident_lon=None,
            tracked_lat=40.4168,
            tracked_lon=-3.7038,
            tracked_at=utcnow(),
        ),
        "tracked",
    )
    expected[(tracked.reference, "tracked")] = (-3.7038, 40.4168)
    await register.reports.file(new_report(incident_lat=None, incident_lon=None), "nowhere")
    # Pins stored before coordinates were checked: off the Earth, and "null island".
    bad = await register.reports.file(new_report(), "bad")
    await set_report_columns(register.db, bad.reference, incident_lat=91.0, incident_lon=200.0)
    null = await register.reports.file(new_report(), "null")
    await set_report_columns(register.db, null.reference, incident_lat=0.0, incident_lon=0.0)
    return expected


def ogr_points(path: Path) -> tuple[dict, dict[tuple[str, str], tuple[float, float]], list[dict]]:
    """Read PATH with GDAL: (meta, (reference, kind) -> (lon, lat), every feature's fields)."""
    meta, _, geometry, field_data = ogr_read(path)
    names = list(meta["fields"])
    features = [
        {name: field_data[index][row] for index, name in enumerate(names)}
        for row in range(len(geometry))
    ]
    points = {}
    for feature, wkb in zip(features, shapely.from_wkb(geometry), strict=True):
        assert wkb.geom_type == "Point"
        points[(feature["reference"], feature["kind"])] = (wkb.x, wkb.y)
    return meta, points, features


# --- GeoJSON ----------------------------------------------------------------------------


async def test_geojson_read_back_by_gdal_every_point_lon_first(
    register: Register, tmp_path: Path
) -> None:
    expected = await mapped_register(register)

    path, rows, skipped = await export(register, tmp_path, ExportFormat.GEOJSON)

    assert (rows, skipped) == (len(expected), 2)
    meta, points, features = ogr_points(path)
    assert meta["crs"] == "EPSG:4326"
    assert points.keys() == expected.keys()
    for key, (lon, lat) in expected.items():
        assert points[key] == pytest.approx((lon, lat), abs=1e-9), key
    # Without the personal flag: only the register's plain facts (GDAL shows the id as a field).
    assert tuple(meta["fields"]) == ("id", *PLAIN_PROPERTIES)
    text = path.read_text()
    for personal in ("Alex Example", "+447912345678", "alex@example.org", "Oxford Street"):
        assert personal not in text
    # RFC 7946 on the page itself: a FeatureCollection, no "crs", [lon, lat], string ids.
    document = json.loads(text)
    assert document["type"] == "FeatureCollection" and "crs" not in document
    for feature in document["features"]:
        reference, kind = feature["id"].split("/")
        assert feature["type"] == "Feature" and feature["properties"]["kind"] == kind
        assert feature["geometry"] == {
            "type": "Point",
            "coordinates": list(expected[(reference, kind)]),
        }
    tracked = [f for f in features if f["kind"] == "tracked"]
    assert all(f["tracked_at"] for f in tracked)
    events = await audit_events(register.db, "export")
    assert [json.loads(e.details) for e in events] == [
        {
            "channel": "test",
            "format": "geojson",
            "rows": len(expected),
            "since": None,
            "until": None,
            "status": None,
            "skipped_points": 2,
        }
    ]


async def test_geojson_personal_on_request_and_audited(register: Register, tmp_path: Path) -> None:
    filed = await register.reports.file(new_report(imeis=(imei(),)), "one")

    path, rows, _ = await export(register, tmp_path, ExportFormat.GEOJSON, personal=True)

    meta, _, (feature,) = ogr_points(path)
    assert rows == 1 and tuple(meta["fields"]) == ("id", *PERSONAL_PROPERTIES)
    assert feature["reference"] == filed.reference
    assert feature["contact_name"] == "Alex Example"
    assert feature["contact_phone"] == "+447912345678"
    assert feature["place"] == "Oxford Street by Bond Street station"
    (event,) = await audit_events(register.db, "export")
    assert json.loads(event.details)["personal"] is True


async def test_geojson_filters_and_empty(register: Register, tmp_path: Path) -> None:
    old = await register.reports.file(new_report(), "old")
    await set_report_columns(register.db, old.reference, created_at=utcnow() - timedelta(days=9))
    closed = await register.reports.file(new_report(), "closed")
    await register.reports.change_status(closed.reference, Status.CLOSED, actor="test")
    recent = await register.reports.file(new_report(), "recent")

    path, rows, _ = await export(
        register,
        tmp_path,
        ExportFormat.GEOJSON,
        since=utcnow() - timedelta(days=1),
        status=Status.SUBMITTED,
    )
    assert rows == 1
    assert [f["id"] for f in json.loads(path.read_text())["features"]] == [
        f"{recent.reference}/theft"
    ]

    empty, rows, _ = await export(register, tmp_path, ExportFormat.GEOJSON, status=Status.RETURNED)
    assert rows == 0
    assert json.loads(empty.read_text()) == {"type": "FeatureCollection", "features": []}


# --- KML --------------------------------------------------------------------------------

HOSTILE = {
    "contact_name": 'Robert"); DROP TABLE report;-- <b>&amp;</b>',
    "place": "]]></coordinates></Point><script>alert(1)</script>\x01\x0b\ufffe end",
    "model": "Pixel 8 \U0001f4f1 & co",
}


async def test_kml_is_valid_xml_read_back_by_parser_and_gdal(
    register: Register, tmp_path: Path
) -> None:
    expected = await mapped_register(register)
    hostile = await register.reports.file(
        new_report(incident_lat=48.8584, incident_lon=2.2945, **HOSTILE), "hostile"
    )
    expected[(hostile.reference, "theft")] = (2.2945, 48.8584)

    path, rows, skipped = await export(register, tmp_path, ExportFormat.KML, personal=True)

    assert (rows, skipped) == (len(expected), 2)
    root = ET.parse(path).getroot()
    assert root.tag == f"{KML}kml"
    placemarks = root.findall(f"{KML}Document/{KML}Placemark")
    found = {}
    data_of = {}
    for placemark in placemarks:
        name = placemark.findtext(f"{KML}name")
        reference, kind = name.split("/")
        lon, lat = placemark.findtext(f"{KML}Point/{KML}coordinates").split(",")
        found[(reference, kind)] = (float(lon), float(lat))
        assert placemark.findtext(f"{KML}styleUrl") == f"#{kind}"
        data_of[(reference, kind)] = {
            item.get("name"): item.text for item in placemark.iter(f"{KML}SimpleData")
        }
    assert found == expected
    hostile_data = data_of[(hostile.reference, "theft")]
    assert hostile_data["contact_name"] == HOSTILE["contact_name"]
    # Characters XML cannot carry are dropped; everything else survives escaping.
    assert hostile_data["place"] == "]]></coordinates></Point><script>alert(1)</script> end"
    assert hostile_data["model"] == HOSTILE["model"]
    assert hostile_data["kind"] == "theft"

    _, points, features = ogr_points(path)
    assert points.keys() == expected.keys()
    for key, point in expected.items():
        assert points[key] == pytest.approx(point, abs=1e-9)
    by_reference = {(f["reference"], f["kind"]): f for f in features}
    assert by_reference[(hostile.reference, "theft")]["model"] == HOSTILE["model"]


async def test_kml_without_personal_data(register: Register, tmp_path: Path) -> None:
    await register.reports.file(new_report(**HOSTILE), "one")

    path, rows, _ = await export(register, tmp_path, ExportFormat.KML)

    text = path.read_text()
    assert rows == 1
    assert "Robert" not in text and "script" not in text and "Pixel" not in text
    root = ET.parse(path).getroot()
    names = [field.get("name") for field in root.iter(f"{KML}SimpleField")]
    assert tuple(names) == PLAIN_PROPERTIES


def test_options_that_do_not_apply_are_refused() -> None:
    for export_format, options in (
        (ExportFormat.CSV, {"personal": True}),
        (ExportFormat.BLOCKLIST, {"personal": True}),
        (ExportFormat.KML, {"delta_since": datetime(2026, 1, 1, tzinfo=UTC)}),
        (ExportFormat.BLOCKLIST, {"status": Status.CLOSED}),
    ):
        with pytest.raises(ExportOptionError) as caught:
            ExportFilter(**options).check(export_format)
        assert caught.value.code == "export_option"


# --- the block-list feed -----------------------------------------------------------------


def feed(path: Path) -> list[dict[str, str]]:
    """The feed's rows as dicts, checking the header line and LF line ends."""
    raw = path.read_bytes()
    assert b"\r" not in raw
    return list(csv.DictReader(io.StringIO(raw.decode("ascii"), newline="")))


def day(moment: datetime) -> str:
    """YYYYMMDD of MOMENT in UTC."""
    return moment.astimezone(UTC).strftime("%Y%m%d")


async def backdate(register: Register, reference: str, when: datetime) -> None:
    """Make a report (its IMEIs and its history so far) look filed at WHEN."""
    async with register.db.write() as session:
        report_id = (
            await session.execute(
                update(Report)
                .where(Report.reference == reference)
                .values(created_at=when, status_changed_at=when)
                .returning(Report.id)
            )
        ).scalar_one()
        await session.execute(
            update(ReportImei).where(ReportImei.report_id == report_id).values(added_at=when)
        )
        await session.execute(
            update(StatusChange).where(StatusChange.report_id == report_id).values(changed_at=when)
        )


async def test_full_block_list_one_line_per_imei(register: Register, tmp_path: Path) -> None:
    one, first, second, shared, ended = imei(), imei(), imei(), imei(), imei()
    await register.reports.file(new_report(imeis=(one,)), "a")
    await register.reports.file(new_report(imeis=(first, second)), "dual")
    early = await register.reports.file(new_report(imeis=(shared,)), "early")
    await register.reports.file(new_report(imeis=(shared,)), "late")
    gone = await register.reports.file(new_report(imeis=(ended,)), "gone")
    await register.reports.change_status(gone.reference, Status.RECOVERED, actor="test")
    await register.reports.file(new_report(imeis=()), "no-imei")
    long_ago = datetime(2025, 12, 31, 23, 30, tzinfo=UTC)
    await backdate(register, early.reference, long_ago)

    path, rows, _ = await export(register, tmp_path, ExportFormat.BLOCKLIST)

    lines = feed(path)
    assert rows == len(lines) == 4
    assert list(lines[0]) == ["imei", "reporting_date", "status"]
    today = day(utcnow())
    assert sorted((row["imei"], row["reporting_date"], row["status"]) for row in lines) == sorted(
        [
            (one.digits, today, "blacklist"),
            (first.digits, today, "blacklist"),
            (second.digits, today, "blacklist"),
            (shared.digits, "20251231", "blacklist"),
        ]
    )
    assert ended.digits not in path.read_text()
    (event,) = await audit_events(register.db, "export")
    assert json.loads(event.details)["format"] == "blocklist"


async def test_delta_adds_updates_and_removes_since_a_date(
    register: Register, tmp_path: Path
) -> None:
    before = utcnow() - timedelta(days=10)
    since = utcnow() - timedelta(days=5)
    imeis = {name: imei() for name in "ABCDEFGH"}

    async def filed(name: str, *, at: datetime | None = None, **kwargs) -> str:
        reference = (
            await register.reports.file(new_report(imeis=(imeis[name],), **kwargs), name)
        ).reference
        if at is not None:
            await backdate(register, reference, at)
        return reference

    unchanged = await filed("A", at=before)  # listed then and now: not in the delta
    await filed("B")  # filed since: add
    closed_since = await filed("C", at=before)  # closed since: remove
    closed_before = await filed("D", at=before)  # closed before, still closed: nothing
    await register.reports.change_status(closed_before, Status.CLOSED, actor="test")
    await backdate(register, closed_before, before)
    reopened = await filed("E", at=before)  # closed before, reopened since: add
    await register.reports.change_status(reopened, Status.CLOSED, actor="test")
    await backdate(register, reopened, before)
    first = await filed("F", at=before - timedelta(days=3))  # the earlier of two holding F
    later_f = (await register.reports.file(new_report(imeis=(imeis["F"],)), "F-later")).reference
    await backdate(register, later_f, before)
    late_imei = await register.reports.file(new_report(imeis=()), "G")  # IMEI added since
    await backdate(register, late_imei.reference, before)
    await register.followup.add_imei(late_imei.reference, imeis["G"])
    quick = await filed("H")  # filed and closed since: never listed
    await register.reports.change_status(quick, Status.WITHDRAWN, actor="victim")

    await register.reports.change_status(closed_since, Status.RECOVERED, actor="test")
    await register.reports.change_status(reopened, Status.UNDER_REVIEW, actor="test")
    await register.reports.change_status(first, Status.CLOSED, actor="test")
    assert unchanged

    path, rows, _ = await export(register, tmp_path, ExportFormat.BLOCKLIST, delta_since=since)

    lines = feed(path)
    assert list(lines[0]) == ["imei", "reporting_date", "status", "change_type"]
    got = {row["imei"]: (row["change_type"], row["reporting_date"]) for row in lines}
    assert rows == len(lines)
    today = day(utcnow())
    assert got == {
        imeis["B"].digits: ("add", today),
        imeis["C"].digits: ("remove", day(before)),
        imeis["E"].digits: ("add", day(before)),
        imeis["F"].digits: ("update", day(before)),
        imeis["G"].digits: ("add", day(before)),
    }
    assert all(row["status"] == "blacklist" for row in lines)
    (event,) = await audit_events(register.db, "export")
    assert json.loads(event.details)["delta_since"] == since.isoformat(timespec="seconds").replace(
        "+00:00", "Z"
    )

    # Applying the delta to the list as it was at SINCE gives today's full list.
    full, _, _ = await export(register, tmp_path / "..", ExportFormat.BLOCKLIST)
    listed_now = {row["imei"] for row in feed(full)}
    listed_then = {imeis[name].digits for name in "ACF"}
    for row in lines:
        if row["change_type"] == "remove":
            listed_then.discard(row["imei"])
        else:
            listed_then.add(row["imei"])
    assert listed_then == listed_now
