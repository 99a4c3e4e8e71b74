"""Windows of time as victims type them, in every language: earliest and latest possible time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.i18n.languages import supported
from handlers.i18n.unclear import UnclearMoment
from handlers.i18n.windows import Window, parse_window, show_window
from handlers.texts import text
from models.values.window import BadWindow

LONDON = ZoneInfo("Europe/London")
# Saturday 21 November 2026, 18:10 in London (GMT).
NOW = datetime(2026, 11, 21, 18, 10, tzinfo=UTC)


def local(window: Window) -> tuple[str, str]:
    """Both ends as London wall-clock text."""
    return (
        window.earliest.astimezone(LONDON).strftime("%d %H:%M"),
        window.latest.astimezone(LONDON).strftime("%d %H:%M"),
    )


def read(typed: str, language: str = "en", **kwargs) -> Window:
    return parse_window(typed, language, now=NOW, zone=LONDON, **kwargs)


@pytest.mark.parametrize(
    ("language", "typed"),
    [
        ("en", "yesterday between 18:00 and 18:30"),
        ("en", "between 18:00 and 18:30 yesterday"),
        ("en", "yesterday from 6pm to 6:30pm"),
        ("en", "20/11 18:00 - 18:30"),
        ("es", "ayer entre las 18:00 y las 18:30"),
        ("es", "ayer de 18:00 a 18:30"),
        ("fr", "hier entre 18h et 18h30"),
        ("de", "gestern zwischen 18:00 und 18:30"),
        ("de", "gestern von 18 bis 18:30 Uhr"),
        ("it", "ieri tra le 18:00 e le 18:30"),
        ("pt", "ontem entre as 18h e as 18h30"),
        ("pl", "wczoraj między 18:00 a 18:30"),
        ("ro", "ieri între 18:00 și 18:30"),
        ("ar", "أمس بين 18:00 و 18:30"),
        ("zh", "昨天18:00到18:30之间"),
        ("zh", "昨天晚上6点到6点半"),
    ],
)
def test_between_two_times_in_every_language(language, typed):
    window = read(typed, language)
    assert local(window) == ("20 18:00", "20 18:30")
    assert not window.whole_day and not window.is_moment


@pytest.mark.parametrize(
    ("language", "typed"),
    [
        ("en", "some time yesterday"),
        ("en", "yesterday"),
        ("es", "ayer en algún momento"),
        ("fr", "hier dans la journée"),
        ("de", "gestern irgendwann"),
        ("it", "ieri a un certo punto"),
        ("pt", "ontem a certa altura"),
        ("pl", "wczoraj w ciągu dnia"),
        ("ro", "ieri cândva"),
        ("ar", "أمس في وقت ما"),
        ("zh", "昨天的某个时候"),
    ],
)
def test_some_time_yesterday_is_the_whole_day(language, typed):
    window = read(typed, language)
    assert local(window) == ("20 00:00", "20 23:59") and window.whole_day


@pytest.mark.parametrize("language", supported())
def test_the_hint_s_examples_are_read_in_their_language(language):
    hint = text("conversation.when_range_hint", language)
    examples = re.findall(r"<i>([^<]+)</i>", hint)
    assert len(examples) == 2
    between, some_time = (read(example, language) for example in examples)
    assert local(between) == ("20 18:00", "20 18:30")
    assert some_time.whole_day and local(some_time)[0] == "20 00:00"


def test_a_single_moment_and_an_approximate_one():
    assert read("yesterday 18:30").is_moment
    assert local(read("yesterday 18:30")) == ("20 18:30", "20 18:30")
    about = read("yesterday about 18:30")
    assert local(about) == ("20 18:15", "20 18:45") and about.approximate


def test_a_latest_time_still_to_come_becomes_now():
    assert local(read("between 18:00 and 18:30")) == ("21 18:00", "21 18:10")
    assert local(read("some time today")) == ("21 00:00", "21 18:10")


def test_past_midnight_and_a_day_after_the_times():
    assert local(read("yesterday between 23:00 and 00:30")) == ("20 23:00", "21 00:30")


def test_an_hour_that_can_only_be_the_morning_is_taken():
    morning = parse_window("10:34", "en", now=NOW, zone=LONDON, day=NOW.date())
    assert local(morning) == ("21 10:34", "21 10:34")


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("tomorrow", "when_future"),
        ("between 19:00 and 18:00 yesterday", "window_reversed"),
        ("between 1 October and 20 November", "window_too_wide"),
        ("whenever", "when_unreadable"),
        ("", "when_unreadable"),
    ],
)
def test_what_cannot_be_right_is_refused_with_a_reason(typed, code):
    with pytest.raises((UnclearMoment, BadWindow)) as refused:
        read(typed)
    assert refused.value.code == code


def test_shown_back_in_the_language():
    window = read("yesterday between 18:00 and 18:30")
    assert show_window(window, "en", LONDON) == "Fri, 20 Nov 2026, between 18:00 and 18:30"
    assert show_window(window, "es", LONDON) == "vie, 20 nov 2026, entre las 18:00 y las 18:30"
    assert show_window(window, "de", LONDON) == "Fr., 20. Nov. 2026, zwischen 18:00 und 18:30"
    whole = read("some time yesterday")
    assert show_window(whole, "en", LONDON) == "some time on Fri, 20 Nov 2026"
    night = read("yesterday between 23:00 and 00:30")
    assert show_window(night, "en", LONDON) == (
        "between Fri, 20 Nov 2026, 23:00 and Sat, 21 Nov 2026, 00:30"
    )
    assert show_window(read("yesterday 18:30"), "en", LONDON) == "Fri, 20 Nov 2026, 18:30"


def test_a_moment_an_hour_after_the_clocks_go_back_is_still_a_window():
    autumn = datetime(2026, 10, 25, 12, 0, tzinfo=UTC)
    window = parse_window("today between 00:30 and 02:30", "en", now=autumn, zone=LONDON)
    assert window.latest - window.earliest == timedelta(hours=3)  # 01:00-02:00 twice
