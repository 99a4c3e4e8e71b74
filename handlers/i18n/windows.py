"""When it happened as a window: "between 18:00 and 18:30", "some time yesterday", or a moment.

`parse_window` reads what a victim types, in their language, into the earliest and the latest
possible time (what police analysts record), built on `moments.parse_moment` for each end:
- two times joined by the language's words ("between A and B", "entre A y B", "zwischen A und
  B", "在A和B之间") or a dash ("18:00-18:30"); a day said before them (or after the second)
  is the day of both; a second time before the first means the next day ("23:00 to 00:30");
- a day with no time ("yesterday", "some time yesterday", "ayer en algún momento"): the whole
  day (until now, if it is today);
- a single moment: earliest and latest the same; an approximate one ("about 18:30", "2 hours
  ago") is a quarter of an hour either side.
A latest time after now is brought back to now ("between 18:00 and 18:30" said at 18:10). What
cannot be read, a start in the future, a reversed or over-wide window raise a coded error
(`UnclearMoment` or the register's `BadWindow`); nothing is guessed.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache

from handlers.i18n import formats
from handlers.i18n.languages import ENGLISH, LOCALES_DIR, is_rtl
from handlers.i18n.moments import (
    FUTURE_TOLERANCE,
    Moment,
    parse_moment,
    prepared,
    show_moment,
)
from handlers.i18n.timewords import (
    remove_words,
    word_pattern,
    words_of,
)
from handlers.i18n.unclear import UnclearMoment
from handlers.texts import isolate_ltr, text
from models.values.window import BadWindow, IncidentWindow

__all__ = ["APPROXIMATE", "Window", "parse_window", "show_window"]

APPROXIMATE = timedelta(minutes=15)
_DASH = re.compile(r"\s+[-–—~]\s+|[–—~]|(?<=\d[:.h]\d\d)\s*-\s*(?=\d)")
_DIGIT = re.compile(r"\d")
_BARE_HOUR = re.compile(r"^\s*(\d{1,2})\s*$")
_MERIDIEM = re.compile(r"\d\s*(a\.?m\.?|p\.?m\.?)(?!\w)")
MAX_OVERNIGHT = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Window:
    """The earliest and latest possible time (aware, UTC) and how it was said."""

    earliest: datetime
    latest: datetime
    whole_day: bool = False
    approximate: bool = False

    @property
    def is_moment(self) -> bool:
        """Whether the time is known to the minute."""
        return self.earliest == self.latest and not self.approximate

    @property
    def midpoint(self) -> datetime:
        """The middle of the window (the report's single `incident_at`)."""
        return self.earliest + (self.latest - self.earliest) / 2


@dataclass(frozen=True, slots=True)
class _Words:
    between: tuple[tuple[str, str], ...]
    to: tuple[str, ...]
    after: tuple[str, ...]
    some_time: tuple[str, ...]


@cache
def _words(code: str) -> _Words:
    with (LOCALES_DIR / "windowwords.toml").open("rb") as handle:
        raw = tomllib.load(handle).get(code) or {}
    return _Words(
        between=tuple((first, second) for first, second in raw.get("between", [])),
        to=tuple(sorted(raw.get("to", []), key=len, reverse=True)),
        after=tuple(sorted(raw.get("after", []), key=len, reverse=True)),
        some_time=tuple(sorted(raw.get("some_time", []), key=len, reverse=True)),
    )


def _codes(code: str) -> list[str]:
    return [code] if code == ENGLISH else [code, ENGLISH]


def _split(value: str, code: str) -> tuple[str, str, str] | None:
    """(said before, first time, second time) if VALUE names two times; None otherwise."""
    dashed = _DASH.split(value, maxsplit=1)
    if len(dashed) == 2 and all(_DIGIT.search(part) for part in dashed):
        return "", dashed[0], dashed[1]
    for each in _codes(code):
        words = _words(each)
        for first, second in words.between:
            starts = list(re.finditer(word_pattern((first,)), value))
            for start in reversed(starts):
                rest = value[start.end() :]
                for middle in re.finditer(word_pattern((second,)), rest):
                    a, b = rest[: middle.start()], rest[middle.end() :]
                    if _DIGIT.search(a) and _DIGIT.search(b):
                        return value[: start.start()], a, b
        for word in words.to:
            for middle in re.finditer(word_pattern((word,)), value):
                a, b = value[: middle.start()], value[middle.end() :]
                if _DIGIT.search(a) and _DIGIT.search(b):
                    return "", a, b
    return None


def _moment(
    typed: str,
    code: str,
    *,
    now: datetime,
    zone: tzinfo,
    day: date | None,
    need_time: bool = True,
) -> Moment:
    """`parse_moment`, except that of "10:34" morning or evening, one that cannot be is not meant.

    On a twelve-hour language an hour alone is asked about; when one of the two readings is
    refused (in the future, too old) the other is the only one that can be right, so it is taken.
    """
    try:
        return parse_moment(typed, code, now=now, zone=zone, day=day, need_time=need_time)
    except UnclearMoment as refused:
        if refused.code != "when_ambiguous_hour":
            raise
        ambiguous = refused
    readings: list[Moment] = []
    refusals: list[UnclearMoment] = []
    words = words_of(code)
    for part in ("morning", "evening"):
        said = words.parts.get(part) or words_of(ENGLISH).parts[part]
        try:
            readings.append(parse_moment(f"{typed} {said[-1]}", code, now=now, zone=zone, day=day))
        except UnclearMoment as other:
            refusals.append(other)
    past = [reading for reading in readings if reading.at <= now + FUTURE_TOLERANCE]
    if len(past) == 1:
        return past[0]
    if not readings and refusals:
        raise refusals[0]
    raise ambiguous


def _hours(first: str, second: str, code: str) -> tuple[str, str]:
    """Bare hours made times: "zwischen 18 und 19 Uhr" -> 18:00, "6 to 7pm" -> 6pm."""
    twelve = words_of(code).twelve_hour
    meridiem = _MERIDIEM.search(second)

    def full(part: str) -> str:
        bare = _BARE_HOUR.match(part)
        if bare is None:
            return part
        if meridiem is not None:
            return f"{bare.group(1)}{meridiem.group(1)}"
        hour = int(bare.group(1))
        return f"{hour}:00" if hour <= 24 and (hour > 12 or not twelve) else part

    return full(first), full(second)


def _end_of(
    typed: str, code: str, *, start: Moment, now: datetime, zone: tzinfo, day: date
) -> Moment:
    """The second time, on the first's day; an unclear hour is the one after the start."""
    try:
        return _moment(typed, code, now=now, zone=zone, day=day)
    except UnclearMoment as refused:
        if refused.code == "when_future":
            return Moment(now)
        if refused.code != "when_ambiguous_hour":
            raise
        for option in (refused.params["morning"], refused.params["evening"]):
            at = datetime.combine(day, option, zone).astimezone(UTC)
            if at >= start.at:
                return Moment(at)
        raise


def _local_day(at: datetime, zone: tzinfo) -> date:
    return at.astimezone(zone).date()


def _range(
    before: str,
    first: str,
    second: str,
    code: str,
    *,
    now: datetime,
    zone: tzinfo,
    day: date | None,
) -> Window:
    for word in _words(code).after + _words(ENGLISH).after:
        second = second.replace(word, " ")
    first, second = _hours(first, second, code)
    start = _moment(f"{before} {first}", code, now=now, zone=zone, day=day, need_time=False)
    start_day = _local_day(start.at, zone)
    if not start.time_known:
        # "between Monday and Wednesday": from the first day's start to the second's end.
        end = _moment(f"{before} {second}", code, now=now, zone=zone, day=None, need_time=False)
        first_day = IncidentWindow.day(start_day, zone).earliest
        last_day = IncidentWindow.day(_local_day(end.at, zone), zone).latest
        if last_day < first_day:
            raise BadWindow("window_reversed")
        window = Window(first_day.astimezone(UTC), last_day.astimezone(UTC), whole_day=True)
        return _checked(window, now)
    end = _end_of(f"{before} {second}", code, start=start, now=now, zone=zone, day=start_day)
    end_day = _local_day(end.at, zone)
    if end_day != start_day:
        # "between 18:00 and 18:30 yesterday": the day said after the second time is both's.
        again = _moment(f"{before} {first}", code, now=now, zone=zone, day=end_day)
        if again.at <= end.at:
            start = again
    latest = end.at
    overnight = latest + timedelta(days=1)
    if latest < start.at and overnight - start.at <= MAX_OVERNIGHT and overnight <= now:
        latest = overnight  # "23:00 to 00:30": past midnight
    approximate = start.approximate or end.approximate
    return _checked(Window(start.at, latest, approximate=approximate), now)


def _checked(window: Window, now: datetime) -> Window:
    """WINDOW once the register's rules accept it (not reversed, not too wide, not future)."""
    kept = IncidentWindow(window.earliest, window.latest).check_not_future(now)
    return Window(kept.earliest, kept.latest, window.whole_day, window.approximate)


def parse_window(
    typed: str, language_code: str | None, *, now: datetime, zone: tzinfo, day: date | None = None
) -> Window:
    """The window TYPED says, as of NOW (aware), in ZONE; DAY when only times are typed.

    Raises UnclearMoment or BadWindow (both coded, put into words by `describe()`).
    """
    code, value = prepared(typed, language_code, now)
    split = _split(value, code)
    if split is not None:
        return _range(*split, code, now=now, zone=zone, day=day)
    vague = False
    for each in _codes(code):
        value, found = remove_words(value, _words(each).some_time)
        vague = vague or found
    if not value:
        raise UnclearMoment("when_unreadable")
    moment = _moment(value, code, now=now, zone=zone, day=day, need_time=False)
    if not moment.time_known:
        whole = IncidentWindow.day(_local_day(moment.at, zone), zone)
        return _checked(
            Window(whole.earliest.astimezone(UTC), whole.latest.astimezone(UTC), whole_day=True),
            now,
        )
    if moment.approximate or vague:
        return _checked(
            Window(moment.at - APPROXIMATE, moment.at + APPROXIMATE, approximate=True), now
        )
    return Window(moment.at, moment.at)


def _ltr(shown: str, code: str | None) -> str:
    return isolate_ltr(shown) if is_rtl(code) else shown


def show_window(window: Window, language_code: str | None, zone: tzinfo) -> str:
    """A window as the victim reads it, in ZONE: a moment, "some time on ...", "... between"."""
    start, end = formats.local(window.earliest, zone), formats.local(window.latest, zone)
    if window.whole_day and start.date() == end.date():
        day = _ltr(formats.day(start, language_code), language_code)
        return text("moments.whole_day", language_code, day=day)
    if window.earliest == window.latest:
        return show_moment(window.earliest, language_code, zone)
    if start.date() == end.date():
        return text(
            "moments.between_on_day",
            language_code,
            day=_ltr(formats.day(start, language_code), language_code),
            start=_ltr(formats.time_of_day(start, language_code), language_code),
            end=_ltr(formats.time_of_day(end, language_code), language_code),
        )
    return text(
        "moments.between",
        language_code,
        start=_ltr(formats.moment(start, language_code), language_code),
        end=_ltr(formats.moment(end, language_code), language_code),
    )
