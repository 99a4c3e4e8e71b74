"""Phone number value type: parsing what a victim types into E.164, safe display forms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from models.values.imei import INVISIBLE_CHARS, describe_char, is_dash, to_ascii_digit

__all__ = ["InvalidPhone", "PhoneNumber", "same_number"]

_EXAMPLE = "07700 900123"
_TYPE_ONLY_THE_NUMBER = f"Please type only the number, e.g. {_EXAMPLE}"
_ALLOWED = frozenset("0123456789+ -.()")
# Full-width forms that phone keyboards in some languages produce.
_FULLWIDTH = {"\uff0b": "+", "\uff08": "(", "\uff09": ")", "\uff0e": "."}
_MAX_LENGTH = 40
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
# Visible national digits after the country code; the last 6 digits are never shown.
_MAX_VISIBLE = 4
_HIDDEN_TAIL = 6


class InvalidPhone(ValueError):
    """A phone number the user typed could not be accepted; str(exc) says why, for the user."""


def _clean(text: str) -> str:
    """Drop invisible characters, unify digits, spaces and dashes; raise InvalidPhone otherwise."""
    out: list[str] = []
    for ch in text.strip():
        if ch in INVISIBLE_CHARS:
            continue
        digit = to_ascii_digit(ch)
        if digit is not None:
            out.append(digit)
        elif ch.isspace():
            out.append(" ")
        elif is_dash(ch):
            out.append("-")
        else:
            out.append(_FULLWIDTH.get(ch, ch))
    cleaned = "".join(out).strip()
    for ch in cleaned:
        if ch.isalpha():
            raise InvalidPhone(_TYPE_ONLY_THE_NUMBER)
        if ch not in _ALLOWED:
            raise InvalidPhone(
                f"A phone number can't contain {describe_char(ch)}. {_TYPE_ONLY_THE_NUMBER}"
            )
    if not any(ch.isdigit() for ch in cleaned):
        raise InvalidPhone(f"No number found. {_TYPE_ONLY_THE_NUMBER}")
    if len(cleaned) > _MAX_LENGTH:
        raise InvalidPhone(f"That is too long for a phone number. {_TYPE_ONLY_THE_NUMBER}")
    plus = cleaned.find("+")
    if plus != -1 and (cleaned.count("+") > 1 or any(ch.isdigit() for ch in cleaned[:plus])):
        raise InvalidPhone("Put '+' only once, at the start, e.g. +33 6 12 34 56 78")
    return cleaned


@lru_cache(maxsize=512)
def _region_name(region: str) -> str:
    """Return an English country name for a region code, e.g. 'United Kingdom' for GB."""
    # The geocoder loads ~100 MB of data; only this rare error message needs it.
    from phonenumbers import geocoder

    example = phonenumbers.example_number(region)
    name = geocoder.country_name_for_number(example, "en") if example is not None else ""
    return name or region


def _parse_error_message(exc: NumberParseException) -> str:
    """Translate a phonenumbers parse error into a short message for the user."""
    if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        return (
            "That country code is not recognised. Start with + and the country code, "
            "e.g. +33 6 12 34 56 78"
        )
    if exc.error_type == NumberParseException.TOO_LONG:
        return f"That number is too long. {_TYPE_ONLY_THE_NUMBER}"
    if exc.error_type in (
        NumberParseException.TOO_SHORT_NSN,
        NumberParseException.TOO_SHORT_AFTER_IDD,
    ):
        return "That number is too short. Please check it and type the whole number."
    # NOT_A_NUMBER: the characters were already checked, so too few digits is what is left.
    return f"That number is too short. Please type the whole number, e.g. {_EXAMPLE}"


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A validated phone number in E.164 form, with the region it belongs to."""

    e164: str
    region: str

    def __post_init__(self) -> None:
        """Refuse anything that is not an E.164 string."""
        if not (isinstance(self.e164, str) and _E164.fullmatch(self.e164)):
            raise InvalidPhone("Not an international (E.164) phone number")

    @classmethod
    def parse(cls, text: str, default_region: str = "GB", *, strict: bool = True) -> PhoneNumber:
        """Parse a number as typed; strict requires a valid number, else a possible one."""
        cleaned = _clean(text)
        try:
            number = phonenumbers.parse(cleaned, default_region)
        except NumberParseException as exc:
            raise InvalidPhone(_parse_error_message(exc)) from None
        if strict:
            ok = phonenumbers.is_valid_number(number)
        else:
            # Not is_possible_number(): that also accepts local-only numbers (no area code).
            reason = phonenumbers.is_possible_number_with_reason(number)
            ok = reason == phonenumbers.ValidationResult.IS_POSSIBLE
        if not ok:
            code_region = phonenumbers.region_code_for_country_code(number.country_code)
            where = f"{_region_name(code_region)} (+{number.country_code})"
            message = f"That number does not look complete or valid for {where}."
            if cleaned.startswith(("+", "00")):
                message += " Please check it."
            else:
                home = _region_name(default_region)
                message += (
                    f" If it is not a {home} number, start with + and the country code, "
                    "e.g. +33 6 12 34 56 78"
                )
            raise InvalidPhone(message)
        e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        # A possible-but-invalid number has no exact region; fall back to its country code's.
        region = phonenumbers.region_code_for_number(
            number
        ) or phonenumbers.region_code_for_country_code(number.country_code)
        return cls(e164=e164, region=region)

    @property
    def _number(self) -> phonenumbers.PhoneNumber:
        """The phonenumbers object for this number."""
        return phonenumbers.parse(self.e164, None)

    @property
    def masked(self) -> str:
        """E.164 with the country code and at most 4 more digits shown; the last 6 always hidden."""
        number = self._number
        country = str(number.country_code)
        national = self.e164[1 + len(country) :]
        visible = max(0, min(_MAX_VISIBLE, len(national) - _HIDDEN_TAIL))
        return f"+{country}{national[:visible]}" + "*" * (len(national) - visible)

    @property
    def international(self) -> str:
        """The number in international format for display, e.g. '+44 7781 123456'."""
        return phonenumbers.format_number(self._number, PhoneNumberFormat.INTERNATIONAL)

    def __str__(self) -> str:
        """Return the E.164 form."""
        return self.e164


def same_number(a: PhoneNumber, b: PhoneNumber) -> bool:
    """Return True if both are the same number (E.164 equality)."""
    return a.e164 == b.e164
