"""JSON Lines: one report a line as a JSON object of raw values (UTF-8)."""

from __future__ import annotations

import json
from typing import IO, Any

from models.present.rows import row_of
from models.services.reports import ReportView


class JsonLinesWriter:
    """One JSON object a line, raw values, UTF-8."""

    def __init__(self, out: IO[str]) -> None:
        """Write to the text stream OUT."""
        self._out = out

    def start(self) -> None:
        """JSON Lines has no header."""

    def write(self, row: dict[str, Any]) -> None:
        """Write one report's object."""
        self._out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
        self._out.write("\n")

    def report(self, report: ReportView) -> int:
        """Write REPORT's object; returns 1 (the rows written)."""
        self.write(row_of(report))
        return 1

    def finish(self) -> None:
        """JSON Lines has no trailer."""
