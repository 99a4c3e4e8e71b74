"""The register's texts (locales/*/register.toml) in every language, and staff's refusals."""

from __future__ import annotations

import re
import tomllib

import pytest

from bot.commands.common import explain
from handlers.texts import LOCALES_DIR, languages, text
from models.services.datasets import ImportRefused
from models.services.search import BadQuery
from models.values.crime import BadCrimeReference

BUTTON_MAX = 32
PLACEHOLDER = re.compile(r"\$(\w+)")
TRANSLATIONS = [language for language in languages() if language != "en"]


def load(language: str, name: str) -> dict[str, str]:
    with (LOCALES_DIR / language / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


@pytest.mark.parametrize("language", TRANSLATIONS)
def test_translations_match_english(language: str) -> None:
    english, translated = load("en", "register"), load(language, "register")

    assert set(translated) == set(english)
    for key, value in english.items():
        assert set(PLACEHOLDER.findall(translated[key])) == set(PLACEHOLDER.findall(value)), key
        assert translated[key] != value, key


@pytest.mark.parametrize("language", ["en", *TRANSLATIONS])
def test_buttons_fit_a_phone(language: str) -> None:
    for key, value in load(language, "register").items():
        if key.startswith("button_"):
            assert len(value) <= BUTTON_MAX, (language, key)


def test_the_tac_question_names_the_brand_safely() -> None:
    asked = text("register.tac_mismatch_ask", brand="Samsung", model="Galaxy <S23>", make="Apple")

    assert "<b>Samsung</b>" in asked and "Galaxy &lt;S23&gt;" in asked


def test_refusals_are_worded_for_the_terminal() -> None:
    assert explain(BadCrimeReference("crime_reference_character", character=";")) == (
        "A crime reference has only letters, digits, / and -: please remove “;”."
    )
    assert explain(ImportRefused("import_too_large", limit=10)) == (
        "the file is larger than the limit of 10 bytes"
    )
    assert explain(BadQuery("lookup_email_invalid")) == "That is not an e-mail address."
