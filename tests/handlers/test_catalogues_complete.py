"""Every victim-facing catalogue, in every language, matches the English one it translates.

Pure file checks: each English key is translated, with the same `$placeholders` and the same HTML
tags, as HTML that Telegram's parse mode accepts; buttons stay short enough for a phone; nothing is
left in English by mistake. `staff.toml` is for police staff and stays English only.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections import Counter
from html.parser import HTMLParser

import pytest

from handlers.texts import FALLBACK, LOCALES_DIR, MAX_MESSAGE_LENGTH
from tests.handlers.conftest import LANGUAGE_NAMES

ENGLISH_ONLY = {"staff"}
# Telegram's HTML parse mode, as the catalogues may use it: tag -> attributes it may carry.
TAGS: dict[str, set[str]] = {
    "b": set(),
    "i": set(),
    "u": set(),
    "s": set(),
    "code": set(),
    "pre": set(),
    "a": {"href"},
    "blockquote": set(),
    "tg-spoiler": set(),
}
PLURAL_FORMS = {"zero", "one", "two", "few", "many", "other"}  # CLDR's plural categories
BUTTON_MAX = 32  # a label that fits a phone's button; Telegram cuts longer ones
# Values that may equal the English one: only placeholders, product names, numbers or emoji.
SAME_AS_ENGLISH = {
    "conversation": {
        "imei_invalid",
        "phone_invalid",
        "plain",
        "model_example_apple",
        "model_example_samsung",
        "model_example_google",
        "model_example_android",
        "model_example_other",
        "make_name_apple",
        "make_name_samsung",
        "make_name_google",
        "review_imei",
        "button_make_apple",
        "button_make_samsung",
        "button_make_google",
        "button_edit_imei",
    },
    "advice": {"button_iphone", "button_android"},
    "followup": {"view_imeis", "view_history_line"},
    # Quotation marks around the refused character: Italian and Chinese use the same as English.
    "errors": {"character_shown"},
}
OWN_NAMES = {code: name for code, name in LANGUAGE_NAMES.items() if code != FALLBACK}
_BARE_AMPERSAND = re.compile(r"&(?!(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")


def load(language: str, name: str) -> dict[str, str | dict[str, str]]:
    """The catalogue LANGUAGE/NAME.toml as a dict (empty when the file is missing)."""
    path = LOCALES_DIR / language / f"{name}.toml"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        return tomllib.load(handle)


def victim_files() -> list[str]:
    """The English catalogues victims read (every file but the staff's)."""
    english = LOCALES_DIR / FALLBACK
    return sorted(p.stem for p in english.glob("*.toml") if p.stem not in ENGLISH_ONLY)


def translations() -> list[str]:
    """Every language folder with a catalogue, English aside."""
    return sorted(
        p.name
        for p in LOCALES_DIR.iterdir()
        if p.is_dir() and p.name != FALLBACK and any(p.glob("*.toml"))
    )


def forms(value: str | dict[str, str]) -> dict[str, str]:
    """A value's texts by plural form (one text, under "", when it has no plural forms)."""
    return value if isinstance(value, dict) else {"": value}


def main_form(value: str | dict[str, str]) -> str:
    """The text itself, or its "other" plural form."""
    return value["other"] if isinstance(value, dict) else value


def placeholders_of(value: str | dict[str, str]) -> set[str]:
    """The `$names` any form of VALUE uses."""
    return set().union(*(placeholders(text) for text in forms(value).values()))


def placeholders(value: str) -> set[str]:
    """The `$names` string.Template fills in VALUE."""
    template = string.Template(value)
    assert template.is_valid(), f"a stray $ in {value!r}"
    return set(template.get_identifiers())


class _Telegram(HTMLParser):
    """Collects the tags of a text and what Telegram's HTML parse mode would refuse in it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.tags: Counter[str] = Counter()
        self.open: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        if tag not in TAGS:
            self.problems.append(f"<{tag}> is not allowed")
        for attribute, _ in attrs:
            if attribute not in TAGS.get(tag, set()):
                self.problems.append(f"<{tag} {attribute}> is not allowed")
        if tag == "a" and not dict(attrs).get("href"):
            self.problems.append("<a> without href")
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"<{tag}/> is not allowed")

    def handle_endtag(self, tag: str) -> None:
        if not self.open:
            self.problems.append(f"</{tag}> closes nothing")
        elif self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.open[-1]}>")
        else:
            self.open.pop()


def parse(value: str) -> _Telegram:
    """VALUE parsed as Telegram HTML (placeholders as plain words)."""
    parser = _Telegram()
    filled = re.sub(r"\$(\w+)", r"\1", value)
    parser.feed(filled)
    parser.close()
    if parser.open:
        parser.problems.append(f"unclosed {parser.open}")
    if _BARE_AMPERSAND.search(filled):
        parser.problems.append("a bare & (write &amp;)")
    if "<" in re.sub(r"</?[a-z-]+(\s[^<>]*)?>", "", filled):
        parser.problems.append("a bare < (write &lt;)")
    return parser


def pairs() -> list[tuple[str, str]]:
    """(language, file) for every translation of every victim file."""
    return [(language, name) for language in translations() for name in victim_files()]


def test_there_are_catalogues_to_check():
    assert {"common", "conversation", "advice", "followup"} <= set(victim_files())
    assert set(OWN_NAMES) <= set(translations())


@pytest.mark.parametrize(("language", "name"), pairs())
def test_every_english_key_is_translated_and_nothing_else(language, name):
    english, other = load(FALLBACK, name), load(language, name)
    assert other, f"locales/{language}/{name}.toml is missing or empty"
    assert sorted(set(english) - set(other)) == [], "untranslated"
    assert sorted(set(other) - set(english)) == [], "not in English (stale?)"
    for key, value in english.items():
        if isinstance(value, str):
            assert isinstance(other[key], str), key
        else:  # plural forms: each language has its own, "other" always among them
            assert isinstance(other[key], dict), key
            assert "other" in other[key] and set(other[key]) <= PLURAL_FORMS, key


@pytest.mark.parametrize(("language", "name"), pairs())
def test_the_same_placeholders(language, name):
    english, other = load(FALLBACK, name), load(language, name)
    wrong = {}
    for key, value in english.items():
        wanted = placeholders_of(value)
        found = [placeholders(text) for text in forms(other[key]).values()]
        if set().union(*found) != wanted or any(not form <= wanted for form in found):
            wrong[key] = (sorted(wanted), [sorted(form) for form in found])
    assert wrong == {}


@pytest.mark.parametrize(("language", "name"), pairs())
def test_the_same_html_tags_as_valid_telegram_html(language, name):
    english, other = load(FALLBACK, name), load(language, name)
    problems = {
        key: [problem for text in forms(value).values() for problem in parse(text).problems]
        for key, value in other.items()
    }
    assert {key: found for key, found in problems.items() if found} == {}
    different = {}
    for key, value in english.items():
        wanted = parse(main_form(value)).tags
        found = [parse(text).tags for text in forms(other[key]).values()]
        if any(tags != wanted for tags in found):
            different[key] = (dict(wanted), [dict(tags) for tags in found])
    assert different == {}


@pytest.mark.parametrize(("language", "name"), pairs())
def test_nothing_left_in_english(language, name):
    english, other = load(FALLBACK, name), load(language, name)
    allowed = SAME_AS_ENGLISH.get(name, set())
    same = [key for key, value in english.items() if key not in allowed and other.get(key) == value]
    assert same == []


@pytest.mark.parametrize(("language", "name"), pairs())
def test_buttons_fit_a_phone_and_messages_fit_telegram(language, name):
    other = load(language, name)
    for key, value in other.items():
        if key.startswith("button_"):
            assert isinstance(value, str) and "<" not in value and "\n" not in value, key
            assert 0 < len(value) <= BUTTON_MAX, (key, value, len(value))
        for text in forms(value).values():
            # Room for what the placeholders bring (references, links, user text).
            assert len(text) + 200 * len(placeholders(text)) <= MAX_MESSAGE_LENGTH, key


@pytest.mark.parametrize("language", translations())
def test_each_language_is_named_in_itself(language):
    name = load(language, "common").get("language_name", "")
    assert name and name != load(FALLBACK, "common")["language_name"]
    if language in OWN_NAMES:
        assert name == OWN_NAMES[language]


def test_the_checks_catch_broken_html_and_placeholders():
    assert parse("<b>a</i>").problems
    assert parse("<b>a").problems
    assert parse("<script>x</script>").problems
    assert parse('<b class="x">a</b>').problems
    assert parse("fish & chips").problems
    assert parse("1 < 2").problems
    assert parse('<a href="https://example.org">a</a> &amp; <code>$x</code>').problems == []
    assert parse("<b>a</b> <b>b</b>").tags != parse("<b>a b</b>").tags
    assert placeholders("$a and ${b}, not $$c") == {"a", "b"}
    assert placeholders_of({"one": "$count day", "other": "$count days in $month"}) == {
        "count",
        "month",
    }
    with pytest.raises(AssertionError):
        placeholders("costs $ 5")
