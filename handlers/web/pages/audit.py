"""The audit trail (admins): who looked at, changed, exported or matched what, with filters."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from handlers.web.auth import AdminDep
from handlers.web.context import ConfigDep, RegisterDep
from handlers.web.filters import FilterForm, day_start, labelled
from handlers.web.render import NavEntry, render
from models.services.staff import Role

router = APIRouter()
NAV = NavEntry("Audit", "/audit", Role.ADMIN)
PAGE = 100
Short = Annotated[str, Field(max_length=64)]
Day = Annotated[str, Field(max_length=10)]


class AuditForm(BaseModel):
    """The trail's filters as typed (they hold no personal data: actors are staff ids)."""

    action: Short = ""
    actor: Short = ""
    target: Short = ""
    since: Day = ""
    until: Day = ""
    before: Annotated[int | None, Field(ge=1)] = None

    def query(self, **extra: str | int) -> str:
        """The filters as a query string, without the page, plus EXTRA."""
        return FilterForm.encode({**self.model_dump(exclude={"before"}), **extra})


@router.get("/audit")
async def audit_page(
    request: Request,
    staff: AdminDep,
    register: RegisterDep,
    config: ConfigDep,
    shown: Annotated[AuditForm, Query()],
) -> Response:
    """Events newest first, a page at a time."""
    first = day_start(shown.since, "since", config.zone)
    last = day_start(shown.until, "until", config.zone)
    events, next_before = await register.audit.page(
        action=shown.action or None,
        actor=shown.actor.strip() or None,
        target=shown.target.strip() or None,
        since=first,
        until=last + timedelta(days=1) if last else None,
        before=shown.before,
        size=PAGE,
    )
    older = shown.query(before=next_before) if next_before else None
    return render(
        request,
        "audit.html",
        {
            "events": [(event, _details(event.details)) for event in events],
            "actions": labelled(await register.audit.actions()),
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
