"""Search: a report by IMEI (any form), reference, victim's phone, e-mail, name or crime reference.

The query is personal data, so it is POSTed (never in a URL); every search is audited by the
register without what was searched for.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from handlers.web.auth import OfficerDep
from handlers.web.context import ConfigDep, RegisterDep
from handlers.web.render import NavEntry, render
from handlers.web.words import explain
from models.services.search import BadQuery, SearchBy, parse_query

router = APIRouter()
NAV = NavEntry("Search", "/search")
MAX_QUERY = 200
KINDS = [
    ("", "Guess from what is typed"),
    (SearchBy.IMEI.value, "IMEI"),
    (SearchBy.REFERENCE.value, "Report reference"),
    (SearchBy.PHONE.value, "Victim's phone number"),
    (SearchBy.EMAIL.value, "Victim's e-mail"),
    (SearchBy.NAME.value, "Victim's name"),
    (SearchBy.CRIME_REFERENCE.value, "Crime reference"),
]


@router.get("/search")
async def search_page(request: Request, staff: OfficerDep) -> Response:
    """The search form."""
    return render(request, "search.html", {"kinds": KINDS, "by": "", "results": None})


@router.post("/search")
async def search(
    request: Request,
    staff: OfficerDep,
    register: RegisterDep,
    config: ConfigDep,
    query: Annotated[str, Form(max_length=MAX_QUERY)] = "",
    by: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """The reports a query finds (at most 50, newest first)."""
    chosen = SearchBy(by) if by in {kind.value for kind in SearchBy} else None
    context: dict[str, Any] = {"kinds": KINDS, "by": by, "query": query}
    try:
        parsed = parse_query(query, chosen, region=config.default_region)
    except BadQuery as exc:
        context.update(results=None, error=explain(exc))
        return render(request, "search.html", context, status_code=400)
    found = await register.search.find(parsed, actor=staff.actor, channel="web")
    context.update(results=found, searched_by=parsed.by.value)
    return render(request, "search.html", context)
