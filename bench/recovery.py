"""Bulk recovery at scale: matching seized IMEIs with duplicate detection, and applying in chunks.

python -m bench.recovery [--quick] [--size N] [--keep PATH] [--apply N]

SQLite only: the write lock that a big recovery holds is SQLite's question (PostgreSQL locks rows).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import random
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

if not __package__:  # run as `python bench/recovery.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert

from bench._backends import SqliteBackend
from bench._bulk import (
    _STATUS_CYCLE,
    BuildStats,
    RowMaker,
    build_record,
    build_register,
    kept_ring,
    large_register_parser,
    read_record,
    report_count,
    report_imeis,
    unknown_imei,
)
from bench.common import Result, Timer, benchmark_main, log, median, ratio, stage
from models.register import Register
from models.sealing.vault import Vault
from models.services.recovery import APPLY_CHUNK, SQLITE_GAP_S, ChunkDone, Recovery
from models.services.reports import MATCH_CHUNK, ReportStore, report_context
from models.services.seized import SeizedFile, SeizedImei, read_seized
from models.storage.columns import utcnow
from models.storage.database import SQLITE_BUSY_TIMEOUT_MS, Database
from models.storage.tables import Report, ReportImei, StatusChange, Subscription
from models.values.imei import Imei
from models.values.statuses import OPEN

PLAN_TARGET_S = 1.0
# "Well under the busy timeout": a tenth of it for a lock, a fifth for another writer's wait.
LOCK_TARGET_S = SQLITE_BUSY_TIMEOUT_MS / 1000 / 10
WAIT_TARGET_S = SQLITE_BUSY_TIMEOUT_MS / 1000 / 5
VICTIM_EVERY_S = 0.02


@dataclass(frozen=True)
class Sizes:
    """How big this run is."""

    reports: int
    duplicates: int
    seized: int
    apply: int
    repeats: int


FULL = Sizes(reports=1_000_000, duplicates=1_000, seized=10_000, apply=30_000, repeats=3)
QUICK = Sizes(reports=3_000, duplicates=50, seized=1_000, apply=600, repeats=1)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of this benchmark."""
    arguments = large_register_parser(__doc__.splitlines()[0])
    arguments.add_argument("--apply", type=int, help="matches to apply (default 30,000)")
    return arguments.parse_args(argv)


def sizes_of(args: argparse.Namespace) -> Sizes:
    """The sizes the options ask for."""
    base = QUICK if args.quick else FULL
    return Sizes(
        reports=args.size or base.reports,
        duplicates=base.duplicates,
        seized=base.seized,
        apply=args.apply or base.apply,
        repeats=base.repeats,
    )


def duplicated(sizes: Sizes) -> list[int]:
    """The reports whose first IMEI a later report was filed with again (spread evenly)."""
    step = sizes.reports // sizes.duplicates
    return [n * step for n in range(sizes.duplicates)]


async def add_duplicates(db: Database, store: ReportStore, sizes: Sizes) -> None:
    """File a second report for each of `duplicated(sizes)`, with the same (first) IMEI."""
    maker = RowMaker(store, sizes.reports + sizes.duplicates, seed=11)
    reports, imeis, changes = [], [], []
    for offset, original in enumerate(duplicated(sizes)):
        number = sizes.reports + offset
        report, _, history = maker.rows(number)
        imei = report_imeis(original)[0]
        context = report_context(report["reference"])
        private = store.vault.open_json(report["sealed"], context=context)
        private["imeis"] = [imei]
        report["sealed"] = store.vault.seal_json(private, context=context)
        report["imei_tac"], report["imei_count"] = imei[:8], 1
        reports.append(report)
        imeis.append({"report_id": report["id"], "slot": 1, "imei_hash": store.imei_hash(imei)})
        changes.extend(history)
    async with db.write_engine.begin() as connection:
        await connection.execute(insert(Report.__table__), reports)
        await connection.execute(insert(ReportImei.__table__), imeis)
        await connection.execute(insert(StatusChange.__table__), changes)


async def ensure_built(
    backend: SqliteBackend, store: ReportStore, sizes: Sizes, meta: Path | None
) -> tuple[BuildStats, bool]:
    """Build the register with its duplicates unless META records that build; (stats, reused)."""
    await backend.prepare()
    wanted = {"reports": sizes.reports, "duplicates": sizes.duplicates}
    recorded = await asyncio.to_thread(read_record, meta)
    if recorded is not None:
        total = sizes.reports + sizes.duplicates
        if {k: recorded[k] for k in wanted} != wanted or await report_count(backend.db) != total:
            raise SystemExit(f"{meta} records another build; delete it and its register")
        log(f"reusing the register of {sizes.reports:,} reports (+{sizes.duplicates:,} duplicates)")
        return BuildStats(**recorded["build"]), True
    if await report_count(backend.db):
        raise SystemExit("the register is not empty and has no build record")
    with stage(f"building {sizes.reports:,} reports and {sizes.duplicates:,} duplicates"):
        stats = await build_register(backend.db, store, sizes.reports)
        await add_duplicates(backend.db, store, sizes)
    with contextlib.closing(sqlite3.connect(backend.path)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if meta is not None:
        record = json.dumps({**wanted, "build": asdict(stats)})
        await asyncio.to_thread(meta.write_text, record)
    return stats, False


def seized_file(sizes: Sizes, rng: random.Random) -> tuple[bytes, int]:
    """A file of SIZES.seized IMEIs: every duplicated one, known ones, unknown ones; shuffled."""
    doubled = set(duplicated(sizes))
    known = set(doubled)
    while len(known) < sizes.seized // 2:
        known.add(rng.randrange(sizes.reports))
    # A duplicated report's first IMEI is the one filed twice; others may be either of a pair.
    values = [
        report_imeis(number)[0] if number in doubled else rng.choice(report_imeis(number))
        for number in sorted(known)
    ]
    values += [unknown_imei(number) for number in range(sizes.seized - len(values))]
    rng.shuffle(values)
    return ("IMEI\n" + "\n".join(values) + "\n").encode(), len(known)


async def time_match(
    backend: SqliteBackend, recovery: Recovery, sizes: Sizes, rng: random.Random, result: Result
) -> None:
    """Read the file, match it with duplicate detection (the plan), against the bare match."""
    content, known = seized_file(sizes, rng)
    with Timer() as reading:
        seized = read_seized(io.BytesIO(content))
    hashes = [recovery.reports.imei_hash(item.imei) for item in seized.imeis]
    times: dict[str, list[float]] = {"plan": [], "match": [], "bare_match": []}
    ways = list(times)
    for repeat in range(sizes.repeats):
        for way in ways[repeat % 3 :] + ways[: repeat % 3]:
            with Timer() as timer:
                if way == "plan":
                    plan = await recovery.plan(seized)
                    found = len(plan.matched)
                elif way == "match":
                    found = len(await recovery.reports.match(item.imei for item in seized.imeis))
                else:
                    found = len({row[0] for row in await backend.bare_match(hashes, MATCH_CHUNK)})
            if found != known:
                raise AssertionError(f"{way} matched {found} IMEIs, expected {known}")
            times[way].append(timer.seconds)
    ambiguous = len(plan.ambiguous)
    if not ambiguous:
        raise AssertionError("no seized IMEI was found in two reports")
    result.sizes.update({"seized_known": known, "ambiguous": ambiguous})
    result.figures["read_file_s"] = reading.seconds
    result.figures["plan_s"] = median(times["plan"])
    result.figures["plan_imeis_per_s"] = sizes.seized / result.figures["plan_s"]
    result.figures["match_s"] = median(times["match"])
    result.baseline["bare_match_s"] = median(times["bare_match"])
    result.ratio["plan"] = ratio(result.figures["plan_s"], result.baseline["bare_match_s"])
    result.ratio["plan_vs_match"] = ratio(result.figures["plan_s"], result.figures["match_s"])
    result.below("plan_s", result.figures["plan_s"], PLAN_TARGET_S, "s")


def to_apply(sizes: Sizes) -> list[int]:
    """SIZES.apply open reports that are not duplicated, spread over the register."""
    doubled = set(duplicated(sizes))
    chosen = [
        number
        for number in range(sizes.reports)
        if _STATUS_CYCLE[number % len(_STATUS_CYCLE)] in OPEN and number not in doubled
    ]
    step = max(1, len(chosen) // sizes.apply)
    picked = chosen[::step][: sizes.apply]
    if len(picked) < sizes.apply:
        raise SystemExit(f"the register has only {len(picked):,} open reports to apply")
    return picked


class Victim(threading.Thread):
    """Another process's writes while the recovery runs: a short write transaction every 20 ms,
    through stdlib sqlite3 with the register's busy timeout, each one's wait recorded."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.waits: list[float] = []
        self.failures = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        connection = sqlite3.connect(
            self.path, isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000
        )
        try:
            while not self.stopping.wait(VICTIM_EVERY_S):
                started = time.perf_counter()
                try:
                    connection.execute("BEGIN IMMEDIATE")
                    connection.execute(
                        "INSERT INTO code_attempt (chat_id, at) VALUES (1, '2026-01-01 00:00:00')"
                    )
                    connection.execute("COMMIT")
                except sqlite3.OperationalError:
                    self.failures += 1
                    with contextlib.suppress(sqlite3.OperationalError):
                        connection.execute("ROLLBACK")
                self.waits.append(time.perf_counter() - started)
        finally:
            connection.close()


def remove_copies(scratch: Path) -> None:
    """Delete the copied register (and its WAL) in SCRATCH."""
    for path in scratch.glob("apply.db*"):
        path.unlink()


async def apply_once(
    source: Path, vault: Vault, numbers: list[int], chunk: int, gap: float | None, scratch: Path
) -> dict[str, float]:
    """Apply NUMBERS' matches on a copy of SOURCE in chunks of CHUNK (GAP seconds apart):
    the time, the locks held, and the waits of another process's writes meanwhile."""
    copy = scratch / "apply.db"
    shutil.copyfile(source, copy)
    db = Database(f"sqlite+aiosqlite:///{copy}")
    register = Register(db, vault)
    now = utcnow()
    try:
        async with db.write_engine.begin() as connection:
            # One chat follows each report, so that every chunk queues its notifications too.
            await connection.execute(
                insert(Subscription.__table__),
                [
                    {"report_id": n + 1, "chat_id": 10_000 + n, "via": "bench", "created_at": now}
                    for n in numbers
                ],
            )
        seized = SeizedFile(
            imeis=[SeizedImei(line, Imei(report_imeis(n)[0])) for line, n in enumerate(numbers, 1)]
        )
        recovery = Recovery(db, register.reports, chunk=chunk, gap=gap)
        locks: list[float] = []

        async def after(done: ChunkDone) -> None:
            locks.append(done.seconds)

        victim = Victim(copy)
        victim.start()
        try:
            with Timer() as timer:
                outcome = await recovery.run(
                    seized, actor="bench", dry_run=False, channel="bench", after_chunk=after
                )
        finally:
            victim.stopping.set()
            await asyncio.to_thread(victim.join)
        if len(outcome.recovered) != len(numbers) or outcome.notifications != len(numbers):
            raise AssertionError(
                f"recovered {len(outcome.recovered)}, notified {outcome.notifications}"
            )
        return {
            "apply_s": timer.seconds,
            "reports_per_s": len(numbers) / timer.seconds,
            "chunks": len(locks),
            "longest_lock_s": max(locks),
            "median_lock_s": median(locks),
            "victim_writes": len(victim.waits),
            "victim_max_wait_s": max(victim.waits, default=0.0),
            "victim_failures": victim.failures,
        }
    finally:
        await db.dispose()
        await asyncio.to_thread(remove_copies, scratch)


async def time_apply(
    source: Path, vault: Vault, sizes: Sizes, scratch: Path, result: Result
) -> None:
    """Apply the matches in chunks, and in one transaction as the baseline, on fresh copies."""
    numbers = to_apply(sizes)
    with stage(f"applying {len(numbers):,} matches in chunks of {APPLY_CHUNK}"):
        chunked = await apply_once(source, vault, numbers, APPLY_CHUNK, None, scratch)
    with stage(f"applying {len(numbers):,} matches in chunks, back to back (no gap)"):
        no_gap = await apply_once(source, vault, numbers, APPLY_CHUNK, 0.0, scratch)
    with stage(f"applying {len(numbers):,} matches in one transaction (baseline)"):
        whole = await apply_once(source, vault, numbers, len(numbers), 0.0, scratch)
    for key, value in chunked.items():
        result.figures[f"apply_{key}" if not key.startswith("apply") else key] = value
    for key in ("apply_s", "longest_lock_s", "victim_max_wait_s", "victim_failures"):
        result.figures[f"no_gap_{key}"] = no_gap[key]
        result.baseline[f"one_transaction_{key}"] = whole[key]
    result.ratio["apply"] = ratio(chunked["apply_s"], whole["apply_s"])
    result.ratio["longest_lock"] = ratio(chunked["longest_lock_s"], whole["longest_lock_s"])
    result.below("apply_longest_lock_s", chunked["longest_lock_s"], LOCK_TARGET_S, "s")
    result.below("apply_victim_max_wait_s", chunked["victim_max_wait_s"], WAIT_TARGET_S, "s")
    result.below("apply_victim_failures", chunked["victim_failures"], 1, "writes")


async def run(args: argparse.Namespace) -> Result:
    """Build (or reuse) the register, then time the match and the apply."""
    sizes = sizes_of(args)
    if args.database_url:
        log("--database-url ignored: this benchmark measures SQLite's write lock")
    result = Result(
        "recovery",
        sizes={**asdict(sizes), "quick": args.quick, "chunk": APPLY_CHUNK, "gap_s": SQLITE_GAP_S},
    )
    with tempfile.TemporaryDirectory(prefix="bench-recovery-") as folder:
        scratch = Path(folder)
        path = args.keep or scratch / "register.db"
        meta = build_record(args.keep)
        vault = Vault(kept_ring(args.keep))
        backend = SqliteBackend(path)
        store = ReportStore(backend.db, vault)
        try:
            stats, reused = await ensure_built(backend, store, sizes, meta)
            result.sizes["reused"] = reused
            result.figures.update(stats.figures())
            recovery = Recovery(backend.db, store)
            with stage(f"matching {sizes.seized:,} seized IMEIs x{sizes.repeats}"):
                await time_match(backend, recovery, sizes, random.Random(2024), result)
        finally:
            await backend.close()
        await time_apply(path, vault, sizes, scratch, result)
    return result


main = benchmark_main(run, arguments)


if __name__ == "__main__":
    sys.exit(main())
