"""The TAC check: which brand and model an IMEI's Type Allocation Code belongs to.

An operator imports a TAC table (`reportbot tac import FILE`): the Osmocom TAC database's CSV
or the GSMA's TAC file (docs/data-sources.md). Given an IMEI and the make the victim chose, the
check returns the TAC's brand and model and whether they disagree.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from models.errors import RegisterError
from models.services.datasets import (
    DatasetStore,
    ImportRefused,
    ImportResult,
    Lines,
    Parsed,
    RowRejected,
    clip,
    fields_of,
    lines_of,
    open_text,
)
from models.storage.database import Database
from models.storage.tables import Dataset, TacEntry
from models.values.imei import Imei

DATASET = "tac"
# The entry for a TAC in the generation in use (the primary key: one row at most).
LOOKUP = (
    "SELECT tac_entry.tac, tac_entry.brand, tac_entry.model, tac_entry.brand_key "
    "FROM tac_entry JOIN dataset ON dataset.generation = tac_entry.generation "
    "WHERE dataset.name = :dataset AND tac_entry.tac = :tac"
)
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
OSMOCOM_HEADER = ("tac", "name", "name", "contributor", "comment", "gsmarena", "gsmarena", "aka")
# The makes the conversation offers; "other" is anything else.
KNOWN_MAKES = frozenset({"apple", "samsung", "google"})

_CORPORATE = frozenset(
    {
        "inc", "incorporated", "ltd", "limited", "llc", "plc", "co", "corp", "corporation",
        "company", "gmbh", "ag", "sa", "sas", "spa", "bv", "nv", "oy", "ab", "as", "kk", "pte",
        "pty", "electronics", "electronic", "korea", "mobile", "mobility", "communications",
        "communication", "technology", "technologies", "tech", "telecom", "telecommunications",
        "group", "international", "holdings", "holding", "devices", "device", "the", "and",
        "industrial", "industries", "products", "usa", "us", "uk", "europe", "china", "japan",
    }
)  # fmt: skip
# Makers known under another name in TAC tables.
_BRAND_ALIASES = {
    "hmd": "nokia",
    "hmd global": "nokia",
    "one plus": "oneplus",
    "sony ericsson": "sony",
    "tct": "alcatel",
    "tcl": "alcatel",
    "lge": "lg",
    "beijing xiaomi": "xiaomi",
    "guangdong oppo": "oppo",
    "huawei device": "huawei",
}


class TacFormat(StrEnum):
    """The TAC file formats `reportbot tac import` reads."""

    OSMOCOM = "osmocom"
    GSMA = "gsma"


class BadTacFile(RegisterError):
    """A file that is not a TAC table in a format the register reads."""


def brand_key(text: str) -> str:
    """A maker's name reduced to its brand: "Apple Inc" -> apple, "Samsung Korea" -> samsung."""
    decomposed = unicodedata.normalize("NFKD", text.split(",")[0].split("(")[0])
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    words = re.sub(r"[^a-z0-9]+", " ", plain.replace("&", " and ")).split()
    kept = [word for word in words if word not in _CORPORATE]
    if not kept:
        return " ".join(words)[:32]
    joined = " ".join(kept)
    for candidate in (joined, " ".join(kept[:2]), kept[0]):
        if candidate in _BRAND_ALIASES:
            return _BRAND_ALIASES[candidate]
    return kept[0][:32]


def make_key(make: str) -> str:
    """The register's make as a brand key (`apple`, `samsung`, `google`, or `other`)."""
    return brand_key(make) if make != "other" else "other"


@dataclass(frozen=True, slots=True)
class TacInfo:
    """What the TAC table says about one TAC."""

    tac: str
    brand: str
    model: str
    brand_key: str


@dataclass(frozen=True, slots=True)
class TacCheck:
    """The TAC's brand and model beside the chosen make, and whether they disagree."""

    tac: str
    brand: str
    model: str
    brand_key: str
    chosen_make: str
    mismatch: bool


def disagrees(chosen_make: str, tac_brand_key: str) -> bool:
    """Whether a chosen make contradicts the TAC's brand.

    A make the conversation offers (Apple, Samsung, Google) must be the TAC's brand; "other"
    contradicts a TAC of one of those three makes.
    """
    chosen = make_key(chosen_make)
    if chosen in KNOWN_MAKES:
        return chosen != tac_brand_key
    return tac_brand_key in KNOWN_MAKES


class _SeenTacs:
    """Which TACs a file gave already: one bit per possible TAC (12.5 MB, whatever the file)."""

    def __init__(self) -> None:
        """No TAC seen yet."""
        self._bits = bytearray(10**8 // 8 + 1)

    def add(self, tac: str) -> bool:
        """Mark TAC as seen; False if it was seen already."""
        number = int(tac)
        byte, bit = divmod(number, 8)
        if self._bits[byte] >> bit & 1:
            return False
        self._bits[byte] |= 1 << bit
        return True


def _entry(tac: str, brand: str, model: str, seen: _SeenTacs) -> list[dict[str, Any]]:
    if not (len(tac) == 8 and tac.isascii() and tac.isdigit()):
        raise RowRejected("bad_tac", clip(tac))
    if not brand:
        raise RowRejected("no_brand", tac)
    if not seen.add(tac):
        raise RowRejected("duplicate_tac", tac)
    return [{"tac": tac, "brand": brand[:64], "model": model[:128], "brand_key": brand_key(brand)}]


def _osmocom_rows(lines: Lines) -> Parsed:
    """Osmocom's tacdb CSV: a banner line, the header, then tac,brand,model,... lines."""
    header_seen = False
    seen = _SeenTacs()
    for number, line in lines:
        if isinstance(line, RowRejected):
            yield str(number), line
            continue
        if not header_seen:
            try:
                fields = tuple(field.casefold() for field in fields_of(line))
            except RowRejected:
                fields = ()
            if fields[: len(OSMOCOM_HEADER)] == OSMOCOM_HEADER:
                header_seen = True
            elif number > 2:
                raise BadTacFile("tac_file_header", format=TacFormat.OSMOCOM.value)
            continue
        try:
            fields_list = fields_of(line)
            if len(fields_list) < 3:
                raise RowRejected("too_few_columns", str(len(fields_list)))
            yield str(number), _entry(fields_list[0], fields_list[1], fields_list[2], seen)
        except RowRejected as rejected:
            yield str(number), rejected
    if not header_seen:
        raise BadTacFile("tac_file_header", format=TacFormat.OSMOCOM.value)


def _gsma_rows(lines: Lines) -> Parsed:
    """The GSMA TAC file: pipe-separated with a header naming TAC, Brand Name, Model Name..."""
    columns: dict[str, int] | None = None
    seen = _SeenTacs()
    for number, line in lines:
        if isinstance(line, RowRejected):
            yield str(number), line
            continue
        if columns is None:
            names = [name.strip().casefold() for name in line.split("|")]
            columns = {name: index for index, name in enumerate(names)}
            if "tac" not in columns or not (
                {"brand name", "manufacturer (or) applicant", "manufacturer"} & set(columns)
            ):
                raise BadTacFile("tac_file_header", format=TacFormat.GSMA.value)
            continue
        try:
            fields = fields_of(line, delimiter="|")
            if len(fields) < len(columns):
                raise RowRejected("too_few_columns", str(len(fields)))
            brand = next(
                (
                    fields[columns[name]]
                    for name in ("brand name", "manufacturer (or) applicant", "manufacturer")
                    if name in columns and fields[columns[name]]
                ),
                "",
            )
            model = next(
                (
                    fields[columns[name]]
                    for name in ("model name", "marketing name")
                    if name in columns and fields[columns[name]]
                ),
                "",
            )
            yield str(number), _entry(fields[columns["tac"]], brand, model, seen)
        except RowRejected as rejected:
            yield str(number), rejected
    if columns is None:
        raise BadTacFile("tac_file_header", format=TacFormat.GSMA.value)


def detect_format(head: list[str]) -> TacFormat:
    """Which TAC format a file is, from its first lines."""
    if any("|" in line and "tac" in line.casefold() for line in head[:2]):
        return TacFormat.GSMA
    return TacFormat.OSMOCOM


class TacTable:
    """The imported TAC table: import, look up, check a make."""

    def __init__(self, db: Database) -> None:
        """Bind to the register's database."""
        self.db = db
        self.store = DatasetStore(db, DATASET, TacEntry)

    async def import_file(
        self,
        path: Path,
        *,
        actor: str,
        file_format: TacFormat | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> ImportResult:
        """Replace the TAC table with PATH's (atomically); audited as `tac_import`."""
        text, head = open_text(path, max_bytes=max_bytes)
        with text:
            chosen = file_format or detect_format(head)
            rows = _gsma_rows if chosen is TacFormat.GSMA else _osmocom_rows
            return await self.store.replace(
                rows(lines_of(text)), format_name=chosen.value, actor=actor
            )

    async def info(self) -> Dataset | None:
        """The table in use (format, rows, when imported), or None when none is imported."""
        return await self.store.current()

    async def lookup(self, tac: str) -> TacInfo | None:
        """What the table says about TAC, or None (unknown TAC, or no table imported)."""
        # One plain statement as a job (one trip to the driver): asked at every report.
        rows = await self.db.run(lambda tx: tx.rows(LOOKUP, {"dataset": DATASET, "tac": tac}))
        if not rows:
            return None
        found_tac, brand, model, brand_key = rows[0]
        return TacInfo(found_tac, brand, model, brand_key)

    async def check(self, imei: Imei, make: str) -> TacCheck | None:
        """The TAC's brand and model for IMEI, and whether MAKE disagrees; None if unknown."""
        found = await self.lookup(imei.tac)
        if found is None:
            return None
        return TacCheck(
            tac=found.tac,
            brand=found.brand,
            model=found.model,
            brand_key=found.brand_key,
            chosen_make=make,
            mismatch=disagrees(make, found.brand_key),
        )


__all__ = [
    "BadTacFile",
    "ImportRefused",
    "TacCheck",
    "TacFormat",
    "TacInfo",
    "TacTable",
    "brand_key",
    "disagrees",
]
