"""CSV that opens safely in a spreadsheet: RFC 4180, UTF-8 with a BOM, no formula injection."""

from __future__ import annotations

import csv
from typing import IO, Any

from models.present.rows import COLUMNS, row_of
from models.services.reports import ReportView

# OWASP "CSV Injection": a cell starting with one of these may run as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_TRIGGERS = frozenset(FORMULA_TRIGGERS)
BOM = "\ufeff"


def csv_cell(value: Any) -> str | float:
    """One CSV cell: text neutralised against formula injection; numbers we wrote stay numbers."""
    if value.__class__ is str:
        return "'" + value if value[:1] in _TRIGGERS else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        # Our own coordinates, never user text: a negative longitude must stay a number.
        return value
    return csv_cell(str(value))


class CsvWriter:
    """RFC 4180 CSV (CRLF, quotes doubled) in UTF-8 with a BOM so that Excel reads it right.

    Every text cell is quoted and numbers are not, so that importers that honour quotes
    (LibreOffice's "quoted field as text", pandas, csv.QUOTE_NONNUMERIC readers) keep IMEIs
    and phone numbers as text.
    """

    def __init__(self, out: IO[str]) -> None:
        """Write to the text stream OUT (opened with newline='')."""
        self._out = out
        self._csv = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)

    def start(self) -> None:
        """Write the BOM and the header."""
        self._out.write(BOM)
        self._csv.writerow(COLUMNS)

    def write(self, row: dict[str, Any]) -> None:
        """Write one report's row."""
        self._csv.writerow([csv_cell(row[name]) for name in COLUMNS])

    def report(self, report: ReportView) -> int:
        """Write REPORT's row; returns 1 (the rows written)."""
        self.write(row_of(report))
        return 1

    def finish(self) -> None:
        """CSV has no trailer."""
