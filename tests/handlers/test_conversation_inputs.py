"""What victims type: times, free text, e-mail addresses, callback data."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.conversation import keyboards
from handlers.conversation.clock import FUTURE_TOLERANCE, MAX_AGE, parse_moment, zone_for_region
from handlers.conversation.inputs import BadAnswer, clean_email, clean_name, clean_text
from handlers.conversation.turn import split_message
from models.values.imei import INVISIBLE_CHARS

LONDON = zone_for_region("GB")
# A Wednesday afternoon in summer time (UTC+1).
NOW = datetime(2025, 7, 16, 15, 0, tzinfo=UTC)


def moment(text: str, **kwargs):
    return parse_moment(text, now=NOW, zone=LONDON, **kwargs)


@pytest.mark.parametrize(
    ("typed", "local"),
    [
        ("14:30", "2025-07-16 14:30"),
        ("2pm", "2025-07-16 14:00"),
        ("2.15 pm", "2025-07-16 14:15"),
        ("yesterday 9pm", "2025-07-15 21:00"),
        ("21/06 18:30", "2025-06-21 18:30"),
        ("21/6/2025 at 18:30", "2025-06-21 18:30"),
        ("2025-06-21 18:30", "2025-06-21 18:30"),
        ("3rd July, 10am", "2025-07-03 10:00"),
        ("July 3 10:00", "2025-07-03 10:00"),
        ("23:00", "2025-07-15 23:00"),  # later than now today: last night
        ("25/12 20:00", "2024-12-25 20:00"),  # no year, later this year: last year's
        ("noon", "2025-07-16 12:00"),
    ],
)
def test_times_as_people_type_them(typed, local):
    found = moment(typed)
    assert found.at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M") == local
    assert found.exact and found.time_known


def test_a_day_without_a_time_is_midday_and_marked():
    found = moment("14/07")
    assert found.at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M") == "2025-07-14 12:00"
    assert not found.time_known


def test_a_time_on_a_given_day():
    found = moment("9:05", day=datetime(2025, 7, 15).date())
    assert found.at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M") == "2025-07-15 09:05"


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("tomorrow 10:00", "future_time"),
        ("17/07/2025 10:00", "future_time"),
        ("16:30", "future_time"),
        ("01/01/2024 10:00", "too_old"),
        ("31/02 10:00", "no_such_date"),
        ("25:00", "no_such_time"),
        ("13pm", "no_such_time"),
        ("a while ago", "bad_time"),
        ("14", "bad_time"),
    ],
)
def test_impossible_or_unclear_times(typed, problem):
    day = NOW.date() if typed == "16:30" else None
    with pytest.raises(BadAnswer) as raised:
        moment(typed, day=day)
    assert raised.value.key == problem


@given(st.text(max_size=60))
def test_any_text_is_a_moment_in_range_or_a_bad_answer(typed):
    try:
        found = moment(typed)
    except BadAnswer:
        return
    assert NOW - MAX_AGE <= found.at <= NOW + FUTURE_TOLERANCE


@given(st.text(max_size=300))
def test_clean_text_keeps_only_visible_text(raw):
    try:
        cleaned = clean_text(raw, max_length=100)
    except BadAnswer as problem:
        assert problem.key in ("empty_answer", "too_long")
        return
    assert 0 < len(cleaned) <= 100
    assert cleaned == cleaned.strip() and "  " not in cleaned
    assert not set(cleaned) & INVISIBLE_CHARS
    assert all(unicodedata.category(char) not in ("Cc", "Cf", "Cs") for char in cleaned)


def test_names():
    assert clean_name("  Zoë   O'Brien\u200b ", max_length=100) == "Zoë O'Brien"
    assert clean_name("<b>Al</b> & Co", max_length=100) == "<b>Al</b> & Co"
    with pytest.raises(BadAnswer):
        clean_name("123 456", max_length=100)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("Alex@Example.ORG", "Alex@example.org"), (" a.b+c@mail.co.uk ", "a.b+c@mail.co.uk")],
)
def test_emails(typed, kept):
    assert clean_email(typed) == kept


@pytest.mark.parametrize("typed", ["alex", "alex@", "@example.org", "a@b", "a b@c.org", "a@b.c"])
def test_not_emails(typed):
    with pytest.raises(BadAnswer):
        clean_email(typed)


def test_callback_data_round_trips_and_is_capped():
    data = keyboards.callback_data("abc123", "tracked_where", "skip")
    assert keyboards.parse(data) == keyboards.Press("abc123", "tracked_where", "skip")
    assert keyboards.parse("c:a:b:lang:en").value == "lang:en"
    assert keyboards.parse("f:staff") is None and keyboards.parse("c::x:y") is None
    with pytest.raises(ValueError):
        keyboards.callback_data("abc123", "review", "x" * 60)


def test_long_messages_are_split_at_line_ends():
    lines = [f"<b>{i}</b> " + "x" * 990 for i in range(9)]
    parts = split_message("\n".join(lines))
    assert all(len(part) <= 4096 for part in parts) and len(parts) == 3
    assert "\n".join(parts) == "\n".join(lines)
    assert split_message("short") == ["short"]


def test_time_zone_for_a_region():
    assert str(zone_for_region("GB")) == "Europe/London"
    assert zone_for_region("FR").utcoffset(NOW.replace(tzinfo=None)) == timedelta(hours=2)
