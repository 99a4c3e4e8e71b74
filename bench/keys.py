"""Keys: the start-up key check and `keys rotate` on a register of a million reports.

python -m bench.keys [--quick] [--reports N] [--repeats N] [--database-url URL]

Builds a register sealed under key k1, then times, with DATA_KEYS=k2,k1:
- the start-up check (`verify_keys`: which key ids are in use, from the indexed key-id columns);
- baselines in the same run: reading every report's sealed value to find its key id (what the
  check would cost without the key-id column), and SELECT DISTINCT over the key-id index;
- the rotation of every report to k2: rows a second, and the longest write transaction (on
  SQLite the lock a running bot's writes wait for; on PostgreSQL only the batch's rows are
  locked), then the check again (after the rotation's VACUUM on PostgreSQL).
SQLite always; PostgreSQL too with --database-url.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if not __package__:  # run as `python bench/keys.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from bench._backends import PostgresBackend, SqliteBackend
from bench._bulk import build_register
from bench.common import Result, Timer, emit, log, median, parser, ratio, stage
from models.sealing.keycheck import verify_keys
from models.sealing.vault import KeyRing, Vault
from models.services.reports import ReportStore
from models.services.rotation import DEFAULT_BATCH, KeyRotation
from models.storage.tables import Report

OLD = KeyRing.generate("k1")
NEW = OLD.rotated("k2")
# The start-up check must not slow a start (a start takes about a second) at this size.
CHECK_TARGET_MS = 50.0
# A victim's write waits at most this long for one rotation batch (busy timeout is 15 s).
LOCK_TARGET_MS = 500.0


def arguments(argv: list[str] | None = None) -> Any:
    """The command line of this benchmark."""
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--reports", type=int, help="reports in the register (1,000,000)")
    arguments.add_argument("--repeats", type=int, help="start-up checks timed (20)")
    return arguments.parse_args(argv)


class TimedRotation(KeyRotation):
    """The real rotation, timing each write transaction."""

    def __init__(self, *args: Any) -> None:
        """Start with no transaction timed."""
        super().__init__(*args)
        self.write_seconds: list[float] = []

    async def _write(self, column, fresh, outcome):  # type: ignore[no-untyped-def]
        """Time the real write."""
        with Timer() as timer:
            changed = await super()._write(column, fresh, outcome)
        if fresh:
            self.write_seconds.append(timer.seconds)
        return changed


async def scan_sealed(backend: Any) -> set[str]:
    """Baseline: every report's sealed value read and its key id taken from the header."""
    vault = Vault(NEW)
    found: set[str] = set()
    last = 0
    while True:
        async with backend.db.read() as session:
            rows = (
                await session.execute(
                    select(Report.id, Report.sealed)
                    .where(Report.id > last)
                    .order_by(Report.id)
                    .limit(10_000)
                )
            ).all()
        if not rows:
            return found
        found.update(vault.key_id_of(row.sealed) for row in rows)
        last = rows[-1].id


async def select_distinct(backend: Any) -> set[str]:
    """Baseline: SELECT DISTINCT over the key-id index (reads every entry of it)."""
    async with backend.db.read() as session:
        return set((await session.execute(select(Report.key_id).distinct())).scalars())


async def measure(backend: Any, reports: int, repeats: int, result: Result) -> None:
    """Build, time the check and its baselines, then rotate; figures prefixed by the backend."""
    name = backend.name
    await backend.prepare()
    with stage(f"{name}: build {reports:,} reports under k1"):
        await build_register(backend.db, ReportStore(backend.db, Vault(OLD)), reports)
    await verify_keys(backend.db, Vault(OLD))  # the register adopts its keys
    checks = []
    for _ in range(repeats):
        with Timer() as timer:
            await verify_keys(backend.db, Vault(NEW))
        checks.append(timer.seconds)
    with stage(f"{name}: baseline, every sealed value read") as scanned:
        assert await scan_sealed(backend) == {"k1"}
    distinct_times = []
    for _ in range(max(3, repeats // 4)):
        with Timer() as timer:
            assert await select_distinct(backend) == {"k1"}
        distinct_times.append(timer.seconds)
    rotation = TimedRotation(backend.db, Vault(NEW))
    with stage(f"{name}: rotate {reports:,} reports to k2") as rotated:
        outcome = await rotation.rotate(batch_size=DEFAULT_BATCH)
    assert outcome.tables[0].resealed == reports, outcome
    with Timer() as after:
        await verify_keys(backend.db, Vault(KeyRing(keys=NEW.keys[:1], index_key=OLD.index_key)))
    check_ms = median(checks) * 1000
    scan_ms = scanned.seconds * 1000
    lock_max_ms = max(rotation.write_seconds) * 1000
    result.figures[f"{name}_startup_check_p50_ms"] = check_ms
    result.figures[f"{name}_startup_check_max_ms"] = max(checks) * 1000
    result.figures[f"{name}_check_after_rotation_ms"] = after.seconds * 1000
    result.figures[f"{name}_rotate_rows_per_s"] = reports / rotated.seconds
    result.figures[f"{name}_rotate_seconds"] = rotated.seconds
    result.figures[f"{name}_rotate_write_p50_ms"] = median(rotation.write_seconds) * 1000
    result.figures[f"{name}_rotate_write_max_ms"] = lock_max_ms
    result.baseline[f"{name}_scan_sealed_ms"] = scan_ms
    result.baseline[f"{name}_select_distinct_p50_ms"] = median(distinct_times) * 1000
    result.ratio[f"{name}_check_vs_scan"] = ratio(check_ms, scan_ms)
    result.ratio[f"{name}_check_vs_distinct"] = ratio(check_ms, median(distinct_times) * 1000)
    result.below(f"{name}_startup_check_p50_ms", check_ms, CHECK_TARGET_MS, "ms")
    if backend.name == "sqlite":
        # SQLite's write lock is the whole database's; PostgreSQL locks only the batch's rows.
        result.below(f"{name}_rotate_write_max_ms", lock_max_ms, LOCK_TARGET_MS, "ms")
    log(
        f"{name}: check {check_ms:.1f} ms (scan {scan_ms:.0f} ms); rotation "
        f"{reports / rotated.seconds:,.0f} rows/s, longest write {lock_max_ms:.0f} ms"
    )


async def main(argv: list[str] | None = None) -> int:
    """Run on SQLite (and PostgreSQL), print the JSON line."""
    args = arguments(argv)
    reports = args.reports or (5_000 if args.quick else 1_000_000)
    repeats = args.repeats or (5 if args.quick else 20)
    result = Result("keys", sizes={"reports": reports, "repeats": repeats, "batch": DEFAULT_BATCH})
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-keys-") as folder:
        backends: list[Any] = [SqliteBackend(Path(folder) / "register.db")]
        if args.database_url:
            backends.append(PostgresBackend(args.database_url))
        for backend in backends:
            try:
                await measure(backend, reports, repeats, result)
            finally:
                await backend.close()
    log(f"done in {time.perf_counter() - started:.0f} s")
    return emit(result, quick=args.quick)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
