"""The register's texts (locales/*/register.toml, errors.toml) in every language that has them."""

from __future__ import annotations

import re
import tomllib

import pytest

from handlers.texts import LOCALES_DIR, text

BUTTON_MAX = 32
PLACEHOLDER = re.compile(r"\$(\w+)")


def load(language: str, name: str) -> dict[str, str]:
    with (LOCALES_DIR / language / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


@pytest.mark.parametrize("name", ["register", "errors"])
@pytest.mark.parametrize("language", ["es", "fr"])
def test_translations_match_english(language: str, name: str) -> None:
    english, translated = load("en", name), load(language, name)

    assert set(translated) == set(english)
    for key, value in english.items():
        assert set(PLACEHOLDER.findall(translated[key])) == set(PLACEHOLDER.findall(value)), key
        assert translated[key] != value, key


@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_buttons_fit_a_phone(language: str) -> None:
    for key, value in load(language, "register").items():
        if "button" in key:
            assert len(value) <= BUTTON_MAX, (language, key)


def test_the_tac_question_names_the_brand_safely() -> None:
    asked = text("register.tac_mismatch_ask", brand="Samsung", model="Galaxy <S23>", make="Apple")

    assert "<b>Samsung</b>" in asked and "Galaxy &lt;S23&gt;" in asked
