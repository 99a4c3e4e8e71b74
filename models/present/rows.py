"""A report as one export row: the documented columns, raw values, in order.

CSV and JSON Lines write these rows; GeoJSON and KML use them as a point's properties when an
admin asks for personal data. docs/export-formats.md, "CSV and JSON Lines", documents each column.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from models.services.reports import ReportView

# The documented column order (docs/export-formats.md): CSV header and JSON Lines keys alike.
COLUMNS = (
    "reference",
    "status",
    "created_at",
    "status_changed_at",
    "incident_at",
    "incident_from",
    "incident_to",
    "make",
    "model",
    "colour",
    "imei_1",
    "imei_2",
    "tac_make",
    "tac_model",
    "tac_mismatch",
    "stolen_number",
    "network",
    "loss_kind",
    "theft_method",
    "crime_reference",
    "police_force",
    "place",
    "incident_lat",
    "incident_lon",
    "incident_point_source",
    "incident_point_precision",
    "tracked_place",
    "tracked_lat",
    "tracked_lon",
    "tracked_point_source",
    "tracked_point_precision",
    "tracked_at",
    "contact_name",
    "contact_phone",
    "contact_email",
    "preferred_channel",
    "own_account",
    "duplicate_imei",
)


def iso(moment: datetime | None) -> str | None:
    """A timestamp as ISO 8601 in UTC to the second (``2026-03-01T12:00:00Z``), or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def row_of(report: ReportView) -> dict[str, Any]:
    """A report's export row with raw values (text, numbers, booleans, None), in COLUMNS order."""
    imeis = report.imeis
    return {
        "reference": report.reference,
        "status": report.status.value,
        "created_at": iso(report.created_at),
        "status_changed_at": iso(report.status_changed_at),
        "incident_at": iso(report.incident_at),
        "incident_from": iso(report.incident_from),
        "incident_to": iso(report.incident_to),
        "make": report.make,
        "model": report.get("model"),
        "colour": report.get("colour"),
        "imei_1": imeis[0] if imeis else None,
        "imei_2": imeis[1] if len(imeis) > 1 else None,
        "tac_make": report.tac_make,
        "tac_model": report.tac_model,
        "tac_mismatch": report.tac_mismatch,
        "stolen_number": report.get("stolen_number"),
        "network": report.get("network"),
        "loss_kind": report.loss_kind,
        "theft_method": report.theft_method,
        "crime_reference": report.crime_reference,
        "police_force": report.police_force,
        "place": report.get("place"),
        "incident_lat": report.incident_lat,
        "incident_lon": report.incident_lon,
        "incident_point_source": report.incident_point_source,
        "incident_point_precision": report.incident_point_precision,
        "tracked_place": report.get("tracked_place"),
        "tracked_lat": report.tracked_lat,
        "tracked_lon": report.tracked_lon,
        "tracked_point_source": report.tracked_point_source,
        "tracked_point_precision": report.tracked_point_precision,
        "tracked_at": iso(report.tracked_at),
        "contact_name": report.get("contact_name"),
        "contact_phone": report.get("contact_phone"),
        "contact_email": report.get("contact_email"),
        "preferred_channel": report.get("preferred_channel"),
        "own_account": report.own_account,
        "duplicate_imei": report.duplicate_imei_at is not None,
    }
