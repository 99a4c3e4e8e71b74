"""KML 2.2: a Document of Placemarks, one per report point, written as it is read.

Each Placemark has a name (reference and kind), a style (theft red, tracked blue), a TimeStamp
when the time is known, the point's properties as typed ExtendedData (a Schema declared once,
SchemaData per Placemark, which Google Earth, QGIS and GDAL read as fields) and the Point
(longitude,latitude). Every text is escaped, and characters XML 1.0 cannot carry are dropped, so
the file is always well-formed whatever a victim typed. docs/export-formats.md.
"""

from __future__ import annotations

import re
from typing import IO, Any

from models.present.points import THEFT, TRACKED, points_of, property_names
from models.present.rows import iso
from models.services.reports import ReportView

NAMESPACE = "http://www.opengis.net/kml/2.2"
SCHEMA_ID = "report"
STYLES = {THEFT: "ff1c1ce3", TRACKED: "ffd97a1f"}  # KML colours are aabbggrr
# XML 1.0 allows tab, LF, CR and these ranges; anything else cannot appear, even escaped.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"})


def xml_text(value: Any) -> str:
    """VALUE as XML character data or attribute text: escaped, impossible characters dropped."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value)).translate(_ESCAPES)


def _field_type(name: str) -> str:
    if name in {"incident_lat", "incident_lon", "tracked_lat", "tracked_lon"}:
        return "double"
    if name in {"own_account", "duplicate_imei", "tac_mismatch"}:
        return "bool"
    return "string"


class KmlWriter:
    """Streams Placemarks inside one Document: memory stays flat."""

    def __init__(self, out: IO[str], *, personal: bool = False) -> None:
        """Write to the text stream OUT; PERSONAL adds every export column to the data."""
        self._out = out
        self.personal = personal
        self.skipped = 0
        self._names = property_names(personal)

    def start(self) -> None:
        """The XML declaration, the Document, its styles and the data schema."""
        write = self._out.write
        write('<?xml version="1.0" encoding="UTF-8"?>\n')
        write(f'<kml xmlns="{NAMESPACE}">\n<Document>\n<name>Stolen phone reports</name>\n')
        for kind, colour in STYLES.items():
            write(
                f'<Style id="{kind}"><IconStyle><color>{colour}</color></IconStyle>'
                f"<LabelStyle><scale>0.7</scale></LabelStyle></Style>\n"
            )
        write(f'<Schema name="{SCHEMA_ID}" id="{SCHEMA_ID}">\n')
        for name in self._names:
            write(f'<SimpleField name="{name}" type="{_field_type(name)}"/>\n')
        write("</Schema>\n")

    def report(self, report: ReportView) -> int:
        """Write REPORT's points as Placemarks; returns how many."""
        points, skipped = points_of(report, personal=self.personal)
        self.skipped += skipped
        for point in points:
            data = "".join(
                f'<SimpleData name="{name}">{xml_text(value)}</SimpleData>'
                for name in self._names
                if (value := point.properties.get(name)) is not None
            )
            when = f"<TimeStamp><when>{iso(point.when)}</when></TimeStamp>" if point.when else ""
            self._out.write(
                f"<Placemark><name>{xml_text(point.id)}</name>{when}"
                f"<styleUrl>#{point.kind}</styleUrl>"
                f'<ExtendedData><SchemaData schemaUrl="#{SCHEMA_ID}">{data}</SchemaData>'
                f"</ExtendedData>"
                f"<Point><coordinates>{point.lon!r},{point.lat!r}</coordinates></Point>"
                f"</Placemark>\n"
            )
        return len(points)

    def finish(self) -> None:
        """Close the Document."""
        self._out.write("</Document>\n</kml>\n")
