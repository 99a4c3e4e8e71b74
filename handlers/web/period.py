"""The period a map or a chart covers: the last N days, or the days between two dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from babel.dates import format_date
from fastapi import HTTPException

# The periods offered, in days, with how the form names them.
CHOICES: tuple[tuple[int, str], ...] = (
    (1, "Today"),
    (7, "Last 7 days"),
    (30, "Last 30 days"),
    (90, "Last 90 days"),
    (365, "Last 365 days"),
)
DEFAULT_DAYS = 30
LOCALE = "en_GB"
LONGEST_DAYS = 3660


@dataclass(frozen=True, slots=True)
class Period:
    """Reports filed from SINCE (included) to UNTIL (excluded), and how the page names it."""

    days: int | None
    first: date
    last: date
    since: datetime
    until: datetime

    @property
    def label(self) -> str:
        """The period in words: its first and last day."""
        first, last = (format_date(d, "d MMM yyyy", locale=LOCALE) for d in (self.first, self.last))
        return first if first == last else f"{first} – {last}"

    def query(self) -> str:
        """The period as a query string for the page's links (no personal data)."""
        if self.days is not None:
            return f"days={self.days}"
        return f"from={self.first.isoformat()}&to={self.last.isoformat()}"


def day_of(value: str | None) -> date | None:
    """A date typed in a form (YYYY-MM-DD); None when left empty; 400 when not a date."""
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise HTTPException(status_code=400) from None


def period_of(
    zone: tzinfo, days: int | None, first: date | None, last: date | None, now: datetime
) -> Period:
    """The period asked for: dates FIRST..LAST (days in ZONE, both included), else the last
    DAYS days up to today; 400 for a period that ends before it starts or is absurdly long."""
    today = now.astimezone(zone).date()
    if first is not None or last is not None:
        first = first or (last or today) - timedelta(days=DEFAULT_DAYS - 1)
        last = last or today
        chosen = None
    else:
        chosen = days or DEFAULT_DAYS
        if not 1 <= chosen <= LONGEST_DAYS:
            raise HTTPException(status_code=400)
        first, last = today - timedelta(days=chosen - 1), today
    if last < first or (last - first).days >= LONGEST_DAYS:
        raise HTTPException(status_code=400)
    since = datetime.combine(first, time(), tzinfo=zone)
    until = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone)
    return Period(chosen, first, last, since, until)
