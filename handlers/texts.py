"""Message catalogues: texts live in `locales/<language>/*.toml`; code holds keys.

A key is `<file>.<name>` (e.g. `common.unknown_command`). Values are HTML for Telegram's HTML
parse mode; parameters are escaped unless passed as `Html`. A missing translation falls back to
English.
"""

from __future__ import annotations

import html
import string
import tomllib
from functools import cache
from pathlib import Path

import locales

LOCALES_DIR = Path(locales.__file__).resolve().parent
FALLBACK = "en"
MAX_MESSAGE_LENGTH = 4096


class Html(str):
    """A parameter that is already safe HTML and must not be escaped again."""

    __slots__ = ()


@cache
def _catalogue(language: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    folder = LOCALES_DIR / language
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as handle:
            for name, value in tomllib.load(handle).items():
                entries[f"{path.stem}.{name}"] = value
    return entries


def languages() -> list[str]:
    """The languages that have a catalogue, English first."""
    found = sorted(
        p.name for p in LOCALES_DIR.iterdir() if p.is_dir() and (p / "common.toml").exists()
    )
    return sorted(found, key=lambda code: code != FALLBACK)


def has(key: str, language: str = FALLBACK) -> bool:
    """Whether KEY exists in LANGUAGE or in English."""
    return key in _catalogue(language) or key in _catalogue(FALLBACK)


def text(key: str, language: str | None = None, /, **params: object) -> str:
    """The text for KEY in LANGUAGE, with PARAMS filled in (escaped unless `Html`)."""
    language = language or FALLBACK
    template = _catalogue(language).get(key) or _catalogue(FALLBACK).get(key)
    if template is None:
        raise KeyError(f"no text for {key!r}")
    safe = {
        name: value if isinstance(value, Html) else html.escape(str(value), quote=False)
        for name, value in params.items()
    }
    return string.Template(template).substitute(safe).strip()


def escape(value: object) -> str:
    """User text made safe for HTML parse mode."""
    return html.escape(str(value), quote=False)
