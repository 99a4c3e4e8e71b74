"""The day typed: in digits (21/11, 2026-11-21, 11月21日), read here; in words ("ayer",
"samedi", "21 de noviembre", "vor 3 Tagen", "hace 2 horas"), read by dateparser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateparser.date import DateDataParser

from handlers.i18n.languages import ENGLISH, language
from handlers.i18n.timewords import longest_first, remove_words, squash, words_of
from handlers.i18n.unclear import UnclearMoment

# A day typed without its year that falls this soon after today is a mistake, not last year.
NEAR_FUTURE = timedelta(days=31)
# How far the reference moment is moved to tell "2 hours ago" (moves with it) from "18:30".
PROBE = timedelta(minutes=7)

_ISO = re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)")
_CJK_DATE = re.compile(r"(?:(?P<y>\d{4})\s*年\s*)?(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号號]?")
_NUMERIC = re.compile(
    r"(?<![\d:])(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?:(?P=sep)(?P<y>\d{4}|\d{2}))?\.?(?![\d:])"
)
# Languages whose speakers also write month first ("11/21"): a day-month pair that could be read
# either way is ambiguous there.
_MONTH_FIRST_TOO = frozenset({"en", "zh"})


@dataclass(frozen=True, slots=True)
class Day:
    """A day typed in digits, and whether its year was typed."""

    day: date
    year_given: bool


def _make_day(year: int | None, month: int, day_of_month: int, today: date) -> Day:
    """The day (the most recent one without a year); UnclearMoment if there is no such day."""
    try:
        if year is not None:
            return Day(date(year, month, day_of_month), year_given=True)
        found = date(today.year, month, day_of_month)
    except ValueError:
        raise UnclearMoment("when_no_such_date") from None
    if found <= today:
        return Day(found, year_given=False)
    if found - today <= NEAR_FUTURE:
        raise UnclearMoment("when_future", moment=found)
    try:
        return Day(found.replace(year=today.year - 1), year_given=False)
    except ValueError:  # 29 February
        raise UnclearMoment("when_no_such_date") from None


def _year(text_year: str | None) -> int | None:
    if text_year is None:
        return None
    number = int(text_year)
    return number + 2000 if number < 100 else number


def take_numeric_day(value: str, code: str, today: date) -> tuple[Day | None, str]:
    """A day written in digits (21/11, 2026-11-21, 11月21日), and VALUE without it."""
    for pattern in (_ISO, _CJK_DATE):
        match = pattern.search(value)
        if match is not None:
            found = _make_day(
                _year(match.group("y")), int(match.group("m")), int(match.group("d")), today
            )
            return found, squash(value[: match.start()] + " " + value[match.end() :])
    match = _NUMERIC.search(value)
    if match is None:
        return None, value
    first, second = int(match.group("a")), int(match.group("b"))
    year = _year(match.group("y"))
    day_of_month, month = first, second
    if code in _MONTH_FIRST_TOO:
        if first <= 12 and second <= 12 and first != second:
            one = _make_day(year, second, first, today).day
            other = _make_day(year, first, second, today).day
            raise UnclearMoment(
                "when_ambiguous_date", typed=match.group(0).rstrip("."), first=one, second=other
            )
        if first <= 12 < second:
            day_of_month, month = second, first
    found = _make_day(year, month, day_of_month, today)
    return found, squash(value[: match.start()] + " " + value[match.end() :])


# --- days in words: dateparser ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Read:
    """What dateparser read: a local wall-clock moment, and what was given (day, time...)."""

    at: datetime  # naive, local wall clock
    period: str


def read_with_dateparser(value: str, dateparser_language: str, base: datetime) -> Read | None:
    """VALUE read by dateparser in one language, preferring the past, day before month."""
    settings = {
        "PREFER_DATES_FROM": "past",
        "DATE_ORDER": "DMY",
        "RELATIVE_BASE": base,
        "RETURN_TIME_AS_PERIOD": True,
    }
    found = DateDataParser(languages=[dateparser_language], settings=settings).get_date_data(value)
    if found.date_obj is None:
        return None
    return Read(found.date_obj.replace(tzinfo=None), found.period or "day")


@dataclass(frozen=True, slots=True)
class ReadWords:
    """What dateparser read, the words it read, and in which language."""

    read: Read
    words: str
    dateparser_language: str


def fillers(code: str) -> tuple[str, ...]:
    """Words that say nothing about the day once the time is taken out ("el", "am", "at")."""
    words, english = words_of(code), words_of(ENGLISH)
    return longest_first([*words.ignore, *words.at, *english.ignore, *english.at])


def read_words(value: str, code: str, base: datetime) -> ReadWords | None:
    """VALUE read by dateparser in the victim's language, else (when it reads it) in English."""
    trimmed, _ = remove_words(value, fillers(code))
    candidates = [value] if trimmed == value else [value, trimmed]
    attempts = [code] if code == ENGLISH else [code, ENGLISH]
    for attempt in attempts:
        dateparser_language = language(attempt).dateparser
        for candidate in candidates:
            found = read_with_dateparser(candidate, dateparser_language, base)
            if found is not None:
                return ReadWords(found, candidate, dateparser_language)
    return None


def relative_delta(value: str, code: str, base: datetime) -> timedelta | None:
    """How long ago VALUE says, when the whole of it is relative ("vor 2 Stunden", "2h ago")."""
    found = read_words(value, code, base)
    if found is None or found.read.period != "time":
        return None
    probe = read_with_dateparser(found.words, found.dateparser_language, base + PROBE)
    if probe is None or probe.at - found.read.at != PROBE:
        return None
    return base - found.read.at


LEFTOVER = re.compile(r"^[\s,;:.\-–—/]*$")
