"""A point on the map: validated (range, not 0,0), with where it came from and how precise it is."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

from models.errors import RegisterError

__all__ = [
    "GREATER_LONDON",
    "Area",
    "BadCoordinates",
    "CheckedPoint",
    "Point",
    "PointSource",
    "Precision",
    "check_point",
]


class BadCoordinates(RegisterError):
    """Coordinates that cannot be a real place (out of range, not numbers, or 0,0)."""


class PointSource(StrEnum):
    """Where a stored point came from."""

    PIN = "pin"  # a location the victim shared
    OS_OPEN_NAMES = "os_open_names"
    ONSPD = "onspd"
    PLACES_CSV = "places_csv"
    NOMINATIM = "nominatim"


class Precision(StrEnum):
    """How precise a stored point is, most precise first."""

    PIN = "pin"
    POSTCODE = "postcode"  # a postcode unit's centroid (a street or a few buildings)
    POSTCODE_DISTRICT = "postcode_district"  # a partial postcode: the district's centroid
    PLACE = "place"  # a named place (a station, a street, a landmark, an area)


@dataclass(frozen=True, slots=True)
class Area:
    """A bounding box: south-west and north-east corners in WGS84 degrees."""

    south: float
    west: float
    north: float
    east: float

    def __post_init__(self) -> None:
        """Refuse a box whose corners are the wrong way round or off the globe."""
        if not (-90 <= self.south < self.north <= 90 and -180 <= self.west < self.east <= 180):
            raise ValueError("an area is south,west,north,east with south<north and west<east")

    def contains(self, lat: float, lon: float) -> bool:
        """Whether (LAT, LON) lies inside the box."""
        return self.south <= lat <= self.north and self.west <= lon <= self.east

    @property
    def centre(self) -> tuple[float, float]:
        """The box's middle, (lat, lon)."""
        return (self.south + self.north) / 2, (self.west + self.east) / 2

    @classmethod
    def parse(cls, text: str) -> Area:
        """An area from `south,west,north,east`; ValueError for anything else."""
        parts = [part.strip() for part in text.split(",")]
        if len(parts) != 4:
            raise ValueError("four numbers expected: south,west,north,east")
        try:
            south, west, north, east = (float(part) for part in parts)
        except ValueError:
            raise ValueError("four numbers expected: south,west,north,east") from None
        return cls(south, west, north, east)

    def __str__(self) -> str:
        """The `south,west,north,east` form `parse` reads."""
        return f"{self.south},{self.west},{self.north},{self.east}"


# Greater London with a little margin (the M25 runs just outside it).
GREATER_LONDON = Area(51.28, -0.52, 51.70, 0.34)


@dataclass(frozen=True, slots=True)
class Point:
    """A stored point: where, where from, how precise."""

    lat: float
    lon: float
    source: PointSource
    precision: Precision
    name: str | None = None


@dataclass(frozen=True, slots=True)
class CheckedPoint:
    """Valid coordinates, and whether they fall outside the service area (a warning only)."""

    lat: float
    lon: float
    outside_service_area: bool


def check_point(lat: float, lon: float, service_area: Area | None = None) -> CheckedPoint:
    """Validate LAT/LON; BadCoordinates for impossible ones, a warning flag for far-away ones."""
    try:
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        raise BadCoordinates("coordinates_not_numbers") from None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise BadCoordinates("coordinates_not_numbers")
    if not -90 <= lat <= 90:
        raise BadCoordinates("coordinates_latitude_range", lat=lat)
    if not -180 <= lon <= 180:
        raise BadCoordinates("coordinates_longitude_range", lon=lon)
    if lat == 0 and lon == 0:
        # "Null Island": what a broken GPS or an empty form sends, never a theft.
        raise BadCoordinates("coordinates_null_island")
    outside = service_area is not None and not service_area.contains(lat, lon)
    return CheckedPoint(lat, lon, outside)
