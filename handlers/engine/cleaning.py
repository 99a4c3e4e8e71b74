"""The one text cleaner: what people type, made one line of visible text within limits."""

from __future__ import annotations

import re
import unicodedata

from handlers.engine.answers import BadAnswer
from models.values.imei import remove_invisible

# Control, format and surrogate characters: invisible, or unencodable, never meant as text.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)*\.[^@\s.\d]{2,}")
MAX_EMAIL = 254


def clean_text(raw: str, *, max_length: int, min_length: int = 1) -> str:
    """One line of visible text, MIN_LENGTH to MAX_LENGTH characters; BadAnswer otherwise."""
    if len(raw) > max_length * 4:
        raise BadAnswer("too_long", limit=max_length)
    visible = unicodedata.normalize("NFC", remove_invisible(raw))
    kept = "".join(
        " " if unicodedata.category(char) in _DROPPED_CATEGORIES else char for char in visible
    )
    text = " ".join(kept.split())
    if not text:
        raise BadAnswer("empty_answer")
    if len(text) > max_length:
        raise BadAnswer("too_long", limit=max_length)
    if len(text) < min_length:
        raise BadAnswer("too_short", limit=min_length)
    return text


def clean_name(raw: str, *, max_length: int) -> str:
    """A person's name: visible text with at least one letter."""
    name = clean_text(raw, max_length=max_length)
    if not any(unicodedata.category(char).startswith("L") for char in name):
        raise BadAnswer("name_needs_letters")
    return name


def clean_email(raw: str) -> str:
    """An e-mail address that looks deliverable (domain lower-cased); BadAnswer otherwise."""
    address = clean_text(raw, max_length=MAX_EMAIL)
    if not _EMAIL.fullmatch(address):
        raise BadAnswer("bad_email")
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"
