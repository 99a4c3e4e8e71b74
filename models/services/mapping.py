"""The hotspot map's points: each report's theft and tracked points in a period, as GeoJSON.

The web console's map reads them as one FeatureCollection (RFC 7946), streamed in pieces as the
register is read (memory stays flat whatever the period). A point carries only what a marker's
popup shows, never personal data, so the register's sealed data is neither read nor opened.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from models.present.geojson import HEAD, TAIL
from models.present.points import points_of
from models.services.reports import ReportStore

# What a marker shows: the point's kind and the report's plain facts.
MAP_PROPERTIES = (
    "kind",
    "reference",
    "status",
    "created_at",
    "incident_at",
    "tracked_at",
    "make",
    "theft_method",
)
PIECE_CHARS = 64 * 1024


@dataclass(slots=True)
class MapTally:
    """How many points a map feed gave (filled in as it is read)."""

    points: int = 0
    reports: int = 0
    skipped: int = 0


class MapPoints:
    """Report points for the hotspot map."""

    def __init__(self, reports: ReportStore) -> None:
        """Read points from REPORTS."""
        self.reports = reports

    async def geojson(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        tally: MapTally | None = None,
    ) -> AsyncIterator[str]:
        """The points of reports filed in [SINCE, UNTIL), as pieces of one GeoJSON document."""
        tally = tally if tally is not None else MapTally()
        out = io.StringIO()
        out.write(HEAD)
        first = True
        async for report in self.reports.stream(
            since=since, until=until, located=True, sealed=False
        ):
            points, skipped = points_of(report, personal=False)
            tally.skipped += skipped
            tally.reports += 1 if points else 0
            for point in points:
                feature = {
                    "type": "Feature",
                    "id": point.id,
                    "geometry": {"type": "Point", "coordinates": [point.lon, point.lat]},
                    "properties": {name: point.properties[name] for name in MAP_PROPERTIES},
                }
                if not first:
                    out.write(",\n")
                first = False
                out.write(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
                tally.points += 1
            if out.tell() >= PIECE_CHARS:
                yield out.getvalue()
                out = io.StringIO()
        out.write(TAIL)
        yield out.getvalue()
