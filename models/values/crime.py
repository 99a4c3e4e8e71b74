"""The police's own references: a crime reference number (checked loosely) and the force."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from models.errors import RegisterError
from models.values.imei import is_dash, remove_invisible
from models.values.reference import InvalidReference, Reference

__all__ = [
    "FORCES",
    "BadCrimeReference",
    "PoliceForce",
    "UnknownPoliceForce",
    "normalise_crime_reference",
]

MIN_LENGTH = 4
MAX_LENGTH = 30
MIN_DIGITS = 3
_ALLOWED = re.compile(r"[A-Z0-9/.\- ]+")


class BadCrimeReference(RegisterError):
    """Text that cannot be a crime reference number."""


class UnknownPoliceForce(RegisterError):
    """A police force the register does not know."""


def normalise_crime_reference(text: str) -> str:
    """A crime reference as police write it (upper case, one space), checked loosely.

    Forces number crimes differently (the Met's `1234567/24`, Action Fraud's `NFRC2401...`,
    others with letters and dashes), so only the shape is checked: 4-30 characters of letters,
    digits, `/`, `-`, `.` and spaces, with at least three digits, and not one of our own
    report references (victims mix the two up).
    """
    cleaned = remove_invisible(unicodedata.normalize("NFKC", text))
    cleaned = "".join("-" if is_dash(ch) else ch for ch in cleaned)
    cleaned = " ".join(cleaned.upper().split())
    if not cleaned:
        raise BadCrimeReference("crime_reference_empty")
    if len(cleaned) > MAX_LENGTH:
        raise BadCrimeReference("crime_reference_too_long", limit=MAX_LENGTH)
    if not _ALLOWED.fullmatch(cleaned):
        bad = next(ch for ch in cleaned if not _ALLOWED.fullmatch(ch))
        raise BadCrimeReference("crime_reference_character", character=bad)
    try:
        Reference.parse(cleaned)
    except InvalidReference:
        pass
    else:
        raise BadCrimeReference("crime_reference_is_ours")
    if len(cleaned) < MIN_LENGTH or sum(ch.isdigit() for ch in cleaned) < MIN_DIGITS:
        raise BadCrimeReference("crime_reference_too_short")
    return cleaned


# The UK's territorial forces, British Transport Police, Police Scotland and the PSNI:
# code -> name. Codes are what the register stores and exports.
FORCES: dict[str, str] = {
    "avon-somerset": "Avon and Somerset Constabulary",
    "bedfordshire": "Bedfordshire Police",
    "btp": "British Transport Police",
    "cambridgeshire": "Cambridgeshire Constabulary",
    "cheshire": "Cheshire Constabulary",
    "city-of-london": "City of London Police",
    "cleveland": "Cleveland Police",
    "cumbria": "Cumbria Constabulary",
    "derbyshire": "Derbyshire Constabulary",
    "devon-cornwall": "Devon and Cornwall Police",
    "dorset": "Dorset Police",
    "durham": "Durham Constabulary",
    "dyfed-powys": "Dyfed-Powys Police",
    "essex": "Essex Police",
    "gloucestershire": "Gloucestershire Constabulary",
    "greater-manchester": "Greater Manchester Police",
    "gwent": "Gwent Police",
    "hampshire": "Hampshire and Isle of Wight Constabulary",
    "hertfordshire": "Hertfordshire Constabulary",
    "humberside": "Humberside Police",
    "kent": "Kent Police",
    "lancashire": "Lancashire Constabulary",
    "leicestershire": "Leicestershire Police",
    "lincolnshire": "Lincolnshire Police",
    "merseyside": "Merseyside Police",
    "metropolitan": "Metropolitan Police Service",
    "norfolk": "Norfolk Constabulary",
    "north-wales": "North Wales Police",
    "north-yorkshire": "North Yorkshire Police",
    "northamptonshire": "Northamptonshire Police",
    "northumbria": "Northumbria Police",
    "nottinghamshire": "Nottinghamshire Police",
    "psni": "Police Service of Northern Ireland",
    "scotland": "Police Scotland",
    "south-wales": "South Wales Police",
    "south-yorkshire": "South Yorkshire Police",
    "staffordshire": "Staffordshire Police",
    "suffolk": "Suffolk Constabulary",
    "surrey": "Surrey Police",
    "sussex": "Sussex Police",
    "thames-valley": "Thames Valley Police",
    "warwickshire": "Warwickshire Police",
    "west-mercia": "West Mercia Police",
    "west-midlands": "West Midlands Police",
    "west-yorkshire": "West Yorkshire Police",
    "wiltshire": "Wiltshire Police",
}
# Names people use that the tidied official names do not cover.
_ALIASES = {
    "met": "metropolitan",
    "mps": "metropolitan",
    "the met": "metropolitan",
    "scotland yard": "metropolitan",
    "new scotland yard": "metropolitan",
    "col": "city-of-london",
    "colp": "city-of-london",
    "city": "city-of-london",
    "gmp": "greater-manchester",
    "manchester": "greater-manchester",
    "transport": "btp",
    "northern ireland": "psni",
    "hampshire and isle of wight": "hampshire",
    "avon and somerset": "avon-somerset",
    "devon and cornwall": "devon-cornwall",
}
_NOISE = frozenset({"police", "service", "constabulary", "force", "the", "of"})


def _tidy(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.replace("&", " and ")
    words = re.sub(r"[^a-z0-9]+", " ", plain).split()
    return " ".join(words)


def _key(text: str) -> str:
    return " ".join(word for word in _tidy(text).split() if word not in _NOISE)


_BY_NAME: dict[str, str] = {}
for _code, _name in FORCES.items():
    _BY_NAME[_key(_name)] = _code
    _BY_NAME[_key(_code.replace("-", " "))] = _code
for _alias, _code in _ALIASES.items():
    _BY_NAME[_key(_alias) or _tidy(_alias)] = _code


@dataclass(frozen=True, slots=True)
class PoliceForce:
    """A police force, by its code."""

    code: str

    def __post_init__(self) -> None:
        """Refuse codes that are not in FORCES."""
        if self.code not in FORCES:
            raise UnknownPoliceForce("police_force_unknown")

    @property
    def name(self) -> str:
        """The force's official name."""
        return FORCES[self.code]

    @classmethod
    def parse(cls, text: str) -> PoliceForce:
        """A force from its code, its name or a common short name ("Met", "BTP", "GMP")."""
        if text.strip().casefold() in FORCES:
            return cls(text.strip().casefold())
        code = _BY_NAME.get(_key(text)) or _BY_NAME.get(_tidy(text))
        if code is None:
            raise UnknownPoliceForce("police_force_unknown")
        return cls(code)

    def __str__(self) -> str:
        """The code."""
        return self.code
