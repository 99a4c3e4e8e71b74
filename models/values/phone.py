"""Phone number value type: parsing what a victim types into E.164, safe display forms."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from models.errors import RegisterError
from models.values.imei import INVISIBLE_CHARS, is_dash, to_ascii_digit

__all__ = ["InvalidPhone", "PhoneNumber", "same_number"]

# Examples shown in the error messages: a national number of the default region (GB), and an
# international one.
EXAMPLE = "07700 900123"
INTERNATIONAL_EXAMPLE = "+33 6 12 34 56 78"
_ALLOWED = frozenset("0123456789+ -.()")
# Full-width forms that phone keyboards in some languages produce.
_FULLWIDTH = {"\uff0b": "+", "\uff08": "(", "\uff09": ")", "\uff0e": "."}
_MAX_LENGTH = 40
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
# Visible national digits after the country code; the last 6 digits are never shown.
_MAX_VISIBLE = 4
_HIDDEN_TAIL = 6


class InvalidPhone(RegisterError, ValueError):
    """A phone number the user typed could not be accepted; the code says why (`errors.phone_*`).

    Codes: phone_letters, phone_bad_character (character), phone_no_digits, phone_too_long,
    phone_plus_placement, phone_bad_country_code, phone_too_short, phone_incomplete (region,
    country_code), phone_incomplete_not_home (region, country_code, home_region),
    phone_not_e164. Every one has `example` (and `international` where it helps).
    """

    def __init__(self, code: str, **params: object) -> None:
        """The code, its parameters, and the examples every message may show."""
        super().__init__(code, example=EXAMPLE, international=INTERNATIONAL_EXAMPLE, **params)


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
            raise InvalidPhone("phone_letters")
        if ch not in _ALLOWED:
            raise InvalidPhone("phone_bad_character", character=ch)
    if not any(ch.isdigit() for ch in cleaned):
        raise InvalidPhone("phone_no_digits")
    if len(cleaned) > _MAX_LENGTH:
        raise InvalidPhone("phone_too_long")
    plus = cleaned.find("+")
    if plus != -1 and (cleaned.count("+") > 1 or any(ch.isdigit() for ch in cleaned[:plus])):
        raise InvalidPhone("phone_plus_placement")
    return cleaned


def _parse_error(exc: NumberParseException) -> InvalidPhone:
    """The coded error for a phonenumbers parse error."""
    if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
        return InvalidPhone("phone_bad_country_code")
    if exc.error_type == NumberParseException.TOO_LONG:
        return InvalidPhone("phone_too_long")
    # TOO_SHORT_NSN, TOO_SHORT_AFTER_IDD, and NOT_A_NUMBER: the characters were already checked,
    # so too few digits is what is left.
    return InvalidPhone("phone_too_short")


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    """A validated phone number in E.164 form, with the region it belongs to."""

    e164: str
    region: str

    def __post_init__(self) -> None:
        """Refuse anything that is not an E.164 string."""
        if not (isinstance(self.e164, str) and _E164.fullmatch(self.e164)):
            raise InvalidPhone("phone_not_e164")

    @classmethod
    def parse(cls, text: str, default_region: str = "GB", *, strict: bool = True) -> PhoneNumber:
        """Parse a number as typed; strict requires a valid number, else a possible one."""
        cleaned = _clean(text)
        try:
            number = phonenumbers.parse(cleaned, default_region)
        except NumberParseException as exc:
            raise _parse_error(exc) from None
        country_code = number.country_code
        assert country_code is not None  # parse() always sets it
        if strict:
            ok = phonenumbers.is_valid_number(number)
        else:
            # Not is_possible_number(): that also accepts local-only numbers (no area code).
            reason = phonenumbers.is_possible_number_with_reason(number)
            ok = reason == phonenumbers.ValidationResult.IS_POSSIBLE
        if not ok:
            code_region = phonenumbers.region_code_for_country_code(country_code)
            where = {"region": code_region, "country_code": str(country_code)}
            if cleaned.startswith(("+", "00")):
                raise InvalidPhone("phone_incomplete", **where)
            raise InvalidPhone("phone_incomplete_not_home", home_region=default_region, **where)
        e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
        # A possible-but-invalid number has no exact region; fall back to its country code's.
        region = phonenumbers.region_code_for_number(
            number
        ) or phonenumbers.region_code_for_country_code(country_code)
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
