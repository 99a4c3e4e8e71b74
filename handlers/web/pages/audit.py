"""The audit trail (admins): who looked at, changed, exported or matched what, with filters."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from handlers.web.auth import AdminDep
from handlers.web.context import ConfigDep, RegisterDep
from handlers.web.filters import FilterForm, day_start
from handlers.web.render import NavEntry, render
from models.services.staff import Role

router = APIRouter()
NAV = NavEntry("Audit", "/audit", Role.ADMIN)
PAGE = 100
Short = Annotated[str, Query(max_length=64)]


@router.get("/audit")
async def audit_page(
    request: Request,
    staff: AdminDep,
    register: RegisterDep,
    config: ConfigDep,
    action: Short = "",
    actor: Short = "",
    target: Short = "",
    since: Annotated[str, Query(max_length=10)] = "",
    until: Annotated[str, Query(max_length=10)] = "",
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Events newest first, a page at a time."""
    first = day_start(since, "since", config.zone)
    last = day_start(until, "until", config.zone)
    events, next_before = await register.audit.page(
        action=action or None,
        actor=actor.strip() or None,
        target=target.strip() or None,
        since=first,
        until=last + timedelta(days=1) if last else None,
        before=before,
        size=PAGE,
    )
    shown = {"action": action, "actor": actor, "target": target, "since": since, "until": until}
    older = FilterForm.encode({**shown, "before": next_before}) if next_before else None
    return render(
        request,
        "audit.html",
        {
            "events": [(event, _details(event.details)) for event in events],
            "actions": await register.audit.actions(),
            "shown": shown,
            "older": older,
        },
    )


def _details(stored: str) -> str:
    """An event's details as `name: value` pairs (they hold no personal data by design)."""
    try:
        values = json.loads(stored)
    except ValueError:
        return stored
    if not isinstance(values, dict):
        return stored
    return ", ".join(f"{name}: {value}" for name, value in values.items() if value is not None)
