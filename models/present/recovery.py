"""A recovery's answer as a CSV file: every line of the seized file and what became of it.

The same spreadsheet-safe CSV as the export (UTF-8 with a BOM, CRLF, text quoted and neutralised
against formula injection), whether it goes to a file (`reportbot recover --out`, written under a
temporary name and renamed when complete) or to a chat as a document.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import IO

from models.services.export import BOM, csv_cell
from models.services.recovery import RESULT_COLUMNS, RecoveryPlan, result_rows
from models.services.seized import MalformedLine
from models.storage.files import atomic_write

ReasonOf = Callable[[MalformedLine], str]


def write_results(plan: RecoveryPlan, out: IO[str], reason_of: ReasonOf | None = None) -> int:
    """Write PLAN's rows to OUT (a text stream opened with newline=''); returns the row count.

    REASON_OF puts a malformed line's reason into words (see `result_rows`).
    """
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(RESULT_COLUMNS)
    rows = result_rows(plan, reason_of)
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return len(rows)


def results_bytes(plan: RecoveryPlan, reason_of: ReasonOf | None = None) -> bytes:
    """PLAN's rows as the bytes of a CSV file (for a chat: at most 100,000 short rows)."""
    out = io.StringIO(newline="")
    write_results(plan, out, reason_of)
    return out.getvalue().encode("utf-8")


def write_results_file(plan: RecoveryPlan, target: Path, reason_of: ReasonOf | None = None) -> int:
    """Write PLAN's rows to TARGET atomically: complete, or not at all; returns the row count."""
    with atomic_write(target) as out:
        return write_results(plan, out, reason_of)
