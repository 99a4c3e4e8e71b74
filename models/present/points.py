"""A report's points on a map (where it was taken, where it was tracked) for GIS formats.

Each report gives up to two points: `theft` (where the phone was taken or lost, from a pin or
a geocoded place) and `tracked` (where Find My last showed it). Without personal data a point
carries only the register's plain facts; with it (an admin's explicit request), every export
column. Coordinates that are not a place on the Earth (out of range, or exactly 0, 0) are left
out and counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.present.rows import COLUMNS, iso, row_of
from models.services.reports import ReportView
from models.values.earth import is_valid_point

THEFT = "theft"
TRACKED = "tracked"
# Decimal places of a coordinate: 1e-7 degrees is about 1 cm, finer than any phone's fix.
PRECISION = 7
# What every point says without personal data: plain facts of the register, in this order.
PLAIN_PROPERTIES = (
    "kind",
    "reference",
    "status",
    "created_at",
    "status_changed_at",
    "incident_at",
    "tracked_at",
    "make",
    "tac",
    "loss_kind",
    "theft_method",
    "point_source",
    "point_precision",
    "duplicate_imei",
)
# With personal data: the kind, every export column, and the TAC.
PERSONAL_PROPERTIES = ("kind", *COLUMNS, "tac", "point_source", "point_precision")


@dataclass(frozen=True, slots=True)
class MapPoint:
    """One point of a report, with the properties a GIS reads."""

    kind: str
    lat: float
    lon: float
    when: datetime | None
    properties: dict[str, Any]

    @property
    def id(self) -> str:
        """A stable id: the report's reference and the point's kind."""
        return f"{self.properties['reference']}/{self.kind}"


def property_names(personal: bool) -> tuple[str, ...]:
    """The properties every point carries, in order."""
    return PERSONAL_PROPERTIES if personal else PLAIN_PROPERTIES


def _properties(report: ReportView, kind: str, personal: bool) -> dict[str, Any]:
    source, precision = (
        (report.incident_point_source, report.incident_point_precision)
        if kind == THEFT
        else (report.tracked_point_source, report.tracked_point_precision)
    )
    if personal:
        return {
            "kind": kind,
            **row_of(report),
            "tac": report.imei_tac,
            "point_source": source,
            "point_precision": precision,
        }
    return {
        "kind": kind,
        "reference": report.reference,
        "status": report.status.value,
        "created_at": iso(report.created_at),
        "status_changed_at": iso(report.status_changed_at),
        "incident_at": iso(report.incident_at),
        "tracked_at": iso(report.tracked_at),
        "make": report.make,
        "tac": report.imei_tac,
        "loss_kind": report.loss_kind,
        "theft_method": report.theft_method,
        "point_source": source,
        "point_precision": precision,
        "duplicate_imei": report.duplicate_imei_at is not None,
    }


def _usable(lat: float | None, lon: float | None) -> bool:
    return is_valid_point(lat, lon) and (lat, lon) != (0.0, 0.0)


def points_of(report: ReportView, *, personal: bool) -> tuple[list[MapPoint], int]:
    """REPORT's points, and how many of its coordinates were left out as impossible."""
    points: list[MapPoint] = []
    skipped = 0
    for kind, lat, lon, when in (
        (THEFT, report.incident_lat, report.incident_lon, report.incident_at),
        (TRACKED, report.tracked_lat, report.tracked_lon, report.tracked_at),
    ):
        if lat is None or lon is None:
            continue
        if not _usable(lat, lon):
            skipped += 1
            continue
        points.append(
            MapPoint(
                kind,
                round(float(lat), PRECISION),
                round(float(lon), PRECISION),
                when,
                _properties(report, kind, personal),
            )
        )
    return points, skipped
