"""The block-list feed as CSV: `imei,reporting_date,status` (and `change_type` in a delta).

The columns and values lost-and-stolen systems exchange (the DIRBS list format): IMEIs as their
15 digits, dates as YYYYMMDD, status `blacklist`; comma-separated, a header line, LF line ends,
UTF-8 (only ASCII occurs). docs/export-formats.md.
"""

from __future__ import annotations

import csv
from typing import IO

from models.services.blocklist import Listed

HEADER = ("imei", "reporting_date", "status")
DELTA_HEADER = (*HEADER, "change_type")


class BlockListWriter:
    """Writes the full list, or with DELTA a list of changes."""

    def __init__(self, out: IO[str], *, delta: bool = False) -> None:
        """Write to the text stream OUT (opened with newline='')."""
        self._csv = csv.writer(out, lineterminator="\n")
        self.delta = delta

    def start(self) -> None:
        """Write the header."""
        self._csv.writerow(DELTA_HEADER if self.delta else HEADER)

    def entry(self, listed: Listed) -> int:
        """Write one IMEI; returns 1 (the lines written)."""
        row = [listed.imei, listed.reporting_date.strftime("%Y%m%d"), listed.status]
        if self.delta:
            row.append(listed.change_type or "")
        self._csv.writerow(row)
        return 1

    def finish(self) -> None:
        """The feed has no trailer."""
