"""Typed places made comparable: postcodes, and names matched forgivingly.

Both the gazetteer's names (at import) and what a victim types (at look-up) go through the same
canonical form: no case, accents, apostrophes or punctuation; "street" and "st" alike, "road"
and "rd", "saint" and "st"; a trailing "station" (or "stn") dropped, so "Bond Street station",
"bond st" and "BOND STREET" meet. Postcodes are matched with or without their space.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "district_of",
    "place_key",
    "place_keys",
    "postcode_district",
    "postcode_in",
    "postcode_key",
]

MAX_KEY = 128
# A full UK postcode: outward code (area letters, district digit(s), optional letter) and the
# inward code (a digit and two letters), e.g. SW1A 1AA, W1D 1BS, M1 1AE, EC1A 1BB.
_POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})")
_OUTWARD = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?")
_WORDS = {
    "street": "st",
    "str": "st",
    "saint": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "square": "sq",
    "lane": "ln",
    "place": "pl",
    "gardens": "gdns",
    "terrace": "ter",
    "crescent": "cres",
    "park": "pk",
    "station": "stn",
    "and": "",
    "&": "",
}
_TRAILING_NOISE = frozenset({"london", "uk", "gb", "england", "united kingdom", "greater london"})
_STATION = frozenset({"stn", "underground", "tube", "overground", "rail", "dlr"})


def _plain(text: str) -> str:
    if text.isascii():
        plain = text.casefold()
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return plain.replace("'", "").replace("\u2019", "").replace("&", " and ")


def _words(text: str) -> list[str]:
    words = []
    for word in re.split(r"[^\w]+", _plain(text).replace("_", " ")):
        mapped = _WORDS.get(word, word)
        if mapped:
            words.append(mapped)
    return words


def _trim(words: list[str]) -> list[str]:
    words = list(words)
    while len(words) > 1 and (
        words[-1] in _TRAILING_NOISE or " ".join(words[-2:]) in _TRAILING_NOISE
    ):
        words = words[:-2] if " ".join(words[-2:]) in _TRAILING_NOISE else words[:-1]
    while len(words) > 1 and words[-1] in _STATION:
        words = words[:-1]
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return words


def _typed_st(text: str) -> bool:
    raw = [word for word in re.split(r"[^\w]+", _plain(text)) if word]
    return bool(raw) and raw[-1] == "st"


def place_key(text: str) -> str:
    """The canonical form of a place name (what the gazetteer is searched by)."""
    return " ".join(_trim(_words(text)))[:MAX_KEY]


def place_keys(text: str) -> list[str]:
    """The keys to try for a typed place, most faithful first."""
    keys: list[str] = []

    def add(words: list[str]) -> None:
        key = " ".join(_trim(words))[:MAX_KEY]
        if key and key not in keys:
            keys.append(key)

    words = _words(text)
    add(words)
    # "Oxford Circus st": a bare "st" may mean the station ("street" never does).
    if len(words) > 1 and _typed_st(text):
        add(words[:-1])
    # "Oxford Street, London W1": the part before the first comma.
    if "," in text:
        head_text = text.split(",", 1)[0]
        head = _words(head_text)
        add(head)
        if len(head) > 1 and _typed_st(head_text):
            add(head[:-1])
    # A trailing postcode or district ("Oxford Street W1D 1BS", "Oxford St W1").
    bare = [word for word in words if not _OUTWARD.fullmatch(word.upper())]
    if bare != words:
        add([word for word in bare if not re.fullmatch(r"[0-9][a-z]{2}", word)])
    return keys


def postcode_key(text: str) -> str | None:
    """A full postcode as stored (`SW1A1AA`) if TEXT is one, with or without its space."""
    compact = re.sub(r"\s+", " ", _plain(text).upper().strip())
    match = _POSTCODE.fullmatch(compact)
    return match.group(1) + match.group(2) if match else None


def postcode_in(text: str) -> str | None:
    """A full postcode found anywhere in TEXT (`SW1A1AA`), or None."""
    for match in _POSTCODE.finditer(_plain(text).upper()):
        before = match.start() == 0 or not match.string[match.start() - 1].isalnum()
        after = match.end() == len(match.string) or not match.string[match.end()].isalnum()
        if before and after:
            return match.group(1) + match.group(2)
    return None


def postcode_district(text: str) -> str | None:
    """A partial postcode (outward code, e.g. `W1D`, `SW1A`, `E1`) if TEXT is only that."""
    compact = _plain(text).upper().strip()
    return compact if _OUTWARD.fullmatch(compact) else None


def district_of(postcode: str) -> str:
    """The district (outward code) of a stored postcode key: `SW1A1AA` -> `SW1A`."""
    return postcode[:-3]
