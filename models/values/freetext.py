"""Free text that must say something: a place or a model made only of emoji, digits or
punctuation is asked again."""

from __future__ import annotations

import unicodedata

from models.errors import RegisterError
from models.values.imei import remove_invisible

__all__ = ["MeaninglessText", "has_words", "require_words"]

MAX_LENGTH = 200


class MeaninglessText(RegisterError):
    """Text with no letter in it (only emoji, digits, punctuation or spaces), or none at all."""


def has_words(text: str) -> bool:
    """Whether TEXT holds at least one letter of any script."""
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def require_words(text: str, *, field: str, max_length: int = MAX_LENGTH) -> str:
    """TEXT tidied (invisible characters dropped, spaces collapsed); MeaninglessText otherwise.

    FIELD names what was asked (`place`, `model`, ...) so that the re-ask can say it.
    """
    cleaned = " ".join(remove_invisible(unicodedata.normalize("NFC", text)).split())
    if not cleaned:
        raise MeaninglessText("text_empty", field=field)
    if len(cleaned) > max_length:
        raise MeaninglessText("text_too_long", field=field, limit=max_length)
    if not has_words(cleaned):
        raise MeaninglessText("text_no_words", field=field)
    return cleaned
