"""Today's and this week's new reports (or any period), with filters, newest first.

Filters are in the URL (they hold no personal data); the list opens no personal data. The total
is counted up to COUNT_CAP, then shown as "more than".
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from handlers.web.auth import OfficerDep
from handlers.web.context import ConfigDep, RegisterDep
from handlers.web.filters import ListFilters, filter_choices, read_filters
from handlers.web.render import NavEntry, render
from models.services.listing import COUNT_CAP

router = APIRouter()
NAV = NavEntry("Reports", "/reports")


@router.get("/reports")
async def reports_page(
    request: Request,
    staff: OfficerDep,
    register: RegisterDep,
    config: ConfigDep,
    form: ListFilters,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The reports matching the filters, a page at a time."""
    selection = read_filters(form, config.zone)
    page = await register.listing.page(selection, before=before)
    total = await register.listing.count(selection, cap=COUNT_CAP)
    return render(
        request,
        "reports.html",
        {
            "form": form,
            **filter_choices(),
            "reports": page.reports,
            "total": min(total, COUNT_CAP),
            "more": total > COUNT_CAP,
            "older": form.query(before=page.next_before) if page.next_before else None,
            "first_page": form.query() if before else None,
            "export_query": form.query(),
        },
    )
