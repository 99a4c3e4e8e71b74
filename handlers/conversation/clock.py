"""Times as victims type them ("14:30", "yesterday 9pm", "21/11 18:30"), in local time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as number_zones

from handlers.conversation.inputs import BadAnswer

MAX_AGE = timedelta(days=366)
# A phone clock a few minutes fast must not make "just now" a time in the future.
FUTURE_TOLERANCE = timedelta(minutes=5)
MIDDAY = time(12, 0)

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})[/-](\d{1,2})(?:[/-](\d{4}|\d{2}))?\b")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:\s+(\d{{4}}))?")
_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?")
_TIME = re.compile(r"\b(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?(?![\d/])", re.IGNORECASE)
_WORD_TIMES = {"midday": time(12), "noon": time(12), "midnight": time(0)}


@dataclass(frozen=True, slots=True)
class Moment:
    """A point in time (aware, UTC), whether given to the minute, and whether a time was given."""

    at: datetime
    exact: bool
    time_known: bool = True


@lru_cache(maxsize=64)
def zone_for_region(region: str) -> tzinfo:
    """The region's (first) time zone, e.g. Europe/London for GB; UTC if unknown."""
    example = phonenumbers.example_number(region)
    names = number_zones.time_zones_for_number(example) if example else ()
    for name in names:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return UTC


def check_moment(at: datetime, now: datetime) -> datetime:
    """AT itself when it is neither in the future nor more than a year ago; BadAnswer else."""
    if at > now + FUTURE_TOLERANCE:
        raise BadAnswer("future_time")
    if at < now - MAX_AGE:
        raise BadAnswer("too_old")
    return at


def _year(text: str | None, default: int) -> int:
    if text is None:
        return default
    year = int(text)
    return year + 2000 if year < 100 else year


def _find_date(text: str, today: date) -> tuple[date | None, str]:
    """The date named in TEXT (or None) and TEXT without it; BadAnswer for impossible dates."""
    if "yesterday" in text:
        return today - timedelta(days=1), text.replace("yesterday", " ")
    if "tomorrow" in text:
        return today + timedelta(days=1), text.replace("tomorrow", " ")
    if "today" in text or "tonight" in text or "this morning" in text:
        return today, re.sub(r"today|tonight|this morning", " ", text)
    for pattern, order in (
        (_ISO_DATE, "ymd"),
        (_DAY_MONTH, "dmy"),
        (_MONTH_DAY, "mdy"),
        (_NUMERIC_DATE, "dmy"),
    ):
        match = pattern.search(text)
        if match is None:
            continue
        parts = dict(zip(order, match.groups(), strict=True))
        month_text = parts["m"]
        month = (
            int(month_text) if month_text.isdigit() else _MONTHS.index(month_text[:3].lower()) + 1
        )
        explicit_year = parts["y"] is not None
        try:
            found = date(_year(parts["y"], today.year), month, int(parts["d"]))
        except ValueError:
            raise BadAnswer("no_such_date") from None
        if not explicit_year and found > today:
            # "25/12" typed in January means last Christmas.
            try:
                found = found.replace(year=found.year - 1)
            except ValueError:
                raise BadAnswer("no_such_date") from None
        return found, text[: match.start()] + " " + text[match.end() :]
    return None, text


def _find_time(text: str) -> time | None:
    """The time of day named in TEXT, or None; BadAnswer for an impossible time."""
    for word, value in _WORD_TIMES.items():
        if word in text:
            return value
    for match in _TIME.finditer(text):
        hours_text, minutes_text, meridiem = match.groups()
        if minutes_text is None and meridiem is None:
            continue  # a bare number is too ambiguous to be a time
        hours, minutes = int(hours_text), int(minutes_text or 0)
        if meridiem:
            if not 1 <= hours <= 12:
                raise BadAnswer("no_such_time")
            hours = hours % 12 + (12 if meridiem.lower().startswith("p") else 0)
        if hours > 23 or minutes > 59:
            raise BadAnswer("no_such_time")
        return time(hours, minutes)
    return None


def parse_moment(text: str, *, now: datetime, zone: tzinfo, day: date | None = None) -> Moment:
    """When TEXT says (local time in ZONE; DAY when only a time is given); BadAnswer if unclear."""
    lowered = " ".join(text.lower().split())
    local_now = now.astimezone(zone)
    found_day, rest = _find_date(lowered, local_now.date())
    found_time = _find_time(rest)
    if found_day is None and found_time is None:
        raise BadAnswer("bad_time")
    if found_time is None:
        assert found_day is not None
        at = datetime.combine(found_day, MIDDAY, zone).astimezone(UTC)
        return Moment(check_moment(min(at, now), now), exact=False, time_known=False)
    on_day = found_day or day or local_now.date()
    at = datetime.combine(on_day, found_time, zone).astimezone(UTC)
    if found_day is None and day is None and at > now + FUTURE_TOLERANCE:
        # "23:00" typed at one in the morning means last night.
        at = datetime.combine(on_day - timedelta(days=1), found_time, zone).astimezone(UTC)
    return Moment(check_moment(at, now), exact=True)


def format_moment(at: datetime, zone: tzinfo, pattern: str = "%a %d %b %Y, %H:%M") -> str:
    """A moment in local time, by a strftime PATTERN from the catalogue."""
    return at.astimezone(zone).strftime(pattern)
