"""The gazetteer: OS Open Names, ONS postcodes and plain CSVs; forgiving geocoding; Nominatim."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from pyproj import Transformer
from sqlalchemy import func, select

from models.register import Register, RegisterConfig
from models.sealing.vault import Vault
from models.services.datasets import ImportRefused
from models.services.geocoding import Geocoder
from models.services.nominatim import Nominatim
from models.services.places import BadPlacesFile, grid_to_wgs84
from models.storage.database import Database
from models.storage.tables import PlaceName
from models.values.coordinates import GREATER_LONDON, PointSource, Precision
from tests.factories import new_report

TO_GRID = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
# The ONS Postcode Directory gives SW1A 1AA both ways: grid reference and latitude/longitude.
PALACE_EASTING, PALACE_NORTHING = 529090, 179645
PALACE = (51.501009, -0.141588)


def grid(lat: float, lon: float) -> tuple[int, int]:
    """A point's British National Grid easting and northing (to the metre)."""
    easting, northing = TO_GRID.transform(lon, lat)
    return round(easting), round(northing)


def os_line(name: str, local_type: str, lat: float, lon: float, name2: str = "") -> str:
    """One line of OS Open Names (34 columns, no header), as OS publishes it."""
    easting, northing = grid(lat, lon)
    kind = "other" if local_type == "Postcode" else "transportNetwork"
    fields = [""] * 34
    fields[:10] = [
        f"osgb{abs(hash(name)) % 10**13}",
        "http://data.ordnancesurvey.co.uk/id/x",
        name,
        "",
        name2,
        "cym" if name2 else "",
        kind,
        local_type,
        str(easting),
        str(northing),
    ]
    fields[16] = name.split()[0] if local_type == "Postcode" else "W1"
    fields[26] = "Greater London"
    return ",".join(f'"{field}"' if "," in field else field for field in fields)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def os_open_names(tmp_path: Path) -> Path:
    """A small OS Open Names file: a station, a street, postcodes, and a namesake far away."""
    return write(
        tmp_path / "TQ28.csv",
        "\n".join(
            [
                os_line("Oxford Circus", "Railway Station", 51.5152, -0.1419),
                os_line("Oxford Street", "Named Road", 51.5150, -0.1410),
                os_line("Bond Street", "Railway Station", 51.5142, -0.1494),
                os_line("High Street", "Named Road", 51.5000, -0.1000),
                os_line("High Street", "Named Road", 53.4800, -2.2400),  # Manchester
                os_line("Caerdydd", "City", 51.4816, -3.1791, name2="Cardiff"),
                os_line("W1D 1BS", "Postcode", 51.5136, -0.1365),
                os_line("W1D 3QF", "Postcode", 51.5140, -0.1320),
                os_line("W1B 3AG", "Postcode", 51.5170, -0.1420),
            ]
        )
        + "\n",
    )


async def place_rows(register: Register) -> int:
    async with register.db.read() as session:
        return (await session.execute(select(func.count()).select_from(PlaceName))).scalar_one()


def test_grid_references_become_wgs84() -> None:
    ((lat, lon),) = grid_to_wgs84([PALACE_EASTING], [PALACE_NORTHING])
    assert lat == pytest.approx(PALACE[0], abs=1e-5)
    assert lon == pytest.approx(PALACE[1], abs=1e-5)


async def test_os_open_names_are_imported_with_points(register: Register, os_open_names) -> None:
    result = await register.gazetteer.import_files([os_open_names], actor="cli:test")

    # 7 names (Cardiff has two), 3 postcodes, and the two districts' centroids.
    assert (result.format, result.rejected_total) == ("os-open-names", 0)
    assert result.rows == 7 + 3 + 2
    found = await register.geocoder.locate("Oxford Circus")
    assert found is not None
    assert (found.lat, found.lon) == (
        pytest.approx(51.5152, abs=1e-4),
        pytest.approx(-0.1419, abs=1e-4),
    )
    assert (found.source, found.precision) == (PointSource.OS_OPEN_NAMES, Precision.PLACE)
    assert (await register.geocoder.locate("cardiff")) is not None
    assert (await register.geocoder.locate("caerdydd")) is not None


@pytest.mark.parametrize(
    ("typed", "name", "precision"),
    [
        ("oxford circus", "Oxford Circus", Precision.PLACE),
        ("OXFORD CIRCUS STATION", "Oxford Circus", Precision.PLACE),
        ("Oxford Circus st", "Oxford Circus", Precision.PLACE),
        ("Oxford Circus, London", "Oxford Circus", Precision.PLACE),
        ("oxford st", "Oxford Street", Precision.PLACE),
        ("Bond St. Station", "Bond Street", Precision.PLACE),
        ("w1d1bs", "W1D 1BS", Precision.POSTCODE),
        ("W1D 1BS", "W1D 1BS", Precision.POSTCODE),
        ("outside Primark, Oxford Street W1D 1BS", "W1D 1BS", Precision.POSTCODE),
        ("W1D", "W1D", Precision.POSTCODE_DISTRICT),
        ("somewhere on Nowhere Lane W1B", "W1B", Precision.POSTCODE_DISTRICT),
    ],
)
async def test_typed_places_are_matched_forgivingly(
    register: Register, os_open_names, typed: str, name: str, precision: Precision
) -> None:
    await register.gazetteer.import_files([os_open_names], actor="cli:test")

    found = await register.geocoder.locate(typed)

    assert found is not None, typed
    assert (found.name, found.precision) == (name, precision)


async def test_a_district_gets_the_centroid_of_its_postcodes(register, os_open_names) -> None:
    await register.gazetteer.import_files([os_open_names], actor="cli:test")

    district = await register.geocoder.locate("w1d")

    assert district is not None
    assert district.lat == pytest.approx((51.5136 + 51.5140) / 2, abs=1e-4)
    assert district.lon == pytest.approx((-0.1365 + -0.1320) / 2, abs=1e-4)


async def test_a_namesake_inside_the_service_area_wins(register, os_open_names) -> None:
    await register.gazetteer.import_files([os_open_names], actor="cli:test")

    found = await register.geocoder.locate("High St")

    assert found is not None and GREATER_LONDON.contains(found.lat, found.lon)


async def test_unknown_places_and_noise_find_nothing(register, os_open_names) -> None:
    await register.gazetteer.import_files([os_open_names], actor="cli:test")

    for typed in ("Atlantis", "", "😀", "!!!", "12345"):
        assert await register.geocoder.locate(typed) is None, typed


async def test_an_onspd_file_gives_postcode_points(register: Register, tmp_path) -> None:
    path = write(
        tmp_path / "ONSPD.csv",
        "pcd,pcd2,pcds,dointr,doterm,oseast1m,osnrth1m,osgrdind,ctry,lat,long,pfa\n"
        "SW1A1AA,SW1A 1AA,SW1A 1AA,198001,,529090,179645,1,E92000001,51.501009,-0.141588,E1\n"
        "SW1A2AA,SW1A 2AA,SW1A 2AA,198001,,530047,179951,1,E92000001,51.503541,-0.12767,E1\n"
        "ZZ991ZZ,ZZ99 1ZZ,ZZ99 1ZZ,198001,,,,9,S92000003,99.999999,0.000000,S23000009\n"
        "BAD,BAD,not a postcode,198001,,,,1,E92000001,51.5,-0.1,E23000001\n",
    )

    result = await register.gazetteer.import_files([path], actor="cli:test")

    assert result.format == "onspd"
    assert [(item.line, item.reason) for item in result.rejected] == [
        ("4", "no_location"),
        ("5", "bad_postcode"),
    ]
    palace = await register.geocoder.locate("sw1a 1aa")
    assert palace is not None
    assert (palace.lat, palace.lon, palace.source, palace.precision) == (
        51.501009,
        -0.141588,
        PointSource.ONSPD,
        Precision.POSTCODE,
    )
    district = await register.geocoder.locate("SW1A")
    assert district is not None and district.precision is Precision.POSTCODE_DISTRICT


async def test_a_plain_csv_validates_its_points(register: Register, tmp_path) -> None:
    path = write(
        tmp_path / "places.csv",
        "name,lat,lon\n"
        "Brick Lane Market,51.5218,-0.0718\n"
        "Null Island,0,0\n"
        "Nowhere,91,200\n"
        "😀😀,51.5,-0.1\n"
        "Odd,north,west\n"
        "E1 6QL,51.5203,-0.0713\n",
    )

    result = await register.gazetteer.import_files([path], actor="cli:test")

    assert [(item.line, item.reason) for item in result.rejected] == [
        ("3", "bad_coordinates"),
        ("4", "bad_coordinates"),
        ("5", "no_name"),
        ("6", "bad_latitude"),
    ]
    market = await register.geocoder.locate("brick lane market")
    assert market is not None and market.source is PointSource.PLACES_CSV
    postcode = await register.geocoder.locate("E16QL")
    assert postcode is not None and postcode.precision is Precision.POSTCODE


async def test_several_files_make_one_gazetteer(register: Register, tmp_path) -> None:
    one = write(tmp_path / "a.csv", "name,lat,lon\nAlpha Place,51.51,-0.11\n")
    two = write(tmp_path / "b.csv", "name,lat,lon\nBeta Place,51.52,-0.12\nbad,x,y\n")

    result = await register.gazetteer.import_files([one, two], actor="cli:test")

    assert result.rows == 2
    assert [(item.line, item.reason) for item in result.rejected] == [("b.csv:3", "bad_latitude")]
    assert await register.geocoder.locate("alpha place") is not None
    assert await register.geocoder.locate("beta place") is not None


async def test_a_failed_reimport_keeps_the_old_gazetteer(
    register: Register, os_open_names, tmp_path
) -> None:
    await register.gazetteer.import_files([os_open_names], actor="cli:test")
    before = await place_rows(register)
    header_only = write(tmp_path / "empty.csv", "name,lat,lon\n")
    not_a_gazetteer = write(tmp_path / "x.csv", "a,b\n1,2\n")

    with pytest.raises(ImportRefused):
        await register.gazetteer.import_files([header_only], actor="cli:test")
    with pytest.raises(BadPlacesFile):
        await register.gazetteer.import_files([not_a_gazetteer], actor="cli:test")

    assert await place_rows(register) == before
    assert await register.geocoder.locate("oxford circus") is not None


async def test_a_reimport_replaces_the_gazetteer(
    register: Register, os_open_names, tmp_path
) -> None:
    await register.gazetteer.import_files([os_open_names], actor="cli:test")
    replacement = write(tmp_path / "new.csv", "name,lat,lon\nBrick Lane,51.5218,-0.0718\n")

    result = await register.gazetteer.import_files([replacement], actor="cli:test")

    assert result.previous_rows == 12
    assert await register.geocoder.locate("oxford circus") is None
    assert await register.geocoder.locate("brick lane") is not None
    assert await place_rows(register) == 1


async def test_locate_many_agrees_with_locate(register: Register, os_open_names) -> None:
    await register.gazetteer.import_files([os_open_names], actor="cli:test")
    typed = ["oxford circus", "w1d1bs", "Atlantis", "W1D", "high street"]

    many = await register.geocoder.locate_many(typed)

    assert many == [await register.geocoder.locate(text) for text in typed]


# --- filing ------------------------------------------------------------------------------------


async def test_filing_geocodes_a_typed_place_when_no_pin_was_given(
    register: Register, os_open_names
) -> None:
    await register.gazetteer.import_files([os_open_names], actor="cli:test")

    typed = await register.reports.file(
        new_report(place="Oxford Circus st", incident_lat=None, incident_lon=None), "k1"
    )
    pinned = await register.reports.file(
        new_report(place="Oxford Circus", incident_lat=51.52, incident_lon=-0.13), "k2"
    )
    impossible = await register.reports.file(
        new_report(place="w1d 1bs", incident_lat=0.0, incident_lon=0.0), "k3"
    )
    nowhere = await register.reports.file(
        new_report(place="Atlantis", incident_lat=None, incident_lon=None), "k4"
    )

    one = await register.reports.get(typed.reference)
    assert one is not None
    assert (one.incident_lat, one.incident_point_source, one.incident_point_precision) == (
        pytest.approx(51.5152, abs=1e-4),
        "os_open_names",
        "place",
    )
    two = await register.reports.get(pinned.reference)
    assert two is not None
    assert (two.incident_lat, two.incident_lon, two.incident_point_source) == (51.52, -0.13, "pin")
    three = await register.reports.get(impossible.reference)
    assert three is not None
    assert (three.incident_point_source, three.incident_point_precision) == (
        "os_open_names",
        "postcode",
    )
    four = await register.reports.get(nowhere.reference)
    assert four is not None
    assert (four.incident_lat, four.incident_point_source) == (None, None)
    assert four.get("place") == "Atlantis"


async def test_filing_geocodes_the_tracked_place_too(register: Register, os_open_names) -> None:
    await register.gazetteer.import_files([os_open_names], actor="cli:test")

    filed = await register.reports.file(
        new_report(tracked_place="W1B 3AG", tracked_lat=None, tracked_lon=None), "k1"
    )

    view = await register.reports.get(filed.reference)
    assert view is not None
    assert (view.tracked_point_source, view.tracked_point_precision) == (
        "os_open_names",
        "postcode",
    )
    assert view.tracked_lat == pytest.approx(51.5170, abs=1e-4)


# --- the online geocoder, against a fake Nominatim on loopback ---------------------------------


class FakeNominatim:
    """A tiny HTTP server on 127.0.0.1 that answers /search like Nominatim."""

    def __init__(self, answer: object, status: int = 200) -> None:
        self.answer = answer
        self.status = status
        self.requests: list[dict[str, list[str]]] = []
        self.agents: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        head = request.decode("latin-1").split("\r\n")
        target = head[0].split()[1]
        self.requests.append(parse_qs(urlsplit(target).query))
        self.agents += [
            line.split(":", 1)[1].strip() for line in head if line.lower().startswith("user-agent:")
        ]
        body = json.dumps(self.answer).encode()
        writer.write(
            f"HTTP/1.1 {self.status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()


@pytest.fixture
async def fake_nominatim() -> AsyncIterator[tuple[FakeNominatim, str]]:
    fake = FakeNominatim(
        [
            {
                "lat": "51.5033",
                "lon": "-0.1196",
                "display_name": "London Eye",
                "addresstype": "tourism",
            }
        ]
    )
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield fake, f"http://127.0.0.1:{port}"


async def test_the_online_geocoder_is_asked_when_the_gazetteer_has_nothing(
    database: Database, vault: Vault, fake_nominatim, os_open_names
) -> None:
    fake, url = fake_nominatim
    register = Register(
        database, vault, RegisterConfig(nominatim_url=url, nominatim_user_agent="test-agent")
    )
    await register.gazetteer.import_files([os_open_names], actor="cli:test")

    offline = await register.geocoder.locate("oxford circus")
    online = await register.geocoder.locate("the big wheel")

    assert offline is not None and offline.source is PointSource.OS_OPEN_NAMES
    assert online is not None
    assert (online.lat, online.lon, online.source, online.precision, online.name) == (
        51.5033,
        -0.1196,
        PointSource.NOMINATIM,
        Precision.PLACE,
        "London Eye",
    )
    (asked,) = fake.requests
    assert asked["q"] == ["the big wheel"] and asked["format"] == ["jsonv2"]
    assert asked["countrycodes"] == ["gb"] and "viewbox" in asked
    assert fake.agents == ["test-agent"]


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ([], 200),
        ({"error": "x"}, 200),
        ([{"lat": "0", "lon": "0"}], 200),
        ([{"lat": "north"}], 200),
        ([{"lat": "51.5", "lon": "-0.1"}], 503),
    ],
)
async def test_an_online_geocoder_that_fails_is_no_answer(answer, status: int) -> None:
    fake = FakeNominatim(answer, status)
    server = await asyncio.start_server(fake.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        online = Nominatim(f"http://127.0.0.1:{port}", user_agent="t", min_interval=0)
        assert await online.locate("anything") is None


async def test_an_unreachable_geocoder_is_no_answer(database: Database) -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    geocoder = Geocoder(
        database, online=Nominatim(f"http://127.0.0.1:{port}", user_agent="t", timeout=2)
    )

    assert await geocoder.locate("anything") is None


async def test_a_tracked_location_added_later_is_put_on_the_map(
    register: Register, os_open_names
) -> None:
    await register.gazetteer.import_files([os_open_names], actor="cli:test")
    typed = await register.reports.file(new_report(), "k1")
    pinned = await register.reports.file(new_report(), "k2")
    seen = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    await register.followup.add_tracked_location(typed.reference, seen_at=seen, place="w1b 3ag")
    await register.followup.add_tracked_location(
        pinned.reference, seen_at=seen, latitude=51.53, longitude=-0.12
    )

    one = await register.reports.get(typed.reference)
    two = await register.reports.get(pinned.reference)
    assert one is not None and two is not None
    assert (one.tracked_point_source, one.tracked_point_precision) == ("os_open_names", "postcode")
    assert one.tracked_lat == pytest.approx(51.5170, abs=1e-4)
    assert (two.tracked_lat, two.tracked_point_source, two.tracked_point_precision) == (
        51.53,
        "pin",
        "pin",
    )
