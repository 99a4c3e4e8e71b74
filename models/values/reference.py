"""Report references and secret access codes: short, readable aloud, typo-checked."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

from models.errors import RegisterError
from models.values.imei import INVISIBLE_CHARS, is_dash, to_ascii_digit

__all__ = [
    "ACCESS_CODE_EXAMPLE",
    "ALPHABET",
    "PREFIX",
    "REFERENCE_EXAMPLE",
    "InvalidAccessCode",
    "InvalidReference",
    "Reference",
    "check_character",
    "deep_link_payload",
    "generate_access_code",
    "normalise_access_code",
    "parse_deep_link_payload",
]

# No 0/O, 1/I/L: nothing that can be misread or misheard. 31 characters, and 31 is prime.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PREFIX = "SPR"
REFERENCE_EXAMPLE = "SPR-7KQ4-M9"
ACCESS_CODE_EXAMPLE = "K7QM-3XDP"

_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_MODULUS = len(ALPHABET)
_RANDOM_LENGTH = 5
_ACCESS_CODE_LENGTH = 8
# Position i (0-5, the check character last) has weight i + 1: all weights are distinct and
# non-zero mod 31, so every single substitution and every transposition of two characters changes
# the weighted sum mod 31. The target constant only makes REFERENCE_EXAMPLE a valid reference.
_WEIGHTS = tuple(range(1, _RANDOM_LENGTH + 2))
_TARGET = 25
_CANONICAL = re.compile(rf"{PREFIX}-[{ALPHABET}]{{4}}-[{ALPHABET}]{{2}}")
_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")
_AMBIGUOUS = frozenset("01ILO")


class InvalidReference(RegisterError, ValueError):
    """A report reference could not be accepted; the code says why (`errors.reference_*`).

    Codes: reference_shape (example), reference_typo, reference_misread_character (character),
    reference_bad_character (character), link_incomplete.
    """


class InvalidAccessCode(RegisterError, ValueError):
    """An access code could not be accepted; the code says why (`errors.access_code_*`).

    Codes: access_code_shape (length, example), access_code_misread_character (character),
    access_code_bad_character (character).
    """


def _reference_shape() -> InvalidReference:
    return InvalidReference("reference_shape", example=REFERENCE_EXAMPLE)


def check_character(body: str) -> str:
    """Return the check character for the 5 random characters of a reference."""
    if len(body) != _RANDOM_LENGTH or any(ch not in _VALUE for ch in body):
        raise ValueError("check_character needs 5 characters from ALPHABET")
    partial = sum(w * _VALUE[ch] for w, ch in zip(_WEIGHTS, body, strict=False))
    # Solve partial + w_last * c == _TARGET (mod 31) for c; w_last is invertible as 31 is prime.
    value = (_TARGET - partial) * pow(_WEIGHTS[-1], -1, _MODULUS) % _MODULUS
    return ALPHABET[value]


def _clean(text: str, kind: str, error: type[RegisterError]) -> str:
    """Uppercase, drop separators and invisible characters; raise error for any other character."""
    out: list[str] = []
    # NFKC turns full-width letters (and digits) from CJK keyboards into ASCII.
    for ch in unicodedata.normalize("NFKC", text).strip():
        if ch in INVISIBLE_CHARS or ch.isspace() or is_dash(ch):
            continue
        digit = to_ascii_digit(ch)
        up = digit if digit is not None else ch.upper()
        if up in _VALUE:
            out.append(up)
        elif up in _AMBIGUOUS:
            raise error(f"{kind}_misread_character", character=ch)
        else:
            raise error(f"{kind}_bad_character", character=ch)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Reference:
    """A report reference in canonical form, e.g. 'SPR-7KQ4-M9'."""

    code: str

    def __post_init__(self) -> None:
        """Refuse anything that is not a canonical reference with a correct check character."""
        if not (isinstance(self.code, str) and _CANONICAL.fullmatch(self.code)):
            raise _reference_shape()
        chars = self.code[4:8] + self.code[9:11]
        if check_character(chars[:_RANDOM_LENGTH]) != chars[_RANDOM_LENGTH]:
            raise InvalidReference("reference_typo")

    @classmethod
    def _from_chars(cls, chars: str) -> Reference:
        """Build from the 6 characters after the prefix."""
        return cls(f"{PREFIX}-{chars[:4]}-{chars[4:]}")

    @classmethod
    def generate(cls) -> Reference:
        """Return a new random reference."""
        body = "".join(secrets.choice(ALPHABET) for _ in range(_RANDOM_LENGTH))
        return cls._from_chars(body + check_character(body))

    @classmethod
    def parse(cls, text: str) -> Reference:
        """Parse a reference leniently (case, spaces, dashes, optional prefix); raise if invalid."""
        chars = _clean(text, "reference", InvalidReference)
        if len(chars) == len(PREFIX) + _RANDOM_LENGTH + 1 and chars.startswith(PREFIX):
            chars = chars[len(PREFIX) :]
        if len(chars) != _RANDOM_LENGTH + 1:
            raise _reference_shape()
        return cls._from_chars(chars)

    @property
    def compact(self) -> str:
        """The reference without dashes, e.g. 'SPR7KQ4M9' (for deep links)."""
        return self.code.replace("-", "")

    def __str__(self) -> str:
        """Return the canonical form."""
        return self.code


def generate_access_code() -> str:
    """Return a new secret access code in canonical form, e.g. 'K7QM-3XDP'."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(_ACCESS_CODE_LENGTH))
    return f"{chars[:4]}-{chars[4:]}"


def normalise_access_code(text: str) -> str:
    """Return the canonical form of an access code typed leniently; raise InvalidAccessCode."""
    chars = _clean(text, "access_code", InvalidAccessCode)
    if len(chars) != _ACCESS_CODE_LENGTH:
        raise InvalidAccessCode(
            "access_code_shape", length=_ACCESS_CODE_LENGTH, example=ACCESS_CODE_EXAMPLE
        )
    return f"{chars[:4]}-{chars[4:]}"


def deep_link_payload(ref: Reference, code: str) -> str:
    """Return the Telegram /start payload for a reference and code, e.g. 'SPR7KQ4M9_K7QM3XDP'."""
    payload = f"{ref.compact}_{normalise_access_code(code).replace('-', '')}"
    assert _PAYLOAD.fullmatch(payload)
    return payload


def parse_deep_link_payload(payload: str) -> tuple[Reference, str]:
    """Return the reference and canonical access code in a /start payload; raise if invalid."""
    if not _PAYLOAD.fullmatch(payload) or payload.count("_") != 1:
        raise InvalidReference("link_incomplete")
    ref_text, code_text = payload.split("_")
    return Reference.parse(ref_text), normalise_access_code(code_text)
