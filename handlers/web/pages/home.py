"""The start page: what the signed-in staff member may open."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from handlers.web.auth import OfficerDep
from handlers.web.render import NavEntry, render

router = APIRouter()
NAV = NavEntry("Start", "/")


@router.get("/")
async def home(request: Request, staff: OfficerDep) -> Response:
    """The pages this staff member's role allows."""
    return render(request, "home.html")
