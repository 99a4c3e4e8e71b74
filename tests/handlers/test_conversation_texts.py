"""The conversation's catalogues: every language complete, the same parameters, valid HTML."""

from __future__ import annotations

import re
import tomllib

import pytest

from handlers.texts import LOCALES_DIR, languages
from tests.handlers.conftest import html_problems

FILES = ("conversation", "advice")


def catalogue(language: str, name: str) -> dict[str, str]:
    with (LOCALES_DIR / language / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


@pytest.mark.parametrize("language", [code for code in languages() if code != "en"])
@pytest.mark.parametrize("name", FILES)
def test_every_language_is_complete_with_the_same_parameters(language, name):
    english, other = catalogue("en", name), catalogue(language, name)
    assert set(other) == set(english)
    for key, value in english.items():
        params = set(re.findall(r"\$(\w+)", value))
        assert set(re.findall(r"\$(\w+)", other[key])) == params, key


@pytest.mark.parametrize("language", languages())
@pytest.mark.parametrize("name", FILES)
def test_texts_are_valid_telegram_html(language, name):
    for key, value in catalogue(language, name).items():
        filled = re.sub(r"\$(\w+)", "x", value)
        assert html_problems(filled) == [], key
        if key.startswith("button_"):
            assert "<" not in value and len(value) <= 32, key


def test_every_language_names_itself():
    for code in languages():
        assert catalogue(code, "common")["language_name"]


def test_the_limit_check_catches_what_telegram_refuses():
    from bot.local_api import ApiCall
    from tests.handlers.conftest import limit_problems

    wide = {"inline_keyboard": [[{"text": "x" * 30, "callback_data": "c:" + "y" * 70}] * 4]}
    calls = [
        ApiCall("sendMessage", {"text": "a" * 4097}),
        ApiCall("sendMessage", {"text": "<b>x</i> & <script>"}),
        ApiCall("sendMessage", {"text": "ok", "reply_markup": wide}),
    ]
    problems = " | ".join(limit_problems(calls))
    for expected in (
        "4097 characters",
        "unbalanced",
        "bare &",
        "unsupported tag",
        "over 64 bytes",
        "4 buttons in a row",
        "row too wide",
    ):
        assert expected in problems
    assert limit_problems([ApiCall("sendMessage", {"text": "<b>a</b> &amp; <code>b</code>"})]) == []
