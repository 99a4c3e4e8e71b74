"""The words of each language that say a time of day, and reading a time of day from them.

The words are data (locales/timewords.toml): "about", "at", "o'clock", morning / evening, noon,
midnight, phrases to rewrite. dateparser drops or misreads times ("gestern um 18 Uhr" as 20:00,
"ontem às 18h30" as 02:00), so the time of day is read here and taken out before it reads the day.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import time
from functools import cache
from typing import Any

from handlers.i18n.languages import ENGLISH, LOCALES_DIR
from handlers.i18n.unclear import UnclearMoment

PARTS = ("morning", "afternoon", "evening", "night")
CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5}
_CN_DIGITS |= {"六": 6, "七": 7, "八": 8, "九": 9}
# Chinese numerals are read only before a unit of time ("八点", "十一月", "两小时").
_CN_NUMBER = re.compile(
    r"[零〇一二两兩三四五六七八九十]+(?=\s*(?:[点點时時月日号號分]|小时|小時|分钟|分鐘|天|个|個))"
)


@dataclass(frozen=True, slots=True)
class Words:
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


def longest_first(words: list[str]) -> tuple[str, ...]:
    """The words, lower case, without repeats, longest first (so that "a las" wins over "a")."""
    return tuple(sorted({word.lower() for word in words}, key=len, reverse=True))


@cache
def words_of(code: str) -> Words:
    """One language's time words, from locales/timewords.toml (none for an unlisted language)."""
    with (LOCALES_DIR / "timewords.toml").open("rb") as handle:
        raw: dict[str, Any] = tomllib.load(handle).get(code) or {}
    return Words(
        twelve_hour=bool(raw.get("twelve_hour", False)),
        approximately=longest_first(raw.get("approximately", [])),
        at=longest_first(raw.get("at", [])),
        hour=longest_first(raw.get("hour", [])),
        parts={part: longest_first(raw.get(part, [])) for part in PARTS},
        noon=longest_first(raw.get("noon", [])),
        midnight=longest_first(raw.get("midnight", [])),
        replace={key.lower(): value.lower() for key, value in raw.get("replace", {}).items()},
        ignore=longest_first(raw.get("ignore", [])),
    )


def word_pattern(words: tuple[str, ...]) -> str:
    """A regex alternation matching any of WORDS as whole words (CJK words anywhere)."""
    parts = []
    for word in words:
        escaped = re.escape(word)
        if CJK.search(word):
            parts.append(escaped)
        else:
            start = r"(?<!\w)" if word[0].isalnum() else ""
            end = r"(?!\w)" if word[-1].isalnum() else ""
            parts.append(f"{start}{escaped}{end}")
    return "|".join(parts) if parts else r"(?!x)x"


def remove_words(text_in: str, words: tuple[str, ...]) -> tuple[str, bool]:
    """TEXT_IN without any of WORDS, and whether one was there."""
    if not words:
        return text_in, False
    result, count = re.subn(word_pattern(words), " ", text_in)
    return squash(result), count > 0


def squash(value: str) -> str:
    """VALUE with one space between words."""
    return " ".join(value.split())


# --- normalising what was typed ---------------------------------------------------------------


def normalise(typed: str) -> str:
    """Lower case, one space between words, ASCII digits, no invisible characters."""
    out = []
    for char in unicodedata.normalize("NFKC", typed):
        if char.isdecimal():
            out.append(str(unicodedata.decimal(char)))
        elif unicodedata.category(char) in ("Cf", "Cc"):
            out.append(" ")
        else:
            out.append(char)
    return squash("".join(out).lower())


def chinese_numbers(value: str) -> str:
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


def rewrite(value: str, words: Words) -> str:
    """VALUE with the language's phrases rewritten ("anoche" -> "ayer noche")."""
    for phrase in sorted(words.replace, key=len, reverse=True):
        value = re.sub(word_pattern((phrase,)), f" {words.replace[phrase]} ", value)
    return squash(value)


# --- the time of day --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Clock:
    """A time of day as typed, before its half of the day is known."""

    hour: int
    minute: int
    meridiem: str | None  # "am" / "pm"
    minutes_given: bool
    padded: bool  # "09:15": a 24-hour clock for sure
    bare: bool  # "a las 6", "8点": an hour with nothing to say which half of the day


_MERIDIEM = r"(?P<mer>a\.?\s?m\.?|p\.?\s?m\.?)(?!\w)"


@cache
def _clock_patterns(code: str) -> tuple[re.Pattern[str], ...]:
    words = words_of(code)
    english = words_of(ENGLISH)
    at = word_pattern(longest_first([*words.at, *english.at]))
    # Written straight after the number ("22h", "8点"): no word boundary before it.
    hour = "|".join(
        re.escape(word) + (r"(?!\w)" if not CJK.search(word) else "")
        for word in longest_first([*words.hour, *english.hour])
    )
    parts = word_pattern(
        longest_first([w for name in PARTS for w in (*words.parts[name], *english.parts[name])])
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


def take_clock(value: str, code: str) -> tuple[Clock | None, str]:
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
        clock = Clock(
            hour,
            minute,
            meridiem,
            minutes_given,
            padded=groups["h"].startswith("0"),
            bare=bare and not minutes_given,
        )
        rest = squash(value[: match.start()] + " " + value[match.end() :])
        return clock, rest
    return None, value


def resolve_clock(clock: Clock, part: str | None, words: Words) -> time:
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


def take_part(value: str, words: Words) -> tuple[str | None, time | None, str]:
    """The part of the day named (morning...), a time named (noon, midnight), VALUE without them."""
    english = words_of(ENGLISH)
    named: time | None = None
    value, found = remove_words(value, longest_first([*words.noon, *english.noon]))
    if found:
        named = time(12, 0)
    value, found = remove_words(value, longest_first([*words.midnight, *english.midnight]))
    if found:
        named = time(0, 0)
    part = None
    for name in PARTS:
        named_part = longest_first([*words.parts[name], *english.parts[name]])
        value, found = remove_words(value, named_part)
        if found and part is None:
            part = name
    return part, named, value
