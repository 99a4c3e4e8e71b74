"""IMEI value type: parsing what a victim types, Luhn check digit, safe display forms."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from itertools import pairwise

from models.errors import RegisterError

__all__ = [
    "INVISIBLE_CHARS",
    "Imei",
    "InvalidImei",
    "is_dash",
    "luhn_check_digit",
    "remove_invisible",
    "to_ascii_digit",
]

# Zero-width characters, bidi marks/embeddings/isolates and the soft hyphen: pasted text from
# other apps often carries them, and they are invisible to the user, so they are dropped silently.
INVISIBLE_CHARS = frozenset(
    "\u00ad\u200b\u200c\u200d\u2060\ufeff"
    "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_DOTS = frozenset(".\u00b7\u2024\uff0e")
_SLASHES = frozenset("/\u2215\uff0f")
# U+2212 MINUS SIGN is a math symbol (Sm), not a dash (Pd), but people type it as one.
_EXTRA_DASHES = frozenset("\u2212")


class InvalidImei(RegisterError, ValueError):
    """An IMEI the user typed could not be accepted; the code says why (`errors.imei_*`).

    Codes: imei_not_a_digit (character), imei_no_digits, imei_length (count),
    imei_fake_same_digit, imei_fake_sequence, imei_fake_zeros, imei_check_digit (expected),
    imei_not_canonical.
    """


def remove_invisible(text: str) -> str:
    """Return text without zero-width characters and bidi marks."""
    return "".join(ch for ch in text if ch not in INVISIBLE_CHARS)


def to_ascii_digit(ch: str) -> str | None:
    """Return the ASCII digit for any Unicode decimal digit character, else None."""
    if ch.isdecimal():
        return str(unicodedata.decimal(ch))
    return None


def is_dash(ch: str) -> bool:
    """Return True for any Unicode dash (hyphen, en dash, em dash, minus sign...)."""
    return ch in _EXTRA_DASHES or unicodedata.category(ch) == "Pd"


def luhn_check_digit(body14: str) -> str:
    """Return the Luhn check digit for the first 14 digits of an IMEI."""
    if len(body14) != 14 or not body14.isascii() or not body14.isdigit():
        raise ValueError("luhn_check_digit needs exactly 14 ASCII digits")
    total = 0
    # From the right of the body, every first, third, ... digit is doubled (the check digit
    # itself would be the undoubled position 0).
    for position, ch in enumerate(reversed(body14)):
        value = int(ch)
        if position % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def _digits_only(text: str) -> str:
    """Strip separators and invisible characters and return ASCII digits, or raise InvalidImei."""
    digits: list[str] = []
    for ch in text.strip():
        if ch in INVISIBLE_CHARS or ch.isspace() or ch in _DOTS or ch in _SLASHES or is_dash(ch):
            continue
        digit = to_ascii_digit(ch)
        if digit is None:
            raise InvalidImei("imei_not_a_digit", character=ch)
        digits.append(digit)
    return "".join(digits)


def _fake_reason(digits: str) -> str | None:
    """Return the code saying why a canonical IMEI is plainly fake, or None if it looks real."""
    body = digits[:14]
    if len(set(body)) == 1:
        return "imei_fake_same_digit"
    steps = {(int(b) - int(a)) % 10 for a, b in pairwise(body)}
    if steps in ({1}, {9}):
        return "imei_fake_sequence"
    if digits[:8] == "00000000":
        return "imei_fake_zeros"
    return None


@dataclass(frozen=True, slots=True)
class Imei:
    """A validated IMEI, always held as its canonical 15 ASCII digits."""

    digits: str

    def __post_init__(self) -> None:
        """Refuse anything that is not 15 ASCII digits with a correct check digit."""
        d = self.digits
        if not (isinstance(d, str) and len(d) == 15 and d.isascii() and d.isdigit()):
            raise InvalidImei("imei_not_canonical")
        if luhn_check_digit(d[:14]) != d[14]:
            raise InvalidImei("imei_check_digit", expected=luhn_check_digit(d[:14]))

    @classmethod
    def parse(cls, text: str) -> Imei:
        """Parse an IMEI as typed (14, 15 or 16 digits, any separators); raise InvalidImei."""
        digits = _digits_only(text)
        if not digits:
            raise InvalidImei("imei_no_digits")
        if len(digits) not in (14, 15, 16):
            raise InvalidImei("imei_length", count=len(digits))
        # 14: check digit left off; 16: IMEISV, whose last two digits are a software version.
        canonical = digits[:14] + luhn_check_digit(digits[:14])
        # Fakes first: for a made-up number "the check digit is wrong" would mislead.
        reason = _fake_reason(canonical)
        if reason is not None:
            raise InvalidImei(reason)
        if len(digits) == 15 and digits[14] != canonical[14]:
            raise InvalidImei("imei_check_digit", expected=canonical[14])
        return cls(canonical)

    @property
    def tac(self) -> str:
        """The Type Allocation Code: the first 8 digits, which identify the model."""
        return self.digits[:8]

    @property
    def masked(self) -> str:
        """The TAC followed by asterisks, safe to show or log."""
        return self.tac + "******"

    @property
    def grouped(self) -> str:
        """The digits in groups of three, for reading back to the user."""
        return " ".join(self.digits[i : i + 3] for i in range(0, 15, 3))

    def __str__(self) -> str:
        """Return the canonical 15 digits."""
        return self.digits
