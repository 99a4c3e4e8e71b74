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
import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import Any

from dateparser.date import DateDataParser

from handlers.i18n import formats
from handlers.i18n.languages import ENGLISH, LOCALES_DIR, is_rtl, language, usable
from handlers.texts import isolate_ltr, text
from models.errors import RegisterError

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
    "show_moment",
]

# A phone clock a few minutes fast must not make "just now" a time in the future.
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_AGE = timedelta(days=366)
MIDDAY = time(12, 0)
MAX_TYPED = 120
# A day typed without its year that falls this soon after today is a mistake, not last year.
NEAR_FUTURE = timedelta(days=31)
# How far the reference moment is moved to tell "2 hours ago" (moves with it) from "18:30".
_PROBE = timedelta(minutes=7)

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


class UnclearMoment(RegisterError):
    """A typed day or time that is not kept; the code says why (`errors.when_*`).

    Codes: when_unreadable, when_future (moment), when_too_old (moment), when_no_time (day),
    when_no_day, when_no_such_date, when_no_such_time, when_ambiguous_date (typed, first,
    second), when_ambiguous_hour (morning, evening), when_ambiguous_weekday (today, week_ago),
    when_clock_gap (day, time), when_clock_repeat (day, time).
    """


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


# --- the words of each language ---------------------------------------------------------------

_PARTS = ("morning", "afternoon", "evening", "night")
_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
# Chinese numerals are read only before a unit of time ("八点", "十一月", "两小时").
_CN_NUMBER = re.compile(
    r"[零〇一二两兩三四五六七八九十]+(?=\s*(?:[点點时時月日号號分]|小时|小時|分钟|分鐘|天|个|個))"
)


@dataclass(frozen=True, slots=True)
class _Words:
    """One language's time words (locales/timewords.toml), each list longest first."""

    twelve_hour: bool
    approximately: tuple[str, ...]
    at: tuple[str, ...]
    hour: tuple[str, ...]
    parts: dict[str, tuple[str, ...]]
    noon: tuple[str, ...]
    midnight: tuple[str, ...]
    replace: dict[str, str]
    ignore: tuple[str, ...]


def _longest_first(words: list[str]) -> tuple[str, ...]:
    return tuple(sorted({word.lower() for word in words}, key=len, reverse=True))


@cache
def _words(code: str) -> _Words:
    with (LOCALES_DIR / "timewords.toml").open("rb") as handle:
        raw: dict[str, Any] = tomllib.load(handle).get(code) or {}
    return _Words(
        twelve_hour=bool(raw.get("twelve_hour", False)),
        approximately=_longest_first(raw.get("approximately", [])),
        at=_longest_first(raw.get("at", [])),
        hour=_longest_first(raw.get("hour", [])),
        parts={part: _longest_first(raw.get(part, [])) for part in _PARTS},
        noon=_longest_first(raw.get("noon", [])),
        midnight=_longest_first(raw.get("midnight", [])),
        replace={key.lower(): value.lower() for key, value in raw.get("replace", {}).items()},
        ignore=_longest_first(raw.get("ignore", [])),
    )


def _word_pattern(words: tuple[str, ...]) -> str:
    """A regex alternation matching any of WORDS as whole words (CJK words anywhere)."""
    parts = []
    for word in words:
        escaped = re.escape(word)
        if _CJK.search(word):
            parts.append(escaped)
        else:
            start = r"(?<!\w)" if word[0].isalnum() else ""
            end = r"(?!\w)" if word[-1].isalnum() else ""
            parts.append(f"{start}{escaped}{end}")
    return "|".join(parts) if parts else r"(?!x)x"


def _remove(text_in: str, words: tuple[str, ...]) -> tuple[str, bool]:
    """TEXT_IN without any of WORDS, and whether one was there."""
    if not words:
        return text_in, False
    result, count = re.subn(_word_pattern(words), " ", text_in)
    return _squash(result), count > 0


def _squash(value: str) -> str:
    return " ".join(value.split())


# --- normalising what was typed ---------------------------------------------------------------


def _normalise(typed: str) -> str:
    """Lower case, one space between words, ASCII digits, no invisible characters."""
    out = []
    for char in unicodedata.normalize("NFKC", typed):
        if char.isdecimal():
            out.append(str(unicodedata.decimal(char)))
        elif unicodedata.category(char) in ("Cf", "Cc"):
            out.append(" ")
        else:
            out.append(char)
    return _squash("".join(out).lower())


def _chinese_numbers(value: str) -> str:
    """Chinese numerals up to 99 as digits ("八点半" -> "8点半", "十一点" -> "11点")."""

    def number(match: re.Match[str]) -> str:
        chars = match.group(0)
        if "十" in chars:
            tens, _, units = chars.partition("十")
            total = (_CN_DIGITS.get(tens, 0) if tens else 1) * 10
            return str(total + (_CN_DIGITS.get(units, 0) if units else 0))
        if all(char in _CN_DIGITS for char in chars):
            return "".join(str(_CN_DIGITS[char]) for char in chars)
        return chars

    return _CN_NUMBER.sub(number, value)


def _replace(value: str, words: _Words) -> str:
    for phrase in sorted(words.replace, key=len, reverse=True):
        value = re.sub(_word_pattern((phrase,)), f" {words.replace[phrase]} ", value)
    return _squash(value)


# --- the time of day --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Clock:
    hour: int
    minute: int
    meridiem: str | None  # "am" / "pm"
    minutes_given: bool
    padded: bool  # "09:15": a 24-hour clock for sure
    bare: bool  # "a las 6", "8点": an hour with nothing to say which half of the day


_MERIDIEM = r"(?P<mer>a\.?\s?m\.?|p\.?\s?m\.?)(?!\w)"


@cache
def _clock_patterns(code: str) -> tuple[re.Pattern[str], ...]:
    words = _words(code)
    english = _words(ENGLISH)
    at = _word_pattern(_longest_first([*words.at, *english.at]))
    # Written straight after the number ("22h", "8点"): no word boundary before it.
    hour = "|".join(
        re.escape(word) + (r"(?!\w)" if not _CJK.search(word) else "")
        for word in _longest_first([*words.hour, *english.hour])
    )
    parts = _word_pattern(
        _longest_first([w for name in _PARTS for w in (*words.parts[name], *english.parts[name])])
    )
    lead = rf"(?:(?:{at})\s*)?"
    edge = r"(?<![\d/.:\-])"
    return (
        # 18:30, 18h30, 6:30pm, 18:30 Uhr
        re.compile(
            rf"{lead}{edge}(?P<h>\d{{1,2}})\s*(?::|h)\s*(?P<m>\d{{2}})(?![\d/:])"
            rf"(?:\s*{_MERIDIEM})?(?:\s*(?:{hour}))?"
        ),
        # at 18.30, 18.30 Uhr, 6.30pm (a dot alone could be a day and a month)
        re.compile(rf"(?:{at})\s*{edge}(?P<h>\d{{1,2}})\.(?P<m>\d{{2}})(?![\d.])"),
        re.compile(rf"{lead}{edge}(?P<h>\d{{1,2}})\.(?P<m>\d{{2}})\s*(?:{_MERIDIEM}|(?:{hour}))"),
        # 6pm, 6 p.m.
        re.compile(rf"{lead}{edge}(?P<h>\d{{1,2}})\s*{_MERIDIEM}"),
        # 8点, 8点半, 8点15分
        re.compile(
            rf"{lead}(?P<h>\d{{1,2}})\s*(?P<cjk>点钟|点|點|时|時)"
            r"(?:\s*(?P<half>半)|\s*(?P<m>\d{1,2})\s*分?)?"
        ),
        # 22h, 18 Uhr
        re.compile(rf"{lead}{edge}(?P<h>\d{{1,2}})\s*(?:{hour})"),
        # 6 de la tarde, 8 abends, 6 مساءً (the part of the day is read afterwards)
        re.compile(rf"{lead}{edge}(?P<h>\d{{1,2}})(?=\s*(?:{parts}))"),
        # a las 6, um 18, o 18
        re.compile(rf"(?:{at})\s*{edge}(?P<h>\d{{1,2}})(?![\d:./\-])(?!\s*[/.\-]\d)"),
    )


def _take_clock(value: str, code: str) -> tuple[_Clock | None, str]:
    """The time of day written in VALUE (or None), and VALUE without it."""
    for index, pattern in enumerate(_clock_patterns(code)):
        match = pattern.search(value)
        if match is None:
            continue
        groups = match.groupdict()
        hour = int(groups["h"])
        minute = 30 if groups.get("half") else int(groups.get("m") or 0)
        meridiem = None
        if groups.get("mer"):
            meridiem = "am" if groups["mer"].startswith("a") else "pm"
        minutes_given = groups.get("m") is not None or bool(groups.get("half"))
        bare = index == len(_clock_patterns(code)) - 1 or bool(groups.get("cjk"))
        clock = _Clock(
            hour,
            minute,
            meridiem,
            minutes_given,
            padded=groups["h"].startswith("0"),
            bare=bare and not minutes_given,
        )
        rest = _squash(value[: match.start()] + " " + value[match.end() :])
        return clock, rest
    return None, value


def _resolve_clock(clock: _Clock, part: str | None, words: _Words) -> time:
    """The 24-hour time meant; UnclearMoment when impossible or when it could be either half."""
    hour, minute = clock.hour, clock.minute
    if minute > 59:
        raise UnclearMoment("when_no_such_time")
    if clock.meridiem is not None:
        if not 1 <= hour <= 12:
            raise UnclearMoment("when_no_such_time")
        return time(hour % 12 + (12 if clock.meridiem == "pm" else 0), minute)
    if hour > 23:
        raise UnclearMoment("when_no_such_time")
    if part in ("afternoon", "evening") and 1 <= hour <= 11:
        return time(hour + 12, minute)
    if part == "night" and 6 <= hour <= 12:
        return time((hour + 12) % 24, minute)
    if part is not None:
        return time(hour, minute)
    half_unknown = clock.bare or (words.twelve_hour and not clock.padded)
    if half_unknown and 1 <= hour <= 12:
        morning, evening = time(hour % 12, minute), time(hour % 12 + 12, minute)
        raise UnclearMoment("when_ambiguous_hour", morning=morning, evening=evening)
    return time(hour, minute)


def _take_part(value: str, words: _Words) -> tuple[str | None, time | None, str]:
    """The part of the day named (morning...), a time named (noon, midnight), VALUE without them."""
    english = _words(ENGLISH)
    named: time | None = None
    value, found = _remove(value, _longest_first([*words.noon, *english.noon]))
    if found:
        named = time(12, 0)
    value, found = _remove(value, _longest_first([*words.midnight, *english.midnight]))
    if found:
        named = time(0, 0)
    part = None
    for name in _PARTS:
        value, found = _remove(value, _longest_first([*words.parts[name], *english.parts[name]]))
        if found and part is None:
            part = name
    return part, named, value


# --- numeric dates ----------------------------------------------------------------------------

_ISO = re.compile(r"(?<!\d)(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)")
_CJK_DATE = re.compile(r"(?:(?P<y>\d{4})\s*年\s*)?(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号號]?")
_NUMERIC = re.compile(
    r"(?<![\d:])(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?:(?P=sep)(?P<y>\d{4}|\d{2}))?\.?(?![\d:])"
)
# Languages whose speakers also write month first ("11/21"): a day-month pair that could be read
# either way is ambiguous there.
_MONTH_FIRST_TOO = frozenset({"en", "zh"})


@dataclass(frozen=True, slots=True)
class _Day:
    day: date
    year_given: bool


def _make_day(year: int | None, month: int, day_of_month: int, today: date) -> _Day:
    """The day (the most recent one without a year); UnclearMoment if there is no such day."""
    try:
        if year is not None:
            return _Day(date(year, month, day_of_month), year_given=True)
        found = date(today.year, month, day_of_month)
    except ValueError:
        raise UnclearMoment("when_no_such_date") from None
    if found <= today:
        return _Day(found, year_given=False)
    if found - today <= NEAR_FUTURE:
        raise UnclearMoment("when_future", moment=found)
    try:
        return _Day(found.replace(year=today.year - 1), year_given=False)
    except ValueError:  # 29 February
        raise UnclearMoment("when_no_such_date") from None


def _year(text_year: str | None) -> int | None:
    if text_year is None:
        return None
    number = int(text_year)
    return number + 2000 if number < 100 else number


def _take_numeric_day(value: str, code: str, today: date) -> tuple[_Day | None, str]:
    """A day written in digits (21/11, 2026-11-21, 11月21日), and VALUE without it."""
    for pattern in (_ISO, _CJK_DATE):
        match = pattern.search(value)
        if match is not None:
            found = _make_day(
                _year(match.group("y")), int(match.group("m")), int(match.group("d")), today
            )
            return found, _squash(value[: match.start()] + " " + value[match.end() :])
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
    return found, _squash(value[: match.start()] + " " + value[match.end() :])


# --- days in words: dateparser ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Read:
    at: datetime  # naive, local wall clock
    period: str


def _dateparser(value: str, dateparser_language: str, base: datetime) -> _Read | None:
    settings = {
        "PREFER_DATES_FROM": "past",
        "DATE_ORDER": "DMY",
        "RELATIVE_BASE": base,
        "RETURN_TIME_AS_PERIOD": True,
    }
    found = DateDataParser(languages=[dateparser_language], settings=settings).get_date_data(value)
    if found.date_obj is None:
        return None
    return _Read(found.date_obj.replace(tzinfo=None), found.period or "day")


@dataclass(frozen=True, slots=True)
class _ReadWords:
    read: _Read
    words: str
    dateparser_language: str


def _fillers(code: str) -> tuple[str, ...]:
    """Words that say nothing about the day once the time is taken out ("el", "am", "at")."""
    words, english = _words(code), _words(ENGLISH)
    return _longest_first([*words.ignore, *words.at, *english.ignore, *english.at])


def _read_words(value: str, code: str, base: datetime) -> _ReadWords | None:
    """VALUE read by dateparser in the victim's language, else (when it reads it) in English."""
    trimmed, _ = _remove(value, _fillers(code))
    candidates = [value] if trimmed == value else [value, trimmed]
    attempts = [code] if code == ENGLISH else [code, ENGLISH]
    for attempt in attempts:
        dateparser_language = language(attempt).dateparser
        for candidate in candidates:
            found = _dateparser(candidate, dateparser_language, base)
            if found is not None:
                return _ReadWords(found, candidate, dateparser_language)
    return None


def _relative(value: str, code: str, base: datetime) -> timedelta | None:
    """How long ago VALUE says, when the whole of it is relative ("vor 2 Stunden", "2h ago")."""
    found = _read_words(value, code, base)
    if found is None or found.read.period != "time":
        return None
    probe = _dateparser(found.words, found.dateparser_language, base + _PROBE)
    if probe is None or probe.at - found.read.at != _PROBE:
        return None
    return base - found.read.at


_LEFTOVER = re.compile(r"^[\s,;:.\-–—/]*$")


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
    found = _read_words(value, code, base)
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
        later = _dateparser(found.words, found.dateparser_language, base + timedelta(days=1))
        if later is not None and later.at.date() - named_day == timedelta(days=7):
            raise UnclearMoment("when_ambiguous_weekday", today=today, week_ago=named_day)
    return named_day


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
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    code = usable(language_code)
    words = _words(code)
    value = _normalise(typed)
    if not value or len(value) > MAX_TYPED:
        raise UnclearMoment("when_unreadable")
    if code == "zh":
        value = _chinese_numbers(value)
    value = _replace(_replace(value, words), _words(ENGLISH))
    value, approximate = _remove(value, words.approximately)
    if code != ENGLISH:
        value, also = _remove(value, _words(ENGLISH).approximately)
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
        ago = _relative(value, code, now.astimezone(zone).replace(tzinfo=None))
        if ago is None:
            raise
    return Moment(_checked(now - ago, now, zone), approximate=approximate or ago > timedelta(0))


def _absolute(
    value: str, code: str, *, now: datetime, zone: tzinfo, day: date | None, need_time: bool
) -> Moment:
    """A day and/or a time of day written in VALUE (normalised); UnclearMoment if unclear."""
    words = _words(code)
    local_now = now.astimezone(zone)
    today = local_now.date()
    base = local_now.replace(tzinfo=None)
    clock, value = _take_clock(value, code)
    part, named, value = _take_part(value, words)
    wanted: time | None = named
    unclear_hour: UnclearMoment | None = None
    if clock is not None:
        try:
            wanted = _resolve_clock(clock, part, words)
        except UnclearMoment as refused:
            # Said after the day is read: a day in the future or unread matters more.
            unclear_hour = refused
    numeric, value = _take_numeric_day(value, code, today)
    typed_day: date | None = numeric.day if numeric is not None else None
    said, _ = _remove(value, _fillers(code))
    if not _LEFTOVER.match(said):
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
