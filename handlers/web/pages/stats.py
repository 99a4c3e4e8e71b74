"""Statistics: reports per day, by status and by how the phone was taken, with charts.

The charts are SVG drawn by the server from `models.present.charts` (no script, no inline
style), each beside a table with the same figures, so the page reads the same without them.
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from babel.dates import format_date
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from handlers.web.auth import OfficerDep
from handlers.web.context import register_of
from handlers.web.period import CHOICES, day_of, period_of
from handlers.web.render import NavEntry, render
from models.present.charts import columns, rows
from models.storage.columns import utcnow

router = APIRouter()
NAV = NavEntry("Statistics", "/stats")
LOCALE = "en_GB"
NOT_GIVEN = "not given"


def _words(code: str | None) -> str:
    return (code or NOT_GIVEN).replace("_", " ")


@router.get("/stats")
async def stats_page(
    request: Request,
    staff: OfficerDep,
    days: Annotated[int | None, Query()] = None,
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
) -> Response:
    """The period's figures and charts (days are UTC days, as in /stats)."""
    period = period_of(UTC, days, day_of(first), day_of(last), utcnow())
    stats = await register_of(request).stats.for_period(period.first, period.last)
    per_day = [
        (format_date(day, "EEE d MMM", locale=LOCALE), count) for day, count in stats.per_day
    ]
    by_status = [(_words(status), count) for status, count in stats.by_status]
    by_method = [(_words(method), count) for method, count in stats.by_method]
    return render(
        request,
        "stats.html",
        {
            "period": period,
            "choices": CHOICES,
            "stats": stats,
            "per_day": columns(per_day, width=max(300, 20 * len(per_day))),
            "by_status": rows(by_status, row=28),
            "by_method": rows(by_method, row=28),
        },
    )
