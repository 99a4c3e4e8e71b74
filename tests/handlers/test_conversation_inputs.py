"""What victims type: free text, e-mail addresses, callback data (times: test_moments.py)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.conversation import keyboards
from handlers.conversation.inputs import BadAnswer, clean_email, clean_name, clean_text
from handlers.conversation.turn import split_message
from models.values.imei import INVISIBLE_CHARS


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
