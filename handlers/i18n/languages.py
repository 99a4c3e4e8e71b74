"""The languages the bot speaks (`locales/languages.toml`), and which one a Telegram user reads.

This is the one language resolver: every exchange asks it which languages there are, what each is
called, which way it is written, and which of them a Telegram `language_code` means.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale

import locales

LOCALES_DIR = Path(locales.__file__).resolve().parent
ENGLISH = "en"
# A language offered to victims has a catalogue folder holding at least this file.
_MARKER = "common.toml"


@dataclass(frozen=True, slots=True)
class Language:
    """One supported language."""

    code: str
    name: str
    babel: str
    dateparser: str
    telegram: str
    rtl: bool
    aliases: tuple[str, ...]

    @property
    def locale(self) -> Locale:
        """The Babel locale that writes its dates, numbers and plurals."""
        return _locale(self.babel)


@cache
def _locale(identifier: str) -> Locale:
    return Locale.parse(identifier)


@cache
def _table() -> dict[str, Language]:
    with (LOCALES_DIR / "languages.toml").open("rb") as handle:
        raw = tomllib.load(handle)
    return {
        code: Language(
            code=code,
            name=entry["name"],
            babel=entry["babel"],
            dateparser=entry["dateparser"],
            telegram=entry["telegram"],
            rtl=entry["direction"] == "rtl",
            aliases=tuple(alias.lower() for alias in entry.get("aliases", [code])),
        )
        for code, entry in raw.items()
    }


def supported() -> tuple[str, ...]:
    """Every language listed in locales/languages.toml, in the order they are offered."""
    return tuple(_table())


@cache
def available() -> tuple[str, ...]:
    """The supported languages that have a catalogue, in the order they are offered."""
    return tuple(code for code in _table() if (LOCALES_DIR / code / _MARKER).is_file())


def language(code: str | None) -> Language:
    """The language CODE (any case), or English when CODE is not supported."""
    table = _table()
    return table.get((code or "").lower()) or table[ENGLISH]


def usable(code: str | None) -> str:
    """CODE itself when it is a supported language, else English (e.g. a stored NULL)."""
    return language(code).code


def own_name(code: str) -> str:
    """The language's name in itself, e.g. "Español", "العربية", "中文（简体）"."""
    return language(code).name


def is_rtl(code: str | None) -> bool:
    """Whether the language is written right to left."""
    return language(code).rtl


def locale_of(code: str | None) -> Locale:
    """The Babel locale for a language (English for an unknown one)."""
    return language(code).locale


def resolve(language_code: str | None, among: tuple[str, ...] | None = None) -> str | None:
    """The language a Telegram `language_code` (e.g. "pt-br", "zh-hans") means, or None.

    AMONG defaults to the available languages. None means "we do not speak it": the language
    must then be asked, never assumed.
    """
    if not language_code:
        return None
    code = language_code.strip().lower().replace("_", "-")
    primary = code.split("-", 1)[0]
    candidates = among if among is not None else available()
    for candidate in candidates:
        aliases = _table()[candidate].aliases if candidate in _table() else ()
        if code in aliases or primary in aliases:
            return candidate
    return None


def offered(language_code: str | None) -> list[str]:
    """The available languages in the order to offer them: the account's language (if any) first."""
    codes = list(available())
    first = resolve(language_code, tuple(codes))
    if first is not None:
        codes.remove(first)
        codes.insert(0, first)
    return codes
