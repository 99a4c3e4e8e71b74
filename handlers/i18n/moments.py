"""Days and times: read as victims type them, in their language; shown back in it.

`parse_moment` reads "ayer 18:30", "hier vers 22h", "vor 2 Stunden", "2 hours ago",
"wczoraj o 18:30", "昨天晚上8点", "21/11 18:30"... against a given `now`, in the register's time
zone, and refuses (with a coded `UnclearMoment`) whatever is in the future, ambiguous or unread:
it never guesses. dateparser reads the days and the relative forms; the time of day, numeric
dates and the words around them are read here, because dateparser drops or misreads some of them
("gestern um 18 Uhr" as 20:00, "ontem às 18h30" as 02:00, "21.11" as 21:11).

The `show_*` and `format_*` functions write moments, days, times and numbers with Babel in the
reader's language and the register's time zone: every screen shows local time the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from handlers.i18n import formats
from handlers.i18n.days import (
    LEFTOVER,
    NEAR_FUTURE,
    fillers,
    read_with_dateparser,
    read_words,
    relative_delta,
    take_numeric_day,
)
from handlers.i18n.languages import ENGLISH, is_rtl, usable
from handlers.i18n.timewords import (
    chinese_numbers,
    normalise,
    remove_words,
    resolve_clock,
    rewrite,
    take_clock,
    take_part,
    words_of,
)
from handlers.i18n.unclear import UnclearMoment
from handlers.texts import isolate_ltr, text

__all__ = [
    "FUTURE_TOLERANCE",
    "MAX_AGE",
    "Moment",
    "UnclearMoment",
    "format_ago",
    "format_day",
    "format_duration",
    "format_moment",
    "format_number",
    "format_time",
    "parse_moment",
    "show",
    "show_moment",
]

# A phone clock a few minutes fast must not make "just now" a time in the future.
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_AGE = timedelta(days=366)
MIDDAY = time(12, 0)
MAX_TYPED = 120

format_moment = formats.moment
format_day = formats.day
format_time = formats.time_of_day
format_number = formats.number
format_ago = formats.ago
format_duration = formats.duration


@dataclass(frozen=True, slots=True)
class Moment:
    """When something happened (aware, UTC), whether approximately, whether a time was given."""

    at: datetime
    approximate: bool = False
    time_known: bool = True

    def again(self, approximate: bool) -> Moment:
        """This moment, also approximate when APPROXIMATE."""
        return Moment(self.at, self.approximate or approximate, self.time_known)


# --- formatting -------------------------------------------------------------------------------


def show_moment(
    at: datetime,
    language_code: str | None,
    zone: tzinfo,
    *,
    approximate: bool = False,
    time_known: bool = True,
) -> str:
    """A moment as the victim reads it, in ZONE: "Sat, 21 Nov 2026, 18:30", "about ...", a day."""
    local = formats.local(at, zone)
    if not time_known:
        return text("moments.time_unknown", language_code, day=formats.day(local, language_code))
    shown = formats.moment(local, language_code)
    if approximate:
        return text("moments.approximately", language_code, moment=shown)
    return isolate_ltr(shown) if is_rtl(language_code) else shown


def show(moment: Moment, language_code: str | None, zone: tzinfo) -> str:
    """A parsed Moment shown back before it is kept."""
    return show_moment(
        moment.at,
        language_code,
        zone,
        approximate=moment.approximate,
        time_known=moment.time_known,
    )


# --- putting it together ----------------------------------------------------------------------


def _localise(day: date, clock: time, zone: tzinfo) -> datetime:
    """The UTC moment of a wall-clock time in ZONE; UnclearMoment in a DST gap or overlap."""
    wall = datetime.combine(day, clock)
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        back = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
        code = "when_clock_gap" if back != wall else "when_clock_repeat"
        raise UnclearMoment(code, day=day, time=clock)
    return first.astimezone(UTC)


def _checked(at: datetime, now: datetime, zone: tzinfo) -> datetime:
    if at > now + FUTURE_TOLERANCE:
        raise UnclearMoment("when_future", moment=at.astimezone(zone))
    if at < now - MAX_AGE:
        raise UnclearMoment("when_too_old", moment=at.astimezone(zone))
    return at


def _same_day_in(day: date, year: int) -> date | None:
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return None


def _named_day(value: str, code: str, base: datetime, typed_day: date | None) -> date:
    """The day VALUE names in words ("ayer", "samedi", "21 de noviembre"); UnclearMoment else."""
    today = base.date()
    found = read_words(value, code, base)
    if found is None or found.read.period == "time":
        raise UnclearMoment("when_unreadable")
    if found.read.period in ("week", "month", "year") or found.words.isdigit():
        raise UnclearMoment("when_no_day")
    named_day = found.read.at.date()
    if typed_day is not None:
        # "sábado 21/11": the weekday must agree with the date.
        if named_day != typed_day:
            raise UnclearMoment("when_unreadable")
        return typed_day
    if named_day > today:
        raise UnclearMoment("when_future", moment=named_day)
    if named_day.year < today.year and not re.search(r"\d{4}", found.words):
        # "25 de noviembre" typed on the 22nd: a slip, not last year's 25 November.
        this_year = _same_day_in(named_day, today.year)
        if this_year is not None and today < this_year <= today + NEAR_FUTURE:
            raise UnclearMoment("when_future", moment=this_year)
    if today - named_day == timedelta(days=7):
        # Today's own weekday: dateparser takes a week ago, but today is as likely.
        tomorrow = base + timedelta(days=1)
        later = read_with_dateparser(found.words, found.dateparser_language, tomorrow)
        if later is not None and later.at.date() - named_day == timedelta(days=7):
            raise UnclearMoment("when_ambiguous_weekday", today=today, week_ago=named_day)
    return named_day


def prepared(typed: str, language_code: str | None, now: datetime) -> tuple[str, str]:
    """The language TYPED is read in, and TYPED ready to read; UnclearMoment if empty or long."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    code = usable(language_code)
    value = normalise(typed)
    if not value or len(value) > MAX_TYPED:
        raise UnclearMoment("when_unreadable")
    if code == "zh":
        value = chinese_numbers(value)
    return code, value


def parse_moment(
    typed: str,
    language_code: str | None,
    *,
    now: datetime,
    zone: tzinfo,
    day: date | None = None,
    need_time: bool = True,
) -> Moment:
    """When TYPED says, in the register's ZONE, as of NOW (aware); UnclearMoment if unclear.

    DAY is the day already chosen (e.g. "yesterday" from a button) when only a time is typed.
    Without NEED_TIME a day alone is accepted: midday (or now, if earlier), approximate.
    """
    code, value = prepared(typed, language_code, now)
    words = words_of(code)
    value = rewrite(rewrite(value, words), words_of(ENGLISH))
    value, approximate = remove_words(value, words.approximately)
    if code != ENGLISH:
        value, also = remove_words(value, words_of(ENGLISH).approximately)
        approximate = approximate or also
    if not value:
        raise UnclearMoment("when_unreadable")
    try:
        return _absolute(value, code, now=now, zone=zone, day=day, need_time=need_time).again(
            approximate
        )
    except UnclearMoment as refused:
        if refused.code != "when_unreadable":
            raise
        # Not a day and a time: perhaps how long ago ("vor 2 Stunden", "2h ago").
        ago = relative_delta(value, code, now.astimezone(zone).replace(tzinfo=None))
        if ago is None:
            raise
    return Moment(_checked(now - ago, now, zone), approximate=approximate or ago > timedelta(0))


def _absolute(
    value: str, code: str, *, now: datetime, zone: tzinfo, day: date | None, need_time: bool
) -> Moment:
    """A day and/or a time of day written in VALUE (normalised); UnclearMoment if unclear."""
    words = words_of(code)
    local_now = now.astimezone(zone)
    today = local_now.date()
    base = local_now.replace(tzinfo=None)
    clock, value = take_clock(value, code)
    part, named, value = take_part(value, words)
    wanted: time | None = named
    unclear_hour: UnclearMoment | None = None
    if clock is not None:
        try:
            wanted = resolve_clock(clock, part, words)
        except UnclearMoment as refused:
            # Said after the day is read: a day in the future or unread matters more.
            unclear_hour = refused
    numeric, value = take_numeric_day(value, code, today)
    typed_day: date | None = numeric.day if numeric is not None else None
    said, _ = remove_words(value, fillers(code))
    if not LEFTOVER.match(said):
        typed_day = _named_day(value, code, base, typed_day)
    if unclear_hour is not None:
        raise unclear_hour
    if wanted is None:
        if typed_day is None:
            raise UnclearMoment("when_unreadable")
        if need_time:
            raise UnclearMoment("when_no_time", day=typed_day)
        midday = _localise(typed_day, MIDDAY, zone)
        return Moment(_checked(min(midday, now), now, zone), approximate=True, time_known=False)
    on = typed_day or day or today
    # "23:00" typed at one in the morning means last night.
    if typed_day is None and day is None and datetime.combine(on, wanted) > base + FUTURE_TOLERANCE:
        on -= timedelta(days=1)
    at = _localise(on, wanted, zone)
    return Moment(_checked(at, now, zone))
