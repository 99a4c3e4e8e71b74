"""Export: N reports as CSV, JSON Lines and GeoJSON through `reportbot export`, beside `sqlite3`.

python -m bench.export [--quick] [--size N] [--small N] [--sample N] [--keep PATH]

Each export runs the real command line (`python -m bot export --format F -o FILE`) as its own
process, so that its peak memory (VmHWM, from wait4) is the export's alone; it is run on the big
register and on a register a tenth its size, to show whether memory stays flat. Baseline: the
export's floor (`bench/_export_floor.py`, a process of its own): stdlib sqlite3 reads the same
rows, the register's vault opens the same sealed values and its CSV writer writes the same file
(checked byte for byte against the command's); the same work without the project's overhead.
Also shown: the `sqlite3` command-line tool's `-csv` dump of the same table (no decryption, no
formatting: what reading alone costs). Then, in this process, each
cost of the export is timed alone: decryption (`Vault.open_json` over all N rows), reading the rows
(stdlib sqlite3; the async engine's keyset pages), the ORM stream, building the rows, CSV escaping
and writing, JSON Lines writing. `--keep PATH` builds the big register once and reuses it (keys
and build record beside it, as `bench.register --keep` does; the same file serves both).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as `python bench/export.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from bench._backends import SqliteBackend
from bench._bulk import build_record, kept_ring, large_register_parser, register_size
from bench._targets import at_most
from bench.common import PROJECT_ROOT, Result, benchmark_main, log, ratio, stage
from bench.register import ensure_built
from models.present.jsonlines import JsonLinesWriter
from models.present.rows import COLUMNS, row_of
from models.present.spreadsheet import CsvWriter, csv_cell
from models.sealing.vault import KeyRing, Vault
from models.services.reports import ReportStore, report_context
from models.storage.database import Database
from models.storage.tables import Report

RSS_TARGET_MB = 150.0
FLAT_TARGET = 1.10  # peak memory at N at most 10% above the peak at N/10
FORMATS = ("csv", "jsonl", "geojson")
_ISOLATE = ("DATABASE_URL", "DATABASE_SCHEMA", "DATA_DIR", "DATA_KEYS", "INDEX_KEY", "LOG_LEVEL")
_EXPORTED = re.compile(r"exported (\d+) (?:reports|points|IMEIs)")


@dataclass(frozen=True)
class Sizes:
    """How big this run is."""

    reports: int
    small: int
    sample: int


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of this benchmark."""
    arguments = large_register_parser(__doc__.splitlines()[0])
    arguments.add_argument("--small", type=int, help="reports in the small one (size / 10)")
    arguments.add_argument(
        "--sample", type=int, help="rows for the per-stage timings (200,000; decryption: all)"
    )
    return arguments.parse_args(argv)


def sizes_of(args: argparse.Namespace) -> Sizes:
    """The sizes the options ask for."""
    reports = register_size(args)
    return Sizes(
        reports=reports,
        small=args.small or max(100, reports // 10),
        sample=min(reports, args.sample or (2_000 if args.quick else 200_000)),
    )


@dataclass(frozen=True)
class Register:
    """A built SQLite register and the keys that open it."""

    path: Path
    ring: KeyRing
    reports: int


async def prepare(path: Path, ring: KeyRing, reports: int, meta: Path | None) -> Register:
    """Build the register at PATH (or reuse it, when META records a build)."""
    backend = SqliteBackend(path)
    try:
        await ensure_built(backend, ReportStore(backend.db, Vault(ring)), reports, meta)
    finally:
        await backend.close()
    return Register(path, ring, reports)


# --- the processes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """One process: wall time, peak memory, CPU time, output size, rows written."""

    seconds: float
    peak_rss_mb: float
    cpu_s: float
    output_bytes: int
    rows: int | None

    def figures(self, reports: int) -> dict[str, float]:
        """As JSON figures."""
        return {
            "seconds": self.seconds,
            "rows_per_s": reports / self.seconds,
            "peak_rss_mb": self.peak_rss_mb,
            "cpu_s": self.cpu_s,
            "output_mb": self.output_bytes / 2**20,
        }


# Peak memory of a child counts the memory of whoever forked it (Python forks with vfork), so
# each command is started by a tiny launcher (~6 MB) that forks, execs it and reports wait4's
# rusage: the figure is the command's own peak, floored at the launcher's size.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\nbench-rusage {usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""
_RUSAGE = re.compile(r"bench-rusage (\d+) ([\d.]+)")


def measure_process(command: list[str], env: dict[str, str], cwd: Path, stdout: Path) -> Measured:
    """Run COMMAND to completion; its own peak RSS and CPU time come from its wait4 rusage."""
    launched = [sys.executable, "-I", "-S", "-c", LAUNCHER, *command]
    with stdout.open("wb") as out:
        started = time.perf_counter()
        process = subprocess.run(launched, env=env, cwd=cwd, stdout=out, stderr=subprocess.PIPE)
        seconds = time.perf_counter() - started
    errors = process.stderr.decode(errors="replace")
    usage = _RUSAGE.search(errors)
    if process.returncode != 0 or usage is None:
        raise RuntimeError(f"{' '.join(command[:4])} exited {process.returncode}: {errors[-2000:]}")
    found = _EXPORTED.search(errors)
    return Measured(
        seconds=seconds,
        peak_rss_mb=int(usage.group(1)) / 1024,  # kB on Linux
        cpu_s=float(usage.group(2)),
        output_bytes=stdout.stat().st_size,
        rows=int(found.group(1)) if found else None,
    )


def cli_environment(register: Register, data_dir: Path) -> dict[str, str]:
    """`reportbot`'s environment: this register, its keys, nothing inherited that would differ."""
    env = {key: value for key, value in os.environ.items() if key not in _ISOLATE}
    env.update(register.ring.to_env())
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{register.path}",
        DATA_DIR=str(data_dir),
        PYTHONPATH=str(PROJECT_ROOT),
        LOG_LEVEL="WARNING",
    )
    return env


def export_with_cli(
    register: Register,
    export_format: str,
    scratch: Path,
    *,
    since: str | None = None,
    keep: Path | None = None,
) -> Measured:
    """`python -m bot export --format F -o FILE` as its own process (every report, or SINCE).

    The file is deleted afterwards, unless it is written to KEEP.
    """
    target = keep or scratch / f"export.{export_format}"
    command = [sys.executable, "-m", "bot", "export", "--format", export_format, "-o", str(target)]
    if since is not None:
        command += ["--since", since]
    env = cli_environment(register, scratch / "data")
    try:
        measured = measure_process(command, env, scratch, scratch / "cli.out")
        size = target.stat().st_size
    finally:
        if keep is None:
            target.unlink(missing_ok=True)
    expected = expected_items(register, export_format) if since is None else 0
    if measured.rows != expected:
        raise AssertionError(f"exported {measured.rows} {export_format} items, not {expected}")
    return Measured(measured.seconds, measured.peak_rss_mb, measured.cpu_s, size, measured.rows)


def expected_items(register: Register, export_format: str) -> int:
    """What an export of every report writes: reports, or (GeoJSON) theft and tracked points."""
    if export_format != "geojson":
        return register.reports
    with sqlite3.connect(register.path) as connection:
        (points,) = connection.execute(
            "SELECT count(incident_lat) + count(tracked_lat) FROM report"
        ).fetchone()
    return int(points)


def export_floor(register: Register, scratch: Path, expected: Path) -> Measured:
    """The baseline: the same CSV written by bench/_export_floor.py; it must equal EXPECTED."""
    target = scratch / "floor.csv"
    command = [sys.executable, "-m", "bench._export_floor", str(register.path), str(target)]
    env = cli_environment(register, scratch / "data")
    try:
        measured = measure_process(command, env, PROJECT_ROOT, scratch / "floor.out")
        if target.read_bytes() != expected.read_bytes():
            raise AssertionError("the floor's CSV differs from `reportbot export`'s")
    finally:
        target.unlink(missing_ok=True)
    return measured


def export_with_sqlite3(register: Register, scratch: Path) -> tuple[Measured, str]:
    """The baseline: the sqlite3 command-line tool's CSV dump of the report table."""
    target = scratch / "sqlite3.csv"
    tool = shutil.which("sqlite3")
    try:
        if tool is not None:
            command = [tool, "-csv", str(register.path), "SELECT * FROM report"]
            return measure_process(command, dict(os.environ), scratch, target), "sqlite3 CLI"
        log("no sqlite3 command-line tool: the baseline is stdlib sqlite3 + csv in a process")
        script = (
            "import csv, sqlite3, sys\n"
            "w = csv.writer(sys.stdout)\n"
            "for row in sqlite3.connect(sys.argv[1]).execute('SELECT * FROM report'):\n"
            "    w.writerow(row)\n"
        )
        command = [sys.executable, "-c", script, str(register.path)]
        return measure_process(command, dict(os.environ), scratch, target), "python sqlite3+csv"
    finally:
        target.unlink(missing_ok=True)


# --- each cost alone, in this process -----------------------------------------------------


def per_row_us(seconds: float, rows: int) -> float:
    """Microseconds per row."""
    return seconds / rows * 1e6 if rows else float("nan")


def time_decryption(register: Register, vault: Vault, sample: int) -> dict[str, float]:
    """Vault.open_json over every row (read first, not timed); AES-GCM alone over SAMPLE rows."""
    opened = aes_only = 0.0
    rows = 0
    with sqlite3.connect(register.path) as connection:
        cursor = connection.execute("SELECT reference, sealed FROM report ORDER BY id")
        while chunk := cursor.fetchmany(10_000):
            contexts = [(report_context(reference), sealed) for reference, sealed in chunk]
            started = time.perf_counter()
            for context, sealed in contexts:
                vault.open_json(sealed, context=context)
            opened += time.perf_counter() - started
            if rows < sample:
                started = time.perf_counter()
                for context, sealed in contexts:
                    vault.open(sealed, context=context)
                aes_only += time.perf_counter() - started
            rows += len(chunk)
    aes_rows = min(rows, max(sample, 10_000))
    return {
        "decrypt_s": opened,
        "decrypt_us_per_row": per_row_us(opened, rows),
        "decrypt_aes_only_us_per_row": per_row_us(aes_only, min(rows, aes_rows)),
    }


def time_bare_read(register: Register, sample: int) -> dict[str, float]:
    """Every column of SAMPLE rows through stdlib sqlite3 (no decryption)."""
    with sqlite3.connect(register.path) as connection:
        started = time.perf_counter()
        cursor = connection.execute("SELECT * FROM report WHERE id <= ? ORDER BY id", (sample,))
        rows = 0
        while chunk := cursor.fetchmany(10_000):
            rows += len(chunk)
        seconds = time.perf_counter() - started
    return {"read_stdlib_us_per_row": per_row_us(seconds, rows)}


async def time_async_pages(db: Database, sample: int, page: int = 500) -> dict[str, float]:
    """The stream's keyset pages (500 rows, a session each) as Core rows: no ORM, no decryption."""
    table = Report.__table__
    rows = last = 0
    started = time.perf_counter()
    while rows < sample:
        async with db.read() as session:
            query = select(table).where(table.c.id > last).order_by(table.c.id).limit(page)
            found = (await session.execute(query)).all()
        if not found:
            break
        rows += len(found)
        last = found[-1].id
    return {"read_async_core_us_per_row": per_row_us(time.perf_counter() - started, rows)}


async def time_stream_and_writers(store: ReportStore, sample: int) -> dict[str, float]:
    """ReportStore.stream (ORM + decryption) and each writing step, timed apart, on SAMPLE rows."""
    spent = dict.fromkeys(("stream", "row_of", "csv_cells", "csv_writerow", "csv", "jsonl"), 0.0)
    rows = 0
    with open(os.devnull, "w", encoding="utf-8", newline="") as sink:  # noqa: ASYNC230
        csv_writer = CsvWriter(sink)
        plain = csv.writer(sink, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
        jsonl = JsonLinesWriter(sink)
        reports = store.stream()
        try:
            while rows < sample:
                started = time.perf_counter()
                views = []
                for _ in range(min(5_000, sample - rows)):
                    try:
                        views.append(await anext(reports))
                    except StopAsyncIteration:
                        break
                spent["stream"] += time.perf_counter() - started
                if not views:
                    break
                rows += len(views)
                dicts = _timed(spent, "row_of", lambda views=views: [row_of(v) for v in views])
                cells = _timed(
                    spent,
                    "csv_cells",
                    lambda dicts=dicts: [[csv_cell(d[name]) for name in COLUMNS] for d in dicts],
                )
                _timed(spent, "csv_writerow", lambda cells=cells: plain.writerows(cells))
                _timed(spent, "csv", lambda dicts=dicts: [csv_writer.write(d) for d in dicts])
                _timed(spent, "jsonl", lambda dicts=dicts: [jsonl.write(d) for d in dicts])
        finally:
            await reports.aclose()  # type: ignore[attr-defined]
    figures = {f"{name}_us_per_row": per_row_us(seconds, rows) for name, seconds in spent.items()}
    figures["sample_rows"] = rows
    return figures


def _timed(spent: dict[str, float], name: str, work: Callable[[], object]) -> object:
    started = time.perf_counter()
    value = work()
    spent[name] += time.perf_counter() - started
    return value


async def breakdown(register: Register, sample: int) -> dict[str, float]:
    """Each cost of the export alone: decryption, reading, the ORM stream, rows, CSV, JSON Lines."""
    vault = Vault(register.ring)
    figures: dict[str, float] = {}
    with stage(f"decryption of {register.reports:,} rows"):
        figures.update(await asyncio.to_thread(time_decryption, register, vault, sample))
    figures.update(time_bare_read(register, sample))
    db = Database(f"sqlite+aiosqlite:///{register.path}")
    try:
        with stage(f"async pages, stream and writers over {sample:,} rows"):
            figures.update(await time_async_pages(db, sample))
            figures.update(await time_stream_and_writers(ReportStore(db, vault), sample))
    finally:
        await db.dispose()
    # What the ORM adds over Core rows, once decryption is taken out of the stream.
    figures["orm_and_view_us_per_row"] = (
        figures["stream_us_per_row"]
        - figures["read_async_core_us_per_row"]
        - figures["decrypt_us_per_row"]
    )
    return figures


# --- the run ------------------------------------------------------------------------------


def run_exports(result: Result, register: Register, prefix: str, scratch: Path) -> None:
    """Every format through the CLI, the floor (same CSV) and the sqlite3 dump, on REGISTER."""
    kept = scratch / "cli.csv"
    for export_format in FORMATS:
        with stage(f"{prefix}: reportbot export --format {export_format} ({register.reports:,})"):
            keep = kept if export_format == "csv" else None
            measured = export_with_cli(register, export_format, scratch, keep=keep)
        for key, value in measured.figures(register.reports).items():
            result.figures[f"{prefix}.{export_format}.{key}"] = value
    with stage(f"{prefix}: the floor, the same CSV without the project's overhead"):
        try:
            measured = export_floor(register, scratch, kept)
        finally:
            kept.unlink(missing_ok=True)
    for key, value in measured.figures(register.reports).items():
        result.baseline[f"{prefix}.floor_csv.{key}"] = value
    with stage(f"{prefix}: sqlite3 -csv dump (reading alone)"):
        measured, tool = export_with_sqlite3(register, scratch)
    for key, value in measured.figures(register.reports).items():
        result.baseline[f"{prefix}.sqlite3_csv.{key}"] = value
    result.sizes["dump_tool"] = tool
    for export_format in FORMATS:
        for key in ("seconds", "cpu_s"):
            result.ratio[f"{prefix}.{export_format}.{key}"] = ratio(
                result.figures[f"{prefix}.{export_format}.{key}"],
                result.baseline[f"{prefix}.floor_csv.{key}"],
            )
            result.ratio[f"{prefix}.{export_format}_to_dump.{key}"] = ratio(
                result.figures[f"{prefix}.{export_format}.{key}"],
                result.baseline[f"{prefix}.sqlite3_csv.{key}"],
            )
    # GeoJSON against the CSV export of the same reports (same run, same register).
    points = expected_items(register, "geojson")
    result.figures[f"{prefix}.geojson.points"] = points
    result.figures[f"{prefix}.geojson.points_per_s"] = (
        points / result.figures[f"{prefix}.geojson.seconds"]
    )
    for key in ("seconds", "cpu_s", "rows_per_s"):
        result.ratio[f"{prefix}.geojson_to_csv.{key}"] = ratio(
            result.figures[f"{prefix}.geojson.{key}"], result.figures[f"{prefix}.csv.{key}"]
        )


async def run(args: argparse.Namespace) -> Result:
    """Build (or reuse) both registers, export each both ways, then time each cost alone."""
    sizes = sizes_of(args)
    if args.database_url:
        log("export: SQLite only (the sqlite3 baseline needs a file); --database-url not used")
    result = Result(
        "export",
        sizes={
            "reports": sizes.reports,
            "small_reports": sizes.small,
            "sample_rows": sizes.sample,
            "quick": args.quick,
            "kept": str(args.keep) if args.keep else None,
        },
    )
    with tempfile.TemporaryDirectory(prefix="bench-export-") as folder:
        scratch = Path(folder)
        big_path = args.keep or scratch / "big.db"
        big = await prepare(big_path, kept_ring(args.keep), sizes.reports, build_record(args.keep))
        small = await prepare(scratch / "small.db", KeyRing.generate(), sizes.small, None)
        with stage("the command's floor: an export that selects no report"):
            floor = export_with_cli(small, "csv", scratch, since="2100-01-01")
        result.figures["floor.no_rows.peak_rss_mb"] = floor.peak_rss_mb
        result.figures["floor.no_rows.seconds"] = floor.seconds
        run_exports(result, small, "small", scratch)
        run_exports(result, big, "big", scratch)
        result.figures.update(
            {f"cost.{key}": value for key, value in (await breakdown(big, sizes.sample)).items()}
        )
    for export_format in FORMATS:
        peak = result.figures[f"big.{export_format}.peak_rss_mb"]
        growth = peak / result.figures[f"small.{export_format}.peak_rss_mb"]
        result.ratio[f"{export_format}.peak_rss_big_to_small"] = growth
        result.below(f"big.{export_format}.peak_rss_mb", peak, RSS_TARGET_MB, "MB")
        at_most(result, f"{export_format}.peak_rss_big_to_small", growth, FLAT_TARGET, "")
    return result


main = benchmark_main(run, arguments)


if __name__ == "__main__":
    sys.exit(main())
