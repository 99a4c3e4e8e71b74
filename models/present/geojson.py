"""GeoJSON (RFC 7946): a FeatureCollection of report points, written as it is read.

WGS84 longitude-latitude (RFC 7946 has no "crs" member: WGS84 is implied), longitude first,
one Feature per point with an "id" (reference/kind) and its properties. docs/export-formats.md.
"""

from __future__ import annotations

import json
from typing import IO

from models.present.points import points_of
from models.services.reports import ReportView

HEAD = '{"type":"FeatureCollection","features":[\n'
TAIL = "\n]}\n"


class GeoJsonWriter:
    """Streams Features between the collection's head and tail: memory stays flat."""

    def __init__(self, out: IO[str], *, personal: bool = False) -> None:
        """Write to the text stream OUT; PERSONAL adds every export column to the properties."""
        self._out = out
        self.personal = personal
        self.skipped = 0
        self._first = True

    def start(self) -> None:
        """Open the FeatureCollection."""
        self._out.write(HEAD)

    def report(self, report: ReportView) -> int:
        """Write REPORT's points as Features; returns how many."""
        points, skipped = points_of(report, personal=self.personal)
        self.skipped += skipped
        for point in points:
            feature = {
                "type": "Feature",
                "id": point.id,
                "geometry": {"type": "Point", "coordinates": [point.lon, point.lat]},
                "properties": point.properties,
            }
            if not self._first:
                self._out.write(",\n")
            self._first = False
            self._out.write(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
        return len(points)

    def finish(self) -> None:
        """Close the FeatureCollection."""
        self._out.write(TAIL)
