"""What filing adds to a report before it is stored: the TAC check, points for typed places,
the kind of loss and the time window.

The report store calls `Enrichment.complete` for every new report (models.services.reports).
Nothing here refuses a report: a pin that cannot be right is dropped (and the typed place, if
any, geocoded instead), an unknown TAC leaves the TAC columns empty.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from models.services.geocoding import Geocoder
from models.services.reports import NewReport
from models.services.tac import TacTable
from models.values.coordinates import BadCoordinates, Point, PointSource, Precision, check_point
from models.values.loss import loss_kind_of_method


def _pin(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    if lat is None or lon is None:
        return None
    try:
        checked = check_point(lat, lon)
    except BadCoordinates:
        return None
    return checked.lat, checked.lon


class Enrichment:
    """Completes a NewReport from the TAC table and the gazetteer."""

    def __init__(self, tac: TacTable, geocoder: Geocoder) -> None:
        """Use TAC for the make check and GEOCODER for typed places."""
        self.tac = tac
        self.geocoder = geocoder

    async def _point(
        self, lat: float | None, lon: float | None, place: str | None
    ) -> tuple[float | None, float | None, str | None, str | None]:
        pin = _pin(lat, lon)
        if pin is not None:
            return pin[0], pin[1], PointSource.PIN.value, Precision.PIN.value
        found: Point | None = await self.geocoder.locate(place) if place else None
        if found is None:
            return None, None, None, None
        return found.lat, found.lon, found.source.value, found.precision.value

    async def complete(self, new: NewReport) -> NewReport:
        """NEW with its TAC make/model, points, sources, kind of loss and window filled in."""
        changes: dict[str, Any] = {}
        if new.loss_kind is None:
            kind = loss_kind_of_method(new.theft_method)
            changes["loss_kind"] = kind.value if kind else None
        if new.incident_from is None and new.incident_to is None and new.incident_at is not None:
            changes["incident_from"] = changes["incident_to"] = new.incident_at
        elif new.incident_at is None and new.incident_from is not None:
            latest = new.incident_to or new.incident_from
            changes["incident_at"] = new.incident_from + (latest - new.incident_from) / 2
        if new.incident_point_source is None:
            lat, lon, source, precision = await self._point(
                new.incident_lat, new.incident_lon, new.place
            )
            changes |= {
                "incident_lat": lat,
                "incident_lon": lon,
                "incident_point_source": source,
                "incident_point_precision": precision,
            }
        if new.tracked_point_source is None:
            lat, lon, source, precision = await self._point(
                new.tracked_lat, new.tracked_lon, new.tracked_place
            )
            changes |= {
                "tracked_lat": lat,
                "tracked_lon": lon,
                "tracked_point_source": source,
                "tracked_point_precision": precision,
            }
        if new.imeis and new.tac_make is None:
            check = await self.tac.check(new.imeis[0], new.make)
            if check is not None:
                changes |= {
                    "tac_make": check.brand,
                    "tac_model": check.model,
                    "tac_mismatch": check.mismatch,
                }
        return replace(new, **changes)
