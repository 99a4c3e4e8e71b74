"""A report's page: the sheet every face draws, its places for the map, history, delivery and
who looked; contact details behind an audited reveal; status changes with a note.

Every view is recorded (`report_view`), every reveal (`contact_reveal`), every change
(`status_change`, by the register).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Request
from starlette.responses import Response

from handlers.web.auth import OfficerDep
from handlers.web.context import RegisterDep, config_of
from handlers.web.render import render
from handlers.web.words import sheet_blocks
from models.present.sheet import report_sheet
from models.register import Register
from models.services.reports import InvalidTransition, ReportNotFound, ReportView
from models.services.websessions import WebStaff
from models.values.reference import InvalidReference, Reference
from models.values.statuses import NOTIFY_VICTIM, Status, allowed_next

router = APIRouter()
NAV = None
NOTE_LIMIT = 500
WHO_LOOKED = 50
# Who looked at or acted on a report, as the audit trail names it.
LOOKED = {"report_view", "contact_reveal", "status_change", "lookup"}


async def _report(register: Register, reference: str) -> ReportView:
    """The report named in the path, or 404."""
    try:
        parsed = Reference.parse(reference)
    except InvalidReference:
        raise HTTPException(status_code=404) from None
    found = await register.reports.get(parsed)
    if found is None:
        raise HTTPException(status_code=404)
    return found


def map_points(report: ReportView) -> str:
    """The report's points as JSON for the map script (theft place, tracked place)."""
    points: list[dict[str, Any]] = []
    if report.incident_lat is not None and report.incident_lon is not None:
        points.append({"kind": "theft", "lat": report.incident_lat, "lon": report.incident_lon})
    if report.tracked_lat is not None and report.tracked_lon is not None:
        points.append({"kind": "tracked", "lat": report.tracked_lat, "lon": report.tracked_lon})
    return json.dumps(points)


async def _page(
    request: Request,
    register: Register,
    staff: WebStaff,
    report: ReportView,
    *,
    with_contact: bool = False,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    events = await register.search.events(report.id)
    delivery = await register.outbox.delivery_summary(report.id)
    sheet = report_sheet(report, events=events, delivery=delivery, with_contact=with_contact)
    looked, _ = await register.audit.page(target=report.reference, size=WHO_LOOKED)
    return render(
        request,
        "report.html",
        {
            "report": report,
            "blocks": sheet_blocks(sheet),
            "moves": allowed_next(report.status),
            "points": map_points(report),
            "tile_url": config_of(request).tile_url,
            "looked": [event for event in looked if event.action in LOOKED],
            "with_contact": with_contact,
            "notice": notice,
            "error": error,
            "note_limit": NOTE_LIMIT,
        },
        status_code=status_code,
    )


@router.get("/report/{reference}")
async def report_page(
    request: Request, reference: str, staff: OfficerDep, register: RegisterDep
) -> Response:
    """A report as staff read it (recorded as a view)."""
    report = await _report(register, reference)
    await register.audit.record(staff.actor, "report_view", report.reference, channel="web")
    return await _page(request, register, staff, report)


@router.post("/report/{reference}/contact")
async def reveal_contact(
    request: Request, reference: str, staff: OfficerDep, register: RegisterDep
) -> Response:
    """The report with the victim's contact details (recorded as a reveal)."""
    report = await _report(register, reference)
    await register.audit.record(staff.actor, "contact_reveal", report.reference, channel="web")
    return await _page(request, register, staff, report, with_contact=True)


@router.post("/report/{reference}/status")
async def change_status(
    request: Request,
    reference: str,
    staff: OfficerDep,
    register: RegisterDep,
    status: Annotated[str, Form(max_length=20)],
    note: Annotated[str, Form(max_length=NOTE_LIMIT)] = "",
) -> Response:
    """Move the report (allowed moves only); the victim's notifications are queued with it."""
    report = await _report(register, reference)
    try:
        wanted = Status(status)
    except ValueError:
        raise HTTPException(status_code=422) from None
    try:
        changed = await register.reports.change_status(
            report.reference,
            wanted,
            actor=staff.actor,
            actor_id=staff.user_id,
            note=note.strip() or None,
        )
    except ReportNotFound:
        raise HTTPException(status_code=404) from None
    except InvalidTransition as exc:
        allowed = ", ".join(move.value for move in exc.allowed) or "none"
        error = (
            f"The report is already {exc.current.value}."
            if exc.current is exc.wanted
            else f"A report that is {exc.current.value} cannot move to {exc.wanted.value}; "
            f"it may move to: {allowed}."
        )
        fresh = await _report(register, reference)
        return await _page(request, register, staff, fresh, error=error, status_code=409)
    if wanted not in NOTIFY_VICTIM:
        told = "The victim is not told of this status."
    elif changed.notifications:
        told = f"{changed.notifications} notification(s) to the victim queued."
    else:
        told = "No chat follows this report, so nobody is notified."
    notice = f"Moved from {changed.previous.value} to {changed.status.value}. {told}"
    fresh = await _report(register, reference)
    return await _page(request, register, staff, fresh, notice=notice)
