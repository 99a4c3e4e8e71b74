"""The keyed hashes under which staff find a report by the victim's e-mail or name.

No plain name or address is stored for searching: each is normalised (case, accents, spacing)
and kept only as an HMAC blind index, like IMEIs and phone numbers. A name gives one key for the
whole name and one for each of its words, so "Zoë O'Brien", "zoe obrien" and "O'Brien" all find it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from models.sealing.vault import Vault
from models.storage.tables import ReportKey

# Raise when the keys change shape; `reportbot reindex` brings older reports up to it.
SEARCH_KEYS_VERSION = 1
EMAIL = "email"
NAME = "name"
NAME_WORD = "name_word"
MIN_WORD = 2
_NOT_WORD = re.compile(r"[^\w]+")


def normalise_name(text: str) -> str:
    """A name without case, accents, apostrophes or punctuation, words single-spaced."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    plain = plain.replace("'", "").replace("\u2019", "")
    return " ".join(word for word in _NOT_WORD.split(plain.replace("_", " ")) if word)


def name_words(text: str) -> list[str]:
    """The distinct words of a normalised name long enough to search by."""
    seen: dict[str, None] = {}
    for word in normalise_name(text).split():
        if len(word) >= MIN_WORD:
            seen.setdefault(word, None)
    return list(seen)


def normalise_email(text: str) -> str:
    """An e-mail address as it is compared: trimmed and case-folded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def email_key(vault: Vault, email: str) -> str:
    """The keyed hash of an e-mail address."""
    return vault.blind_index("search:email", normalise_email(email))


def name_key(vault: Vault, name: str) -> str:
    """The keyed hash of a whole name."""
    return vault.blind_index("search:name", normalise_name(name))


def name_word_key(vault: Vault, word: str) -> str:
    """The keyed hash of one word of a name (already normalised)."""
    return vault.blind_index("search:name_word", word)


def keys_of(vault: Vault, private: dict[str, Any]) -> list[tuple[str, str]]:
    """Every (kind, key hash) a report's opened personal data should be found under."""
    keys: list[tuple[str, str]] = []
    email = private.get("contact_email")
    if email and normalise_email(email):
        keys.append((EMAIL, email_key(vault, email)))
    name = private.get("contact_name")
    if name and normalise_name(name):
        keys.append((NAME, name_key(vault, name)))
        keys.extend((NAME_WORD, name_word_key(vault, word)) for word in name_words(name))
    return list(dict.fromkeys(keys))


def key_rows(vault: Vault, report_id: int, private: dict[str, Any]) -> list[ReportKey]:
    """The report_key rows for a report (to add in the filing's transaction)."""
    return [
        ReportKey(report_id=report_id, kind=kind, key_hash=key_hash)
        for kind, key_hash in keys_of(vault, private)
    ]
