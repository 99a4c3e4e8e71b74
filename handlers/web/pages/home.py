"""The start page: today's and this week's new reports, and the pages the role may open."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from handlers.web.auth import OfficerDep
from handlers.web.context import ConfigDep, RegisterDep
from handlers.web.filters import FilterForm, read_filters
from handlers.web.render import NavEntry, render
from models.services.listing import COUNT_CAP

router = APIRouter()
NAV = NavEntry("Start", "/")


@router.get("/")
async def home(
    request: Request, staff: OfficerDep, register: RegisterDep, config: ConfigDep
) -> Response:
    """New reports today and this week, and where to go next."""
    counts = {
        period: await register.listing.count(
            read_filters(FilterForm(period=period), config.zone), cap=COUNT_CAP
        )
        for period in ("today", "week")
    }
    return render(request, "home.html", {"counts": counts, "cap": COUNT_CAP})
