"""Distances on the Earth's surface, for clusters and scale bars (a sphere is close enough)."""

from __future__ import annotations

import math

# The mean radius (IUGG), in metres: haversine distances are then within 0.5% of the ellipsoid's.
EARTH_RADIUS_METRES = 6_371_008.8
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_METRES / 180.0
# Keep longitude spans finite near the poles.
MIN_COSINE = 0.01


def haversine_metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The great-circle distance between two points, in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(min(1.0, math.sqrt(a)))


def degree_span(metres: float, lat: float) -> tuple[float, float]:
    """How many degrees of latitude and of longitude (at LAT) METRES cover."""
    cosine = max(MIN_COSINE, math.cos(math.radians(lat)))
    return metres / METRES_PER_DEGREE, metres / (METRES_PER_DEGREE * cosine)


def is_valid_point(lat: float | None, lon: float | None) -> bool:
    """Whether (LAT, LON) is a point on the Earth (range checked; None is not a point)."""
    if lat is None or lon is None:
        return False
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180
