"""The hotspot map: where phones were taken and where they were tracked, in a chosen period.

The page is drawn by the server; the map itself is Leaflet (vendored under static/vendor), filled
by static/map.js from `/map/points.geojson`: one marker per report point, clustered where they
crowd. Without a tile server (WEB_TILE_URL empty) the points lie on a plain background. A look
at the map is recorded in the audit trail with its period and how many points it showed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response, StreamingResponse

from handlers.web.auth import OfficerDep
from handlers.web.context import config_of, register_of
from handlers.web.period import CHOICES, Period, day_of, period_of
from handlers.web.render import NavEntry, render
from models.services.mapping import MapTally
from models.services.websessions import WebStaff
from models.storage.columns import utcnow

router = APIRouter()
NAV = NavEntry("Map", "/map")
GEOJSON = "application/geo+json"

Days = Annotated[int | None, Query()]
First = Annotated[str | None, Query(alias="from")]
Last = Annotated[str | None, Query(alias="to")]


def _period(request: Request, days: int | None, first: str | None, last: str | None) -> Period:
    zone = config_of(request).zone
    return period_of(zone, days, day_of(first), day_of(last), utcnow())


@router.get("/map")
async def map_page(
    request: Request, staff: OfficerDep, days: Days = None, first: First = None, last: Last = None
) -> Response:
    """The map page: the period form, the map, and its key."""
    period = _period(request, days, first, last)
    return render(
        request,
        "map.html",
        {
            "period": period,
            "choices": CHOICES,
            "points_url": f"/map/points.geojson?{period.query()}",
            "tile_url": config_of(request).tile_url,
        },
    )


@router.get("/map/points.geojson")
async def map_points(
    request: Request, staff: OfficerDep, days: Days = None, first: First = None, last: Last = None
) -> Response:
    """The period's report points as GeoJSON, streamed as the register is read; audited."""
    period = _period(request, days, first, last)
    register = register_of(request)

    async def pieces(viewer: WebStaff) -> AsyncIterator[str]:
        tally = MapTally()
        async for piece in register.map.geojson(
            since=period.since, until=period.until, tally=tally
        ):
            yield piece
        await register.audit.record(
            viewer.actor,
            "map_view",
            None,
            channel="web",
            since=period.since.isoformat(),
            until=period.until.isoformat(),
            points=tally.points,
            reports=tally.reports,
        )

    return StreamingResponse(pieces(staff), media_type=GEOJSON)
