"""Dates, times, numbers and plural categories written with Babel, in the reader's language.

Moments are shown in the register's time zone (setting TIMEZONE), never in UTC on one screen and
local time on another: every face that shows a victim a time goes through here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from babel import dates, numbers

from handlers.i18n.languages import locale_of

DAY_SKELETON = "yMMMEd"  # Sat, 21 Nov 2026 / sáb, 21 nov 2026 / 2026年11月21日周六
DAY_MONTH_SKELETON = "MMMMd"  # 21 November / 21 de noviembre / 11月21日


def number(value: int | float, language: str | None) -> str:
    """A number with the language's digits and separators (12,345 / 12.345 / 12 345)."""
    return numbers.format_decimal(value, locale=locale_of(language))


def plural_category(count: int | float, language: str | None) -> str:
    """The CLDR plural category of COUNT in the language: zero, one, two, few, many or other."""
    return locale_of(language).plural_form(abs(count))


def plural_categories(language: str | None) -> frozenset[str]:
    """Every plural category the language's rules can choose ("other" included)."""
    return frozenset(locale_of(language).plural_form.tags) | {"other"}


def local(at: datetime, zone: tzinfo) -> datetime:
    """An aware moment in the register's time zone."""
    if at.tzinfo is None:
        raise ValueError("naive datetime: give an aware moment (UTC)")
    return at.astimezone(zone)


def day(value: date | datetime, language: str | None) -> str:
    """A day with its weekday: "Sat, 21 Nov 2026" (a datetime: its own, already local, day)."""
    return dates.format_skeleton(DAY_SKELETON, value, locale=locale_of(language))


def day_month(value: date, language: str | None) -> str:
    """A day and month without the year: "21 November"."""
    return dates.format_skeleton(DAY_MONTH_SKELETON, value, locale=locale_of(language))


def time_of_day(value: time | datetime, language: str | None) -> str:
    """A time of day as the language writes it: "18:30", "6:30 م"."""
    if isinstance(value, datetime):
        value = value.timetz() if value.tzinfo else value.time()
    # Babel would shift an aware time to UTC; a wall-clock time is what is meant.
    return dates.format_time(value.replace(tzinfo=None), "short", locale=locale_of(language))


def moment(at: datetime, language: str | None, zone: tzinfo | None = None) -> str:
    """A moment (aware) as day and time in ZONE (default: its own): "Sat, 21 Nov 2026, 18:30"."""
    shown = local(at, zone) if zone is not None else at
    if shown.tzinfo is None:
        raise ValueError("naive datetime: give an aware moment (UTC)")
    pattern = locale_of(language).datetime_formats["medium"]
    text = pattern.format(time_of_day(shown, language), day(shown, language))
    return str(text)


def city(zone: tzinfo, language: str | None) -> str:
    """The time zone's city in the language ("London", "Londres", "لندن")."""
    return dates.get_timezone_location(zone, locale=locale_of(language), return_city=True)


def ago(delta: timedelta, language: str | None) -> str:
    """How long ago, in words: "2 hours ago", "hace 2 horas"."""
    return dates.format_timedelta(-abs(delta), add_direction=True, locale=locale_of(language))


def duration(delta: timedelta, language: str | None) -> str:
    """A length of time in words, rounded: "25 minutes", "2 Stunden"."""
    return dates.format_timedelta(abs(delta), locale=locale_of(language))


def territory(region: str, language: str | None) -> str:
    """A country's name in the language, from its two-letter code ("GB" -> "Royaume-Uni")."""
    names = locale_of(language).territories
    name: str = names.get(region.upper(), region)
    return name


def utc(at: datetime) -> datetime:
    """An aware moment in UTC (for storing)."""
    return local(at, UTC)
