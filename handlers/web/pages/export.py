"""Export (admins): the list's filters in every format the command line writes, downloaded as
it is read (flat memory), and recorded in the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response, StreamingResponse

from handlers.web.auth import AdminDep
from handlers.web.context import ConfigDep, RegisterDep
from handlers.web.filters import ExportFilters, FilterForm, filter_choices, read_filters
from handlers.web.render import NavEntry, render
from handlers.web.words import explain
from models.services.export import ExportFilter, ExportFormat, ExportOptionError
from models.services.staff import Role

router = APIRouter()
NAV = NavEntry("Export", "/export", Role.ADMIN)

MEDIA_TYPES = {
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.JSONL: "application/x-ndjson; charset=utf-8",
    ExportFormat.GEOJSON: "application/geo+json; charset=utf-8",
    ExportFormat.KML: "application/vnd.google-earth.kml+xml; charset=utf-8",
    ExportFormat.BLOCKLIST: "text/csv; charset=utf-8",
}
FORMATS = [
    (ExportFormat.CSV.value, "CSV (spreadsheets)"),
    (ExportFormat.JSONL.value, "JSON Lines"),
    (ExportFormat.GEOJSON.value, "GeoJSON (GIS; points)"),
    (ExportFormat.KML.value, "KML (Google Earth; points)"),
    (ExportFormat.BLOCKLIST.value, "Block list (imei,reporting_date,status; every report)"),
]


def _page(request: Request, form: FilterForm, **extra: object) -> dict[str, object]:
    return {"form": form, **filter_choices(), "formats": FORMATS, **extra}


@router.get("/export")
async def export_page(
    request: Request,
    staff: AdminDep,
    form: ExportFilters,
) -> Response:
    """The export form, filled in with the list's filters when it links here."""
    return render(request, "export.html", _page(request, form, chosen="csv", personal=False))


@router.post("/export")
async def export(
    request: Request,
    staff: AdminDep,
    register: RegisterDep,
    config: ConfigDep,
    form: ExportFilters,
    export_format: Annotated[str, Form(alias="format", max_length=20)] = "csv",
    personal: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """The export as a download, streamed as the register is read."""
    try:
        chosen = ExportFormat(export_format)
    except ValueError:
        return render(
            request,
            "export.html",
            _page(request, form, chosen="csv", personal=False, error="Choose a format."),
            status_code=422,
        )
    narrowed = read_filters(form, config.zone)
    if chosen is ExportFormat.BLOCKLIST:
        # The block list is the whole register's IMEIs: the list's filters do not apply.
        selection = ExportFilter()
    else:
        selection = ExportFilter(
            since=narrowed.since,
            until=narrowed.until,
            status=narrowed.status,
            personal=bool(personal) and chosen.is_map,
            method=narrowed.method,
            has_imei=narrowed.has_imei,
            tracked=narrowed.tracked,
        )
    try:
        selection.check(chosen)
    except ExportOptionError as exc:
        context = _page(request, form, chosen=chosen.value, personal=bool(personal))
        context["error"] = explain(exc)
        return render(request, "export.html", context, status_code=400)
    chunks = register.export.chunks(chosen, selection, actor=staff.actor, channel="web")
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    name = f"reports-{stamp}{chosen.suffix}"
    return StreamingResponse(
        chunks,
        media_type=MEDIA_TYPES[chosen],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
