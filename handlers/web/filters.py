"""The reports filters the list and the export share: read from a form, in the register's zone.

Days are the register's (TIMEZONE) days: "today" starts at local midnight, "this week" on
Monday; a range's last day is included.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.services.listing import ReportFilter
from models.values.loss import THEFT_METHODS
from models.values.statuses import Status

PERIODS = [
    ("today", "Today"),
    ("week", "This week"),
    ("range", "Between the dates below"),
    ("all", "Any time"),
]
CHOICES = [("", "Either"), ("yes", "Yes"), ("no", "No")]
METHODS = list(THEFT_METHODS)
STATUSES = [status.value for status in Status]


Typed = Annotated[str, Field(max_length=20)]


class FilterForm(BaseModel):
    """The filters as typed (to show the form again) and as the register reads them."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    period: Typed = "today"
    since: Typed = ""
    until: Typed = ""
    status: Typed = ""
    method: Typed = ""
    imei: Typed = ""
    tracked: Typed = ""

    def query(self, **extra: str | int) -> str:
        """The filters as a query string (they hold no personal data), plus EXTRA."""
        return self.encode({**self.model_dump(), **extra})

    @staticmethod
    def encode(values: dict[str, object]) -> str:
        """VALUES that are set, as a query string."""
        return urlencode({name: str(value) for name, value in values.items() if value})


def _day(text: str, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(status_code=422, detail=field) from None


def _yes_no(text: str, field: str) -> bool | None:
    if text in ("", "any"):
        return None
    if text not in ("yes", "no"):
        raise HTTPException(status_code=422, detail=field)
    return text == "yes"


def _start_of(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def day_start(text: str, field: str, zone: tzinfo) -> datetime | None:
    """The start of the register's day TEXT (YYYY-MM-DD) in UTC; 422 if it is not a day."""
    day = _day(text, field)
    return _start_of(day, zone) if day else None


def read_filters(form: FilterForm, zone: tzinfo, *, now: datetime | None = None) -> ReportFilter:
    """FORM as a ReportFilter (422 for a value that is not one of the choices)."""
    if form.period not in {value for value, _ in PERIODS}:
        raise HTTPException(status_code=422, detail="period")
    if form.status and form.status not in STATUSES:
        raise HTTPException(status_code=422, detail="status")
    if form.method and form.method not in METHODS:
        raise HTTPException(status_code=422, detail="method")
    today = (now or datetime.now(UTC)).astimezone(zone).date()
    since: datetime | None = None
    until: datetime | None = None
    if form.period == "today":
        since = _start_of(today, zone)
    elif form.period == "week":
        since = _start_of(today - timedelta(days=today.weekday()), zone)
    elif form.period == "range":
        first, last = _day(form.since, "since"), _day(form.until, "until")
        since = _start_of(first, zone) if first else None
        until = _start_of(last + timedelta(days=1), zone) if last else None
    return ReportFilter(
        since=since,
        until=until,
        status=Status(form.status) if form.status else None,
        method=form.method or None,
        has_imei=_yes_no(form.imei, "imei"),
        tracked=_yes_no(form.tracked, "tracked"),
    )


def filter_form(default_period: str) -> Callable[[Request], Awaitable[FilterForm]]:
    """A dependency reading the filters from the query (GET) or the form (POST); a filed-when
    period left out is DEFAULT_PERIOD, and a value longer than a choice is 422."""

    async def read(request: Request) -> FilterForm:
        typed = request.query_params if request.method == "GET" else await request.form()
        values = {name: typed[name] for name in FilterForm.model_fields if name in typed}
        values.setdefault("period", default_period)
        try:
            return FilterForm.model_validate(values)
        except ValidationError:
            raise HTTPException(status_code=422, detail="filters") from None

    return read


# The list opens on today's reports, the export form on this week's.
ListFilters = Annotated[FilterForm, Depends(filter_form("today"))]
ExportFilters = Annotated[FilterForm, Depends(filter_form("week"))]


def filter_choices() -> dict[str, object]:
    """What the filter form offers."""
    return {
        "periods": PERIODS,
        "statuses": labelled(STATUSES),
        "methods": labelled(METHODS),
        "yes_no": CHOICES,
    }


def labelled(values: list[str]) -> list[tuple[str, str]]:
    """VALUES as (value, label) options: `snatched_moped` reads "snatched moped"."""
    return [(value, value.replace("_", " ")) for value in values]
