"""A fast bulk-builder of N sealed reports: the rows ReportStore.file writes, inserted in batches.

Content is deterministic in the report's number, so a benchmark can name IMEIs that are in the
register (and IMEIs that cannot be) without storing them; the keys are the caller's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from bench.common import Timer, log, parser
from models.sealing.keyfile import load_or_create_key_file
from models.sealing.vault import KeyRing, Vault
from models.services.reports import ReportStore, platform_of, report_context
from models.storage.database import Database
from models.storage.tables import Report, ReportImei, StatusChange
from models.values.imei import luhn_check_digit
from models.values.reference import ALPHABET, PREFIX, check_character
from models.values.statuses import Status

PRESENT_PREFIX = "35"  # every IMEI in a built register starts so ...
UNKNOWN_PREFIX = "86"  # ... and none starts so
DUAL_EVERY = 3  # every third report is a dual-SIM phone with two IMEIs
# Multipliers coprime to the modulus make i -> (i * M + C) % modulus a bijection: distinct
# numbers for distinct reports, yet scattered like real ones (B-tree inserts are not sequential).
_SERIALS = 10**12
_SERIAL_MULTIPLIER = 7_919_000_003
_REFERENCES = len(ALPHABET) ** 5
_REFERENCE_MULTIPLIER = 1_000_003
MAX_REPORTS = _REFERENCES  # the reference space: 31**5 = 28,629,151
SQLITE_BUILD_CACHE_KB = 262_144  # a big page cache for the builder's connection only

_MAKES = ("apple", "samsung", "google", "xiaomi", "apple", "samsung", "apple", "oneplus")
_MODELS = ("iPhone 15", "Galaxy S23", "Pixel 8", "Redmi Note 12", "iPhone 13", "Galaxy A54")
_COLOURS = ("black", "blue, cracked corner", "silver with a green case", "white", "purple")
_NETWORKS = ("Vodafone", "EE", "O2", "Three", "giffgaff", None)
_METHODS = ("snatched_moped", "pickpocket", "robbery", "left_behind", "burglary", None)
_PLACES = (
    "Oxford Street by Bond Street station",
    "the 25 bus towards Ilford, upper deck",
    "outside the Tesco on Mare Street",
    "Camden Market near the lock",
)
_NAMES = ("Alex Example", "Sam Jones", "Priya Patel", "Jamie O'Neill", "Chen Wei", "Zoë Müller")
_CHANNELS = ("telegram", "email", "phone")
# A report's status by its number modulo 20: mostly open or closed, as a live register is.
_STATUS_CYCLE = (
    *[Status.SUBMITTED] * 7,
    *[Status.UNDER_REVIEW] * 3,
    Status.LOCATED,
    Status.RECOVERED,
    Status.RETURNED,
    *[Status.CLOSED] * 6,
    Status.WITHDRAWN,
)


FULL_SIZE = 1_000_000  # reports in a benchmark's register, unless told
QUICK_SIZE = 2_000  # ... and with --quick


def large_register_parser(description: str) -> argparse.ArgumentParser:
    """The options of a benchmark on a large register: --size and --keep, with parser()'s."""
    arguments = parser(description)
    arguments.add_argument("--size", type=int, help=f"reports in the register ({FULL_SIZE:,})")
    arguments.add_argument(
        "--keep", type=Path, metavar="PATH", help="SQLite register to build once and reuse"
    )
    return arguments


def register_size(args: argparse.Namespace) -> int:
    """How many reports the options ask for."""
    return int(args.size or (QUICK_SIZE if args.quick else FULL_SIZE))


def kept_ring(keep: Path | None) -> KeyRing:
    """The keys of the register kept at KEEP (made on first use, beside it), or new keys."""
    if keep is None:
        return KeyRing.generate()
    return load_or_create_key_file(keep.with_name(keep.name + ".keys.json"))


def build_record(keep: Path | None) -> Path | None:
    """Where the build of the register kept at KEEP is recorded (None: nothing is kept)."""
    return keep.with_name(keep.name + ".bench.json") if keep else None


def read_record(meta: Path | None) -> dict | None:
    """The build recorded at META (see `build_record`), or None."""
    if meta is None or not meta.exists():
        return None
    return json.loads(meta.read_text())


def imei_digits(serial: int, prefix: str = PRESENT_PREFIX) -> str:
    """A valid 15-digit IMEI, distinct for each serial number."""
    body = prefix + f"{(serial * _SERIAL_MULTIPLIER + 104_729) % _SERIALS:012d}"
    return body + luhn_check_digit(body)


def report_imeis(number: int) -> list[str]:
    """The IMEIs of report NUMBER (0-based) in a built register: one, or two for dual SIMs."""
    first = imei_digits(2 * number)
    return [first, imei_digits(2 * number + 1)] if number % DUAL_EVERY == 0 else [first]


def unknown_imei(number: int) -> str:
    """A valid IMEI that no built register holds."""
    return imei_digits(number, UNKNOWN_PREFIX)


def reference_of(number: int) -> str:
    """The (unique) reference of report NUMBER."""
    value = (number * _REFERENCE_MULTIPLIER + 12_345) % _REFERENCES
    chars = []
    for _ in range(5):
        value, digit = divmod(value, len(ALPHABET))
        chars.append(ALPHABET[digit])
    body = "".join(chars)
    code = body + check_character(body)
    return f"{PREFIX}-{code[:4]}-{code[4:]}"


@dataclass
class BuildStats:
    """How much was built and how long it took, split into preparing rows and inserting them."""

    reports: int = 0
    imeis: int = 0
    status_changes: int = 0
    seconds: float = 0.0
    prepare_seconds: float = 0.0
    insert_seconds: float = 0.0

    @property
    def rows(self) -> int:
        """Every row inserted."""
        return self.reports + self.imeis + self.status_changes

    def figures(self) -> dict[str, float]:
        """The build's figures for a benchmark's JSON line."""
        return {
            "build_s": self.seconds,
            "build_reports_per_s": self.reports / self.seconds if self.seconds else 0.0,
            "build_rows_per_s": self.rows / self.seconds if self.seconds else 0.0,
            "build_prepare_share": self.prepare_seconds / self.seconds if self.seconds else 0.0,
        }


class RowMaker:
    """Makes the rows of report NUMBER exactly as ReportStore.file would store them."""

    def __init__(self, store: ReportStore, reports: int, *, seed: int = 7) -> None:
        """Spread REPORTS creation times over the two years before now."""
        self.store = store
        self.vault: Vault = store.vault
        self.rng = random.Random(seed)
        self.end = datetime.now(UTC).replace(microsecond=0)
        self.step = timedelta(days=730) / max(reports, 1)
        self.start = self.end - timedelta(days=730)

    def rows(self, number: int) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict]]:
        """(report row, report_imei rows, status_change rows) of report NUMBER (id NUMBER+1)."""
        rng = self.rng
        report_id = number + 1
        reference = reference_of(number)
        imeis = report_imeis(number)
        code = "".join(rng.choices(ALPHABET, k=8))
        code = f"{code[:4]}-{code[4:]}"
        make = _MAKES[number % len(_MAKES)]
        contact_phone = f"+4477{number % 10**8:08d}"
        stolen = f"+4474{(number * 7) % 10**8:08d}" if number % 10 < 7 else None
        created = self.start + self.step * number
        status = _STATUS_CYCLE[number % len(_STATUS_CYCLE)]
        changed = created + timedelta(hours=1 + number % 300)
        tracked = number % 5 == 0
        # The same keys, order and sealing context as ReportStore._insert.
        private = {
            "model": _MODELS[number % len(_MODELS)],
            "colour": _COLOURS[number % len(_COLOURS)],
            "imeis": imeis,
            "stolen_number": stolen,
            "network": _NETWORKS[number % len(_NETWORKS)],
            "place": _PLACES[number % len(_PLACES)],
            "tracked_place": "Find My shows a flat on Romford Road" if tracked else None,
            "contact_name": _NAMES[number % len(_NAMES)],
            "contact_phone": contact_phone,
            "contact_region": "GB",
            "contact_email": f"victim{number}@example.org" if number % 2 else None,
            "preferred_channel": _CHANNELS[number % len(_CHANNELS)],
            "language": "en",
            "access_code": code,
        }
        report = {
            "id": report_id,
            "reference": reference,
            "idempotency_key": f"bench-{number}",
            "status": status.value,
            "created_at": created,
            "status_changed_at": changed if status is not Status.SUBMITTED else created,
            "incident_at": created - timedelta(minutes=30 + number % 600),
            "make": make,
            "platform": platform_of(make),
            "theft_method": _METHODS[number % len(_METHODS)],
            "imei_tac": imeis[0][:8],
            "imei_count": len(imeis),
            "incident_lat": 51.5 + (number % 1000) / 10_000,
            "incident_lon": -0.1 - (number % 777) / 10_000,
            "tracked_lat": 51.54 if tracked else None,
            "tracked_lon": 0.03 if tracked else None,
            "tracked_at": created + timedelta(minutes=20) if tracked else None,
            "own_account": number % 4 == 0,
            "contact_phone_hash": self.vault.blind_index("phone", contact_phone),
            "stolen_phone_hash": self.vault.blind_index("phone", stolen) if stolen else None,
            "access_code_hash": self.store._code_hash(reference, code),
            "sealed": self.vault.seal_json(private, context=report_context(reference)),
        }
        imei_rows = [
            {"report_id": report_id, "slot": slot, "imei_hash": self.store.imei_hash(imei)}
            for slot, imei in enumerate(imeis, start=1)
        ]
        changes: list[dict[str, Any]] = [
            {
                "report_id": report_id,
                "status": Status.SUBMITTED.value,
                "changed_at": created,
                "actor": "victim",
                "actor_id": None,
            }
        ]
        if status is not Status.SUBMITTED:
            changes.append(
                {
                    "report_id": report_id,
                    "status": status.value,
                    "changed_at": changed,
                    "actor": "staff:bench",
                    "actor_id": 1_000 + number % 50,
                }
            )
        return report, imei_rows, changes


async def report_count(db: Database) -> int:
    """How many reports the database holds."""
    async with db.read() as session:
        return (await session.execute(select(func.count()).select_from(Report))).scalar_one()


async def build_register(
    db: Database,
    store: ReportStore,
    reports: int,
    *,
    batch: int = 5_000,
    per_transaction: int = 100_000,
) -> BuildStats:
    """Insert REPORTS sealed reports (with IMEIs and history) into an empty, migrated DB."""
    if reports > MAX_REPORTS:
        raise ValueError(f"at most {MAX_REPORTS:,} reports: the reference space is full")
    if await report_count(db):
        raise ValueError("the register is not empty")
    maker = RowMaker(store, reports)
    stats = BuildStats()
    inserts = (Report.__table__.insert(), ReportImei.__table__.insert())
    change_insert = StatusChange.__table__.insert()
    with Timer() as total:
        for first in range(0, reports, per_transaction):
            last = min(reports, first + per_transaction)
            async with db.write_engine.begin() as connection:
                if db.is_sqlite:
                    await connection.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_BUILD_CACHE_KB}")
                for start in range(first, last, batch):
                    with Timer() as prepare:
                        report_rows, imei_rows, change_rows = [], [], []
                        for number in range(start, min(last, start + batch)):
                            report, imeis, changes = maker.rows(number)
                            report_rows.append(report)
                            imei_rows.extend(imeis)
                            change_rows.extend(changes)
                    with Timer() as insert:
                        await connection.execute(inserts[0], report_rows)
                        await connection.execute(inserts[1], imei_rows)
                        await connection.execute(change_insert, change_rows)
                    stats.prepare_seconds += prepare.seconds
                    stats.insert_seconds += insert.seconds
                    stats.reports += len(report_rows)
                    stats.imeis += len(imei_rows)
                    stats.status_changes += len(change_rows)
            elapsed = time.perf_counter() - total.start
            log(
                f"built {stats.reports:,}/{reports:,} reports "
                f"({stats.reports / elapsed:,.0f} reports/s)"
            )
        await _after_build(db)
    stats.seconds = total.seconds
    return stats


async def _after_build(db: Database) -> None:
    async with db.write_engine.begin() as connection:
        if db.is_sqlite:
            await connection.exec_driver_sql("PRAGMA cache_size=-2000")
        else:
            # Explicit ids leave the sequence behind; the next filed report would collide.
            await connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('report', 'id'), "
                    "(SELECT max(id) FROM report))"
                )
            )
    if db.is_sqlite:
        # Outside any transaction (the engine's connections always BEGIN): fold the WAL in.
        with contextlib.closing(sqlite3.connect(str(db.url.database))) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        # After a bulk load the planner needs statistics (autovacuum would gather them later).
        async with db.write_engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.exec_driver_sql("ANALYZE")
