"""The offline gazetteer: importing OS Open Names, the ONS Postcode Directory or a plain CSV.

`reportbot places import FILE...` replaces the gazetteer (atomically, see models.services.datasets)
with the names and postcodes of the files given, each with its point in WGS84, its source and
its precision. Formats and licences: docs/data-sources.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.errors import RegisterError
from models.services.datasets import (
    DatasetStore,
    ImportResult,
    Lines,
    RowRejected,
    clip,
    fields_of,
    lines_of,
    open_text,
)
from models.storage.database import Database, rowcount
from models.storage.tables import Dataset, PlaceName
from models.values.coordinates import BadCoordinates, PointSource, Precision, check_point
from models.values.freetext import has_words
from models.values.placename import district_of, place_key, postcode_key

DATASET = "places"
# OS Open Names for Great Britain is about 3 million lines in some 800 files; ONSPD ~2.7 million.
DEFAULT_MAX_BYTES = 4 * 1024 * 1024 * 1024
OS_OPEN_NAMES_COLUMNS = 34
# Columns of OS Open Names (no header row), as OS documents them.
OS_NAME1, OS_NAME2, OS_LOCAL_TYPE, OS_X, OS_Y = 2, 4, 7, 8, 9
# British National Grid's extent: eastings 0-700 km, northings 0-1300 km.
MAX_EASTING, MAX_NORTHING = 700_000, 1_300_000
# Among places of one name, the kind people mean first (lower ranks first).
RANK_OF_LOCAL_TYPE = {
    "Railway Station": 5,
    "Bus Station": 8,
    "City": 10,
    "Suburban Area": 12,
    "Town": 15,
    "Named Road": 20,
    "Section Of Named Road": 22,
    "Village": 25,
    "Hamlet": 30,
    "Other Settlement": 30,
}
DEFAULT_RANK = 50


class PlacesFormat(StrEnum):
    """The gazetteer formats `reportbot places import` reads."""

    OS_OPEN_NAMES = "os-open-names"
    ONSPD = "onspd"
    PLAIN = "plain"


SOURCE_OF_FORMAT = {
    PlacesFormat.OS_OPEN_NAMES: PointSource.OS_OPEN_NAMES,
    PlacesFormat.ONSPD: PointSource.ONSPD,
    PlacesFormat.PLAIN: PointSource.PLACES_CSV,
}


class BadPlacesFile(RegisterError):
    """A file that is not a gazetteer in a format the register reads."""


@cache
def _grid_to_wgs84() -> Any:
    from pyproj import Transformer

    # EPSG:27700 is the British National Grid (OSGB36); always_xy keeps (easting, northing) in
    # and (longitude, latitude) out.
    return Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def grid_to_wgs84(
    eastings: Sequence[float], northings: Sequence[float]
) -> list[tuple[float, float]]:
    """British National Grid eastings/northings to WGS84 (lat, lon) pairs, in one call."""
    lons, lats = _grid_to_wgs84().transform(list(eastings), list(northings))
    return [(float(lat), float(lon)) for lat, lon in zip(lats, lons, strict=True)]


def _convert_grid(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Turn the batch's eastings/northings into latitude/longitude."""
    gridded = [row for row in batch if "easting" in row]
    if gridded:
        points = grid_to_wgs84(
            [row.pop("easting") for row in gridded], [row.pop("northing") for row in gridded]
        )
        for row, (lat, lon) in zip(gridded, points, strict=True):
            row["lat"], row["lon"] = round(lat, 6), round(lon, 6)
    return batch


def _postcode_row(code: str, name: str, source: PointSource, **point: float) -> dict[str, Any]:
    return {
        "key": code,
        "name": name[:128],
        "precision": Precision.POSTCODE.value,
        "source": source.value,
        "rank": 0,
        "district": district_of(code),
        **point,
    }


def _name_rows(names: list[str], source: PointSource, rank: int, **point: float) -> list[dict]:
    rows: list[dict] = []
    for name in names:
        key = place_key(name)
        if key and not any(row["key"] == key for row in rows):
            rows.append(
                {
                    "key": key,
                    "name": name[:128],
                    "precision": Precision.PLACE.value,
                    "source": source.value,
                    "rank": rank,
                    "district": None,
                    **point,
                }
            )
    return rows


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise RowRejected(f"bad_{what}", clip(text)) from None


def _checked(lat: float, lon: float) -> dict[str, float]:
    try:
        point = check_point(lat, lon)
    except BadCoordinates as exc:
        raise RowRejected("bad_coordinates", exc.code) from None
    return {"lat": point.lat, "lon": point.lon}


def _os_open_names(lines: Lines, label: str) -> Iterator[Any]:
    source = PointSource.OS_OPEN_NAMES
    for number, line in lines:
        where = f"{label}:{number}"
        if isinstance(line, RowRejected):
            yield where, line
            continue
        try:
            fields = fields_of(line)
            if len(fields) != OS_OPEN_NAMES_COLUMNS:
                raise RowRejected("wrong_column_count", str(len(fields)))
            easting = _number(fields[OS_X], "easting")
            northing = _number(fields[OS_Y], "northing")
            if not (0 < easting < MAX_EASTING and 0 < northing < MAX_NORTHING):
                raise RowRejected("bad_coordinates", f"{clip(fields[OS_X])},{clip(fields[OS_Y])}")
            grid = {"easting": easting, "northing": northing}
            local_type = fields[OS_LOCAL_TYPE]
            if local_type == "Postcode":
                code = postcode_key(fields[OS_NAME1])
                if code is None:
                    raise RowRejected("bad_postcode", clip(fields[OS_NAME1]))
                yield where, [_postcode_row(code, fields[OS_NAME1], source, **grid)]
                continue
            names = [name for name in (fields[OS_NAME1], fields[OS_NAME2]) if name]
            if not names or not any(has_words(name) for name in names):
                raise RowRejected("no_name")
            rank = RANK_OF_LOCAL_TYPE.get(local_type, DEFAULT_RANK)
            yield where, _name_rows(names, source, rank, **grid)
        except RowRejected as rejected:
            yield where, rejected


def _with_header(
    lines: Lines, label: str, wanted: dict[str, tuple[str, ...]]
) -> Iterator[tuple[str, dict[str, str] | RowRejected]]:
    """Lines of a CSV with a header row, as {wanted name: value}; the header must name them."""
    columns: dict[str, int] | None = None
    for number, line in lines:
        where = f"{label}:{number}"
        if isinstance(line, RowRejected):
            yield where, line
            continue
        if columns is None:
            names = [name.casefold() for name in fields_of(line)]
            columns = {}
            for key, aliases in wanted.items():
                found = next((names.index(alias) for alias in aliases if alias in names), None)
                if found is None:
                    raise BadPlacesFile("places_file_header", column=aliases[0])
                columns[key] = found
            continue
        try:
            fields = fields_of(line)
            if len(fields) <= max(columns.values()):
                raise RowRejected("too_few_columns", str(len(fields)))
            yield where, {key: fields[index] for key, index in columns.items()}
        except RowRejected as rejected:
            yield where, rejected


def _onspd(lines: Lines, label: str) -> Iterator[Any]:
    wanted = {"postcode": ("pcds", "pcd", "pcd2"), "lat": ("lat",), "lon": ("long", "lon")}
    for where, row in _with_header(lines, label, wanted):
        if isinstance(row, RowRejected):
            yield where, row
            continue
        try:
            code = postcode_key(row["postcode"])
            if code is None:
                raise RowRejected("bad_postcode", clip(row["postcode"]))
            lat, lon = _number(row["lat"], "latitude"), _number(row["lon"], "longitude")
            if lat > 99:
                # ONSPD's 99.999999 marks a postcode with no grid reference.
                raise RowRejected("no_location", code)
            yield (
                where,
                [_postcode_row(code, row["postcode"], PointSource.ONSPD, **_checked(lat, lon))],
            )
        except RowRejected as rejected:
            yield where, rejected


def _plain(lines: Lines, label: str) -> Iterator[Any]:
    wanted = {"name": ("name",), "lat": ("lat", "latitude"), "lon": ("lon", "long", "longitude")}
    source = PointSource.PLACES_CSV
    for where, row in _with_header(lines, label, wanted):
        if isinstance(row, RowRejected):
            yield where, row
            continue
        try:
            point = _checked(_number(row["lat"], "latitude"), _number(row["lon"], "longitude"))
            name = row["name"]
            code = postcode_key(name)
            if code is not None:
                yield where, [_postcode_row(code, name, source, **point)]
            elif has_words(name):
                yield where, _name_rows([name], source, DEFAULT_RANK, **point)
            else:
                raise RowRejected("no_name", clip(name))
        except RowRejected as rejected:
            yield where, rejected


_READERS = {
    PlacesFormat.OS_OPEN_NAMES: _os_open_names,
    PlacesFormat.ONSPD: _onspd,
    PlacesFormat.PLAIN: _plain,
}


def detect_format(head: list[str]) -> PlacesFormat:
    """Which gazetteer format a file is, from its first line."""
    try:
        names = [name.casefold() for name in fields_of(head[0] if head else "")]
    except RowRejected:
        raise BadPlacesFile("places_file_format") from None
    if {"lat"} <= set(names) and {"pcds", "pcd", "pcd2"} & set(names):
        return PlacesFormat.ONSPD
    if "name" in names and ({"lat", "latitude"} & set(names)):
        return PlacesFormat.PLAIN
    if len(names) == OS_OPEN_NAMES_COLUMNS:
        return PlacesFormat.OS_OPEN_NAMES
    raise BadPlacesFile("places_file_format")


async def _district_centroids(session: AsyncSession, generation: int) -> int:
    """Add one point per postcode district: the centroid of its postcodes."""
    query = (
        select(
            literal(generation),
            col(PlaceName.district),
            col(PlaceName.district),
            func.avg(PlaceName.lat),
            func.avg(PlaceName.lon),
            literal(Precision.POSTCODE_DISTRICT.value),
            func.min(PlaceName.source),
            literal(0),
            col(PlaceName.district),
        )
        .where(
            col(PlaceName.generation) == generation,
            col(PlaceName.precision) == Precision.POSTCODE.value,
        )
        .group_by(PlaceName.district)
    )
    columns = ["generation", "key", "name", "lat", "lon", "precision", "source", "rank", "district"]
    result = await session.execute(insert(PlaceName).from_select(columns, query))
    return max(rowcount(result), 0)


class Gazetteer:
    """The imported gazetteer: import, and what it holds."""

    def __init__(self, db: Database) -> None:
        """Bind to the register's database."""
        self.db = db
        self.store = DatasetStore(db, DATASET, PlaceName)

    async def info(self) -> Dataset | None:
        """The gazetteer in use (format, rows, when imported), or None before any import."""
        return await self.store.current()

    async def import_files(
        self,
        paths: Sequence[Path],
        *,
        actor: str,
        file_format: PlacesFormat | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> ImportResult:
        """Replace the gazetteer with the names and postcodes of PATHS; audited."""
        formats: list[PlacesFormat] = []
        opened: list[IO[str]] = []
        try:
            for path in paths:
                text, head = open_text(path, max_bytes=max_bytes)
                opened.append(text)
                formats.append(file_format or detect_format(head))

            def parsed() -> Iterator[Any]:
                for path, text, chosen in zip(paths, opened, formats, strict=True):
                    label = Path(path).name if len(paths) > 1 else "line"
                    for where, outcome in _READERS[chosen](lines_of(text), label):
                        yield (where if len(paths) > 1 else where.split(":")[1]), outcome

            names = sorted({chosen.value for chosen in formats})
            return await self.store.replace(
                parsed(),
                format_name="+".join(names),
                actor=actor,
                prepare=_convert_grid,
                finish=_district_centroids,
            )
        finally:
            for text in opened:
                text.close()
