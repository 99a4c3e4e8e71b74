"""Register at scale: look-up by IMEI, bulk match and filing on a register of N sealed reports.

python -m bench.register [--quick] [--size N] [--keep PATH] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path

if not __package__:  # run as `python bench/register.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import bindparam, insert, text

from bench._backends import HISTORY_SQL, LOOKUP_SQL, PostgresBackend, SqliteBackend
from bench._bulk import (
    BuildStats,
    RowMaker,
    build_record,
    build_register,
    imei_digits,
    kept_ring,
    large_register_parser,
    read_record,
    reference_of,
    report_count,
    report_imeis,
    unknown_imei,
)
from bench.common import (
    Result,
    Timer,
    benchmark_main,
    latency_ms,
    log,
    median,
    percentile,
    ratio,
    stage,
)
from models.sealing.vault import Vault
from models.services.reports import MATCH_CHUNK, NewReport, ReportStore, report_context
from models.storage.columns import utcnow
from models.storage.tables import Report, ReportImei, StatusChange, table_of
from models.values.imei import Imei
from models.values.phone import PhoneNumber

LOOKUP_TARGET_MS = 2.0
REPORT, REPORT_IMEI = table_of(Report), table_of(ReportImei)
STATUS_CHANGE = table_of(StatusChange)
MATCH_TARGET_S = 2.0
Backend = SqliteBackend | PostgresBackend
Probe = Callable[[Imei], Awaitable[str]]


@dataclass(frozen=True)
class Sizes:
    """How big this run is."""

    reports: int
    lookups: int
    match: int
    repeats: int
    warmup: int = 50
    filings: int = 500


FULL = Sizes(reports=1_000_000, lookups=5_000, match=10_000, repeats=3)
QUICK = Sizes(reports=2_000, lookups=200, match=1_000, repeats=1, warmup=20, filings=100)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of this benchmark."""
    arguments = large_register_parser(__doc__.splitlines()[0])
    arguments.add_argument("--lookups", type=int, help="timed look-ups (default 5,000)")
    return arguments.parse_args(argv)


def sizes_of(args: argparse.Namespace) -> Sizes:
    """The sizes the options ask for."""
    base = QUICK if args.quick else FULL
    return Sizes(
        reports=args.size or base.reports,
        lookups=args.lookups or base.lookups,
        match=base.match,
        repeats=base.repeats,
        warmup=base.warmup,
        filings=base.filings,
    )


def write_record(meta: Path | None, reports: int, stats: BuildStats) -> None:
    """Record a finished build beside a kept register (so the next run reuses it)."""
    if meta is not None:
        meta.write_text(json.dumps({"reports": reports, "build": asdict(stats)}))


async def ensure_built(
    backend: Backend, store: ReportStore, reports: int, meta: Path | None
) -> tuple[BuildStats, bool, int]:
    """Build the register unless META records an earlier build; (stats, reused, reports held).

    A kept register also holds the reports earlier runs filed (past the built ones).
    """
    await backend.prepare()
    recorded = await asyncio.to_thread(read_record, meta)
    if recorded is not None:
        held = await report_count(backend.db)
        if recorded["reports"] != reports or held < reports:
            raise SystemExit(
                f"{meta} records {recorded['reports']:,} reports; "
                f"pass --size {recorded['reports']} or delete it and its register"
            )
        log(f"{backend.name}: reusing the register of {reports:,} reports ({held:,} held)")
        return BuildStats(**recorded["build"]), True, held
    if await report_count(backend.db):
        # A build that stopped half-way leaves reports but no record.
        raise SystemExit(f"{backend.name}: the register is not empty and has no build record")
    with stage(f"{backend.name}: building {reports:,} reports"):
        stats = await build_register(backend.db, store, reports)
    await asyncio.to_thread(write_record, meta, reports, stats)
    return stats, False, reports


def probes(backend: Backend, store: ReportStore) -> dict[str, Probe]:
    """Three ways to look up an IMEI, each returning the reference found."""
    lookup = text(LOOKUP_SQL.format(hash=":hash"))
    history = text(HISTORY_SQL.format(ids="IN :ids")).bindparams(bindparam("ids", expanding=True))

    async def find_by_imei(imei: Imei) -> str:
        return (await store.find_by_imei(imei))[0].reference

    async def raw_query(imei: Imei) -> str:
        async with backend.db.read() as session:
            reports = (await session.execute(lookup, {"hash": store.imei_hash(imei)})).all()
            ids = [row.id for row in reports]
            (await session.execute(history, {"ids": ids})).all()
        return reports[0].reference

    async def bare(imei: Imei) -> str:
        reports, _ = await backend.bare_lookup(store.imei_hash(imei))
        return reports[0][1]

    return {"find_by_imei": find_by_imei, "raw_query": raw_query, "bare_lookup": bare}


async def time_lookups(
    backend: Backend, store: ReportStore, sizes: Sizes, rng: random.Random
) -> dict[str, list[float]]:
    """Seconds per look-up of random present IMEIs, the three ways interleaved."""
    ways = list(probes(backend, store).items())
    samples: dict[str, list[float]] = {name: [] for name, _ in ways}
    for turn in range(sizes.warmup + sizes.lookups):
        number = rng.randrange(sizes.reports)
        imei = Imei(rng.choice(report_imeis(number)))
        # Rotating who goes first spreads the machine's noise evenly over the three.
        for step in range(len(ways)):
            name, probe = ways[(turn + step) % len(ways)]
            started = time.perf_counter()
            found = await probe(imei)
            elapsed = time.perf_counter() - started
            if found != reference_of(number):
                raise AssertionError(f"{name} found {found}, not {reference_of(number)}")
            if turn >= sizes.warmup:
                samples[name].append(elapsed)
    return samples


def lookup_latency_ms(samples: list[float], prefix: str) -> dict[str, float]:
    """p50, p95, p99 and max of look-up SAMPLES (seconds) in milliseconds."""
    return {**latency_ms(samples, prefix), f"{prefix}_p95_ms": percentile(samples, 95) * 1000}


def seized_imeis(sizes: Sizes, rng: random.Random) -> tuple[list[Imei], int]:
    """SIZES.match IMEIs, half in the register and half unknown, shuffled; and how many known."""
    known = rng.sample(range(sizes.reports), min(sizes.reports, sizes.match // 2))
    seized = [Imei(rng.choice(report_imeis(number))) for number in known]
    seized += [Imei(unknown_imei(number)) for number in range(sizes.match - len(seized))]
    rng.shuffle(seized)
    return seized, len(known)


async def time_match(
    backend: Backend, store: ReportStore, sizes: Sizes, rng: random.Random
) -> dict[str, list[float]]:
    """Seconds per bulk match through ReportStore.match and through the bare driver."""
    seized, known = seized_imeis(sizes, rng)
    times: dict[str, list[float]] = {"match": [], "bare_match": []}
    for repeat in range(sizes.repeats):
        for way in ("match", "bare_match") if repeat % 2 == 0 else ("bare_match", "match"):
            with Timer() as timer:
                if way == "match":
                    found = len(await store.match(seized))
                else:
                    hashes = [store.imei_hash(imei) for imei in seized]
                    found = len(await backend.bare_match(hashes, MATCH_CHUNK))
            if found != known:
                raise AssertionError(f"{way} matched {found} IMEIs, expected {known}")
            times[way].append(timer.seconds)
    return times


async def measure(backend: Backend, vault: Vault, sizes: Sizes, meta: Path | None) -> Result:
    """Every figure of one backend, keyed without the backend's prefix."""
    store = ReportStore(backend.db, vault)
    result = Result("register")
    stats, reused, held = await ensure_built(backend, store, sizes.reports, meta)
    result.sizes["reused"] = reused
    result.figures.update(stats.figures())
    rng = random.Random(2024)
    with stage(f"{backend.name}: {sizes.lookups:,} look-ups, three ways"):
        samples = await time_lookups(backend, store, sizes, rng)
    for name in ("find_by_imei", "raw_query"):
        result.figures.update(lookup_latency_ms(samples[name], name))
    result.baseline.update(lookup_latency_ms(samples["bare_lookup"], "bare_lookup"))
    for name in ("find_by_imei", "raw_query"):
        for p in ("p50", "p99"):
            result.ratio[f"{name}_{p}"] = ratio(
                result.figures[f"{name}_{p}_ms"], result.baseline[f"bare_lookup_{p}_ms"]
            )
    with stage(f"{backend.name}: matching {sizes.match:,} seized IMEIs x{sizes.repeats}"):
        times = await time_match(backend, store, sizes, rng)
    result.figures["match_s"] = median(times["match"])
    result.figures["match_best_s"] = min(times["match"])
    result.figures["match_imeis_per_s"] = sizes.match / result.figures["match_s"]
    result.baseline["bare_match_s"] = median(times["bare_match"])
    result.ratio["match"] = ratio(result.figures["match_s"], result.baseline["bare_match_s"])
    with stage(f"{backend.name}: size on disk"):
        result.figures.update(await backend.size_figures(sizes.reports))
    with stage(f"{backend.name}: {sizes.filings:,} filings, two ways"):
        filing = await time_filing(backend, store, sizes, first=held)
    result.figures.update(latency_ms(filing["file"], "file"))
    result.figures["file_cpu_ms"] = sum(filing["file_cpu"]) / len(filing["file_cpu"]) * 1000
    result.baseline.update(latency_ms(filing["bare_file"], "bare_file"))
    result.baseline["bare_file_cpu_ms"] = sum(filing["bare_cpu"]) / len(filing["bare_cpu"]) * 1000
    result.ratio["file_p50"] = ratio(
        result.figures["file_p50_ms"], result.baseline["bare_file_p50_ms"]
    )
    result.ratio["file_cpu"] = ratio(
        result.figures["file_cpu_ms"], result.baseline["bare_file_cpu_ms"]
    )
    p99 = result.figures["find_by_imei_p99_ms"]
    result.below("find_by_imei_p99_ms", p99, LOOKUP_TARGET_MS, "ms")
    result.below("match_s", result.figures["match_s"], MATCH_TARGET_S, "s")
    return result


def new_report(number: int) -> NewReport:
    """What a victim would tell us for new report NUMBER (two IMEIs, a tracked point)."""
    first, second = imei_digits(2 * number), imei_digits(2 * number + 1)
    return NewReport(
        make="samsung",
        model="Galaxy S21",
        contact_name="Jo Bloggs",
        contact_phone=PhoneNumber.parse(f"+4477{number % 10**8:08d}"),
        imeis=(Imei(first), Imei(second)),
        place="Whitechapel Road",
        incident_lat=51.52,
        incident_lon=-0.06,
        tracked_lat=51.54,
        tracked_lon=0.03,
        tracked_at=utcnow(),
        contact_email=f"victim{number}@example.org",
    )


async def bare_file(backend: Backend, maker: RowMaker, number: int) -> None:
    """The floor: report NUMBER's rows (sealed and hashed as filing does) in one transaction."""
    report, imeis, changes = maker.rows(number)
    report.pop("id")
    async with backend.db.write_engine.begin() as connection:
        report_id = (
            await connection.execute(insert(REPORT).values(report).returning(REPORT.c.id))
        ).scalar_one()
        await connection.execute(
            insert(REPORT_IMEI), [{**row, "report_id": report_id} for row in imeis]
        )
        await connection.execute(insert(STATUS_CHANGE), [{**changes[0], "report_id": report_id}])


async def time_filing(
    backend: Backend, store: ReportStore, sizes: Sizes, *, first: int
) -> dict[str, list[float]]:
    """Seconds (wall, CPU) per filing through ReportStore.file and the bare floor, from FIRST."""
    maker = RowMaker(store, sizes.reports)
    times: dict[str, list[float]] = {"file": [], "bare_file": [], "file_cpu": [], "bare_cpu": []}
    for turn in range(sizes.filings):
        # Numbers past every report held (a kept register keeps earlier runs' filings): new
        # references and IMEIs; the two ways alternate.
        number = first + 2 * turn
        for way in ("file", "bare_file") if turn % 2 == 0 else ("bare_file", "file"):
            cpu, started = time.process_time(), time.perf_counter()
            if way == "file":
                filed = await store.file(new_report(number), f"filing-{number}")
                assert filed.created
            else:
                await bare_file(backend, maker, number + 1)
            times[way].append(time.perf_counter() - started)
            times["file_cpu" if way == "file" else "bare_cpu"].append(time.process_time() - cpu)
    return times


def vault_figures(vault: Vault, store: ReportStore, rounds: int) -> dict[str, float]:
    """Microseconds to open one report's sealed data and to compute one blind index."""
    report, _, _ = RowMaker(store, 1).rows(0)
    context = report_context(report["reference"])
    with Timer() as opening:
        for _ in range(rounds):
            vault.open_json(report["sealed"], context=context)
    with Timer() as hashing:
        for number in range(rounds):
            store.imei_hash(str(number))
    return {
        "vault_open_json_us": opening.seconds / rounds * 1e6,
        "blind_index_us": hashing.seconds / rounds * 1e6,
    }


def merge(into: Result, part: Result, prefix: str) -> None:
    """Copy PART's figures into INTO under PREFIX."""
    for section in ("figures", "baseline", "ratio", "targets"):
        target = getattr(into, section)
        for key, value in getattr(part, section).items():
            target[f"{prefix}.{key}"] = value
    into.sizes[f"{prefix}_reused"] = part.sizes["reused"]


async def run(args: argparse.Namespace) -> Result:
    """Measure on SQLite, and on PostgreSQL when a server is given."""
    sizes = sizes_of(args)
    result = Result("register", sizes={**asdict(sizes), "quick": args.quick, "backends": []})
    with tempfile.TemporaryDirectory(prefix="bench-register-") as scratch:
        path = args.keep or Path(scratch) / "register.db"
        meta = build_record(args.keep)
        vault = Vault(kept_ring(args.keep))
        backends: list[Backend] = [SqliteBackend(path)]
        if args.database_url:
            backends.append(PostgresBackend(args.database_url))
        for backend in backends:
            try:
                kept = meta if backend.name == "sqlite" else None
                part = await measure(backend, vault, sizes, kept)
            finally:
                await backend.close()
            merge(result, part, backend.name)
            result.sizes["backends"].append(backend.name)
        store = ReportStore(backends[0].db, vault)
        result.figures.update(vault_figures(vault, store, 2_000 if args.quick else 20_000))
    return result


main = benchmark_main(run, arguments)


if __name__ == "__main__":
    sys.exit(main())
