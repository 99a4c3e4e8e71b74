"""The export's floor: the same sealed rows opened and the same CSV written, with nothing else.

python -m bench._export_floor REGISTER.db OUT.csv  (keys from DATA_KEYS and INDEX_KEY)

Stdlib sqlite3 reads every report in one pass; each sealed value is opened with the register's
vault and the row is written by the register's own CSV writer (`CsvWriter`, `row_of`). What it
leaves out is the project's overhead: the async engine and its keyset pages, the ORM objects,
the command line, the audit entry. The benchmark checks that both files are byte for byte equal.
"""

from __future__ import annotations

import os
import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

if not __package__:  # run as a file: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.present.spreadsheet import CsvWriter
from models.sealing.vault import KeyRing, Vault
from models.services.reports import ReportView, report_context, report_language
from models.values.statuses import Status

TIMES = (
    "created_at",
    "status_changed_at",
    "incident_at",
    "tracked_at",
    "duplicate_imei_at",
    "incident_from",
    "incident_to",
)
COLUMNS = (
    "id, reference, status, created_at, status_changed_at, make, platform, imei_tac, "
    "incident_at, theft_method, incident_lat, incident_lon, tracked_lat, tracked_lon, "
    "tracked_at, own_account, sealed, duplicate_imei_at, language, loss_kind, incident_from, "
    "incident_to, crime_reference, police_force, tac_make, tac_model, tac_mismatch, "
    "incident_point_source, incident_point_precision, tracked_point_source, "
    "tracked_point_precision"
)


def _time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def export(database: Path, out: Path, vault: Vault) -> int:
    """Write every report of DATABASE to OUT as the register's CSV; how many rows."""
    connection = sqlite3.connect(database)
    connection.row_factory = sqlite3.Row
    written = 0
    with out.open("w", encoding="utf-8", newline="") as stream:
        writer = CsvWriter(stream)
        writer.start()
        for row in connection.execute(f"SELECT {COLUMNS} FROM report ORDER BY id"):
            values = dict(row)
            sealed = values.pop("sealed")
            private = vault.open_json(sealed, context=report_context(values["reference"]))
            for name in TIMES:
                values[name] = _time(values[name])
            for flag in ("own_account", "tac_mismatch"):
                if values[flag] is not None:
                    values[flag] = bool(values[flag])
            values["status"] = Status(values["status"])
            values["language"] = report_language(values["language"], private)
            written += writer.report(ReportView(private=private, **values))
        writer.finish()
    connection.close()
    return written


def main() -> None:
    """Export the file named first to the file named second."""
    ring = KeyRing.parse(os.environ["DATA_KEYS"], os.environ["INDEX_KEY"])
    rows = export(Path(sys.argv[1]), Path(sys.argv[2]), Vault(ring))
    print(f"exported {rows} reports", file=sys.stderr)


if __name__ == "__main__":
    main()
