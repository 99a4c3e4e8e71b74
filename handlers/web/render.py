"""Drawing pages: the Jinja2 environment, its filters, the menu, and error pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from babel.numbers import format_decimal
from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import Response

from handlers.staff.access import permits
from handlers.web.auth import csrf_field
from handlers.web.context import config_of
from models.services.staff import Role

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
LOCALE = "en_GB"


@dataclass(frozen=True, slots=True)
class NavEntry:
    """A page's place in the menu, shown to staff whose role allows it."""

    label: str
    path: str
    role: Role = Role.OFFICER


# Every template escapes what it prints (select_autoescape would skip non-.html names).
templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined)
)
templates.env.globals["csrf_field"] = csrf_field


def static_url(path: str) -> str:
    """The address of a file under static/."""
    return f"/static/{path}"


templates.env.globals["static_url"] = static_url


def _when(request: Request, moment: datetime | None) -> str:
    if moment is None:
        return "—"
    zone = config_of(request).zone
    return format_datetime(moment, "d MMM yyyy, HH:mm zzz", tzinfo=zone, locale=LOCALE)


def _number(value: float | int) -> str:
    return format_decimal(value, locale=LOCALE)


templates.env.filters["number"] = _number


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> Response:
    """Page NAME drawn for REQUEST's staff member (menu, form token and filters included)."""
    staff = getattr(request.state, "staff", None)
    menu: list[NavEntry] = request.app.state.nav
    values: dict[str, Any] = {
        "staff": staff,
        "nav": [entry for entry in menu if staff is not None and permits(staff.role, entry.role)],
        "when": lambda moment: _when(request, moment),
        "current_path": request.url.path,
    }
    values.update(context or {})
    return templates.TemplateResponse(request, name, values, status_code=status_code)
