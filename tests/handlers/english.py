"""Finding English left in a message meant for another language (compared with the catalogue)."""

from __future__ import annotations

import re
from functools import cache

from handlers.texts import catalogue, plain

# Whole English words that no other language's message has any business holding.
ENGLISH_WORDS = re.compile(r"\b(the|your|you|please|been|with|report|phone|has|this)\b", re.I)
_LINK = re.compile(r"\S+\.(com|uk|org)\S*|/\w+")
_PLACEHOLDER = re.compile(r"\$\w+")
_BREAK = re.compile(r"[\n.:;!?•()“”\"«»,]+")


@cache
def english_sentences() -> frozenset[str]:
    """Every run of four or more English words in the victim's catalogues (tags and $names out)."""
    found: set[str] = set()
    for key, value in catalogue("en").items():
        if key.startswith("staff."):
            continue
        for template in value.values() if isinstance(value, dict) else [value]:
            for piece in _BREAK.split(_PLACEHOLDER.sub("\n", plain(template))):
                words = piece.split()
                if len(words) >= 4 and all(word.isascii() for word in words):
                    found.add(" ".join(words).lower())
    return frozenset(found)


def english_in(shown: str) -> list[str]:
    """The English sentences and words in SHOWN (links and commands set aside)."""
    flat = " ".join(plain(shown).split()).lower()
    left = [sentence for sentence in english_sentences() if sentence in flat]
    return left + ENGLISH_WORDS.findall(_LINK.sub(" ", flat))
