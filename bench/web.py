"""Web console at scale: search by IMEI, a report's page, the filtered list, an export, over HTTP.

python -m bench.web [--quick] [--size N] [--samples N] [--keep PATH] [--pages-only]

Builds (or, with --keep, reuses) a SQLite register of N reports (1,000,000; --quick: 2,000),
starts the real `reportbot web` process on it, signs an admin in through a one-time link from
`reportbot staff login-link`, and times what staff do, request by request, from the client:
- search by IMEI (POST /search) and a report's page (GET /report/REF): p50 and p95 in ms, each
  against the bare SQL it stands on (stdlib sqlite3 on the same file: the IMEI look-up with the
  history; the report by reference with its history), in the same run;
- the reports list with filters (GET /reports: any time, submitted, with an IMEI, tracked):
  p50 and p95, against the bare filtered SELECT (a page of 50) and its COUNT up to 10,001;
- an export of every report as CSV started from the browser's form (POST /export), read as it
  streams: wall time against `reportbot export --format csv` on the same register, and the
  console process's peak memory (VmHWM) before and after it, which must stay flat.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as `python bench/web.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from bench._backends import SqliteBackend
from bench._bulk import (
    build_record,
    kept_ring,
    large_register_parser,
    reference_of,
    register_size,
    report_imeis,
)
from bench.common import PROJECT_ROOT, Result, emit, log, percentile, proc_status_kb, stage
from bench.export import Register, cli_environment, export_with_cli, prepare
from models.sealing.vault import Vault
from models.services.listing import COUNT_CAP
from models.services.reports import ReportStore
from models.services.staff import Role, StaffStore
from models.storage.database import Database
from models.values.imei import Imei

ADMIN = 777_000_001
SEARCH_P95_TARGET_MS = 250.0
REPORT_P95_TARGET_MS = 250.0
LIST_P95_TARGET_MS = 1000.0
EXPORT_PEAK_TARGET_MB = 200.0
EXPORT_GROWTH_TARGET_MB = 30.0
START_TIMEOUT_S = 120.0
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
HIDDEN = re.compile(r'name="(token|nonce)" value="([^"]+)"')
BARE_REPORT_SQL = "SELECT * FROM report WHERE reference = ?"
BARE_HISTORY_SQL = "SELECT * FROM status_change WHERE report_id = ? ORDER BY changed_at, id"
LIST_FILTERS = {"period": "all", "status": "submitted", "imei": "yes", "tracked": "yes"}
BARE_LIST_WHERE = (
    "status = 'submitted' AND imei_count > 0 "
    "AND (tracked_lat IS NOT NULL OR tracked_at IS NOT NULL)"
)
# What the list runs: a page of 50 (and one to know there is more) newest first, and its total
# counted up to COUNT_CAP + 1 ("more than 10,000").
BARE_LIST_SQL = (
    "SELECT id, reference, status, make, created_at FROM report WHERE "
    f"{BARE_LIST_WHERE} ORDER BY id DESC LIMIT 51"
)
BARE_COUNT_SQL = (
    f"SELECT count(*) FROM (SELECT 1 FROM report WHERE {BARE_LIST_WHERE} LIMIT {COUNT_CAP + 1})"
)


@dataclass(frozen=True)
class Sizes:
    """How big this run is."""

    reports: int
    samples: int
    warmup: int


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of this benchmark."""
    arguments = large_register_parser(__doc__.splitlines()[0])
    arguments.add_argument("--samples", type=int, help="timed requests of each kind (500)")
    arguments.add_argument(
        "--pages-only", action="store_true", help="time the pages, not the export (faster)"
    )
    return arguments.parse_args(argv)


def sizes_of(args: argparse.Namespace) -> Sizes:
    """The sizes the options ask for."""
    reports = register_size(args)
    samples = args.samples or (40 if args.quick else 500)
    return Sizes(reports=reports, samples=samples, warmup=5 if args.quick else 30)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def p50_p95(samples: list[float], prefix: str) -> dict[str, float]:
    """p50 and p95 of SAMPLES (seconds) in ms, keyed PREFIX.p50_ms and PREFIX.p95_ms."""
    return {
        f"{prefix}.p50_ms": percentile(samples, 50) * 1000,
        f"{prefix}.p95_ms": percentile(samples, 95) * 1000,
    }


class Console:
    """The `reportbot web` process on REGISTER, and an admin's browser session on it."""

    def __init__(self, register: Register, scratch: Path) -> None:
        """Serve REGISTER from a process with its own folder under SCRATCH."""
        self.register = register
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **cli_environment(register, scratch / "data"),
            "WEB_BASE_URL": self.base_url,
        }
        self.scratch = scratch
        self.process: subprocess.Popen[bytes] | None = None
        self.client = httpx.AsyncClient(base_url=self.base_url, timeout=600)

    async def start(self) -> None:
        """Start the process and wait until it answers."""
        log_file = (self.scratch / "console.log").open("wb")
        self.process = subprocess.Popen(  # noqa: ASYNC220 (started once; the loop waits on it)
            [sys.executable, "-m", "bot", "web", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            cwd=PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.process.poll() is not None:
                raise RuntimeError((self.scratch / "console.log").read_text(errors="replace"))
            try:
                await self.client.get("/static/console.css")
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)

    async def sign_in(self) -> str:
        """Sign the admin in with a link from `reportbot staff login-link`; the CSRF token."""
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot", "staff", "login-link", str(ADMIN)],
            env=self.env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        link = next(word for word in done.stdout.split() if word.startswith(self.base_url))
        page = await self.client.get(link.removeprefix(self.base_url))
        fields = dict(HIDDEN.findall(page.text))
        answer = await self.client.post("/signin", data=fields)
        if answer.status_code != 303:
            raise RuntimeError(f"sign-in answered {answer.status_code}")
        found = CSRF.search((await self.client.get("/search")).text)
        if found is None:
            raise RuntimeError("no form token on the search page")
        return found.group(1)

    def memory_mb(self, field: str) -> float:
        """The process's VmRSS or VmHWM in MiB."""
        assert self.process is not None
        return (proc_status_kb(field, self.process.pid) or 0) / 1024

    async def stop(self) -> None:
        """Stop the process."""
        await self.client.aclose()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                await asyncio.to_thread(self.process.wait, 30)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def timed(
    work: Callable[[int], Awaitable[None]], numbers: list[int], warmup: int
) -> list[float]:
    """Run WORK for each number (the first WARMUP untimed); the timed durations in seconds."""
    for number in numbers[:warmup]:
        await work(number)
    samples = []
    for number in numbers[warmup:]:
        started = time.perf_counter()
        await work(number)
        samples.append(time.perf_counter() - started)
    return samples


async def add_admin(register: Register) -> None:
    """The admin who signs in (the register's staff table, as `reportbot staff add` writes it)."""
    db = Database(f"sqlite+aiosqlite:///{register.path}")
    try:
        await StaffStore(db).add(ADMIN, Role.ADMIN, added_by="bench")
    finally:
        await db.dispose()


async def measure_pages(
    result: Result, console: Console, register: Register, csrf: str, sizes: Sizes
) -> None:
    """Search by IMEI, the report page and the filtered list, each against its bare SQL."""
    rng = random.Random(20261204)
    numbers = [rng.randrange(register.reports) for _ in range(sizes.warmup + sizes.samples)]
    backend = SqliteBackend(register.path)
    store = ReportStore(backend.db, Vault(register.ring))
    bare = sqlite3.connect(register.path)
    client = console.client

    async def search(number: int) -> None:
        imei = report_imeis(number)[0]
        answer = await client.post("/search", data={"query": imei, "by": "", "csrf": csrf})
        if answer.status_code != 200 or reference_of(number) not in answer.text:
            raise RuntimeError(f"search for report {number} answered {answer.status_code}")

    async def bare_search(number: int) -> None:
        imei_hash = store.imei_hash(Imei.parse(report_imeis(number)[0]))
        reports, _ = await backend.bare_lookup(imei_hash)
        if not reports:
            raise RuntimeError("bare look-up found nothing")

    async def report_page(number: int) -> None:
        answer = await client.get(f"/report/{reference_of(number)}")
        if answer.status_code != 200:
            raise RuntimeError(f"report page {number} answered {answer.status_code}")

    async def bare_report(number: int) -> None:
        row = bare.execute(BARE_REPORT_SQL, (reference_of(number),)).fetchone()
        bare.execute(BARE_HISTORY_SQL, (row[0],)).fetchall()

    async def listing(_: int) -> None:
        answer = await client.get("/reports", params=LIST_FILTERS)
        if answer.status_code != 200:
            raise RuntimeError(f"reports list answered {answer.status_code}")

    async def bare_listing(_: int) -> None:
        bare.execute(BARE_LIST_SQL).fetchall()
        bare.execute(BARE_COUNT_SQL).fetchone()

    list_numbers = numbers[: sizes.warmup + max(10, sizes.samples // 5)]
    try:
        for name, work, base, chosen in (
            ("search_imei", search, bare_search, numbers),
            ("report_page", report_page, bare_report, numbers),
            ("reports_list", listing, bare_listing, list_numbers),
        ):
            with stage(f"{name}: {len(chosen) - sizes.warmup} requests, then the bare SQL"):
                figures = p50_p95(await timed(work, chosen, sizes.warmup), name)
                baseline = p50_p95(await timed(base, chosen, sizes.warmup), f"{name}.bare_sql")
            result.figures.update(figures)
            result.baseline.update(baseline)
            for p in ("p50_ms", "p95_ms"):
                result.ratio[f"{name}.{p}"] = (
                    figures[f"{name}.{p}"] / baseline[f"{name}.bare_sql.{p}"]
                    if baseline[f"{name}.bare_sql.{p}"]
                    else None
                )
    finally:
        bare.close()
        await backend.close()
    result.below(
        "search_imei.p95_ms", result.figures["search_imei.p95_ms"], SEARCH_P95_TARGET_MS, "ms"
    )
    result.below(
        "report_page.p95_ms", result.figures["report_page.p95_ms"], REPORT_P95_TARGET_MS, "ms"
    )
    result.below(
        "reports_list.p95_ms", result.figures["reports_list.p95_ms"], LIST_P95_TARGET_MS, "ms"
    )


async def measure_export(result: Result, console: Console, register: Register, csrf: str) -> None:
    """Every report as CSV from the browser's form, read as it streams; memory before and after."""
    before = console.memory_mb("VmHWM")
    received = lines = 0
    started = time.perf_counter()
    form = {"period": "all", "format": "csv", "csrf": csrf}
    async with console.client.stream("POST", "/export", data=form) as answer:
        if answer.status_code != 200:
            raise RuntimeError(f"export answered {answer.status_code}")
        async for chunk in answer.aiter_bytes():
            received += len(chunk)
            lines += chunk.count(b"\n")
    seconds = time.perf_counter() - started
    after = console.memory_mb("VmHWM")
    rows = lines - 1  # the header
    if rows != register.reports:
        raise RuntimeError(f"the export has {rows} rows, not {register.reports}")
    result.figures.update(
        {
            "export_csv.seconds": seconds,
            "export_csv.rows_per_s": rows / seconds,
            "export_csv.mb": received / 2**20,
            "export_csv.console_peak_before_mb": before,
            "export_csv.console_peak_after_mb": after,
            "export_csv.console_growth_mb": after - before,
        }
    )
    with stage(f"baseline: reportbot export --format csv ({register.reports:,})"):
        cli = await asyncio.to_thread(export_with_cli, register, "csv", console.scratch)
    result.baseline["export_csv.cli_seconds"] = cli.seconds
    result.baseline["export_csv.cli_peak_rss_mb"] = cli.peak_rss_mb
    result.ratio["export_csv.seconds"] = seconds / cli.seconds
    result.below("export_csv.console_peak_after_mb", after, EXPORT_PEAK_TARGET_MB, "MB")
    result.below("export_csv.console_growth_mb", after - before, EXPORT_GROWTH_TARGET_MB, "MB")


async def run(args: argparse.Namespace) -> Result:
    """Build or reuse the register, serve it, and time the console's pages and an export."""
    sizes = sizes_of(args)
    if args.database_url:
        log("web: SQLite only (the bare baseline reads the file); --database-url not used")
    result = Result(
        "web",
        sizes={
            "reports": sizes.reports,
            "samples": sizes.samples,
            "quick": args.quick,
            "kept": str(args.keep) if args.keep else None,
            "list_filters": LIST_FILTERS,
        },
    )
    with tempfile.TemporaryDirectory(prefix="bench-web-") as folder:
        scratch = Path(folder)
        path = args.keep or scratch / "web.db"
        register = await prepare(path, kept_ring(args.keep), sizes.reports, build_record(args.keep))
        await add_admin(register)
        console = Console(register, scratch)
        try:
            with stage("reportbot web: start and sign in with a link"):
                await console.start()
                csrf = await console.sign_in()
            result.figures["console_idle_rss_mb"] = console.memory_mb("VmRSS")
            await measure_pages(result, console, register, csrf, sizes)
            if args.pages_only:
                return result
            with stage(f"export of {register.reports:,} reports from the browser's form"):
                await measure_export(result, console, register, csrf)
        finally:
            await console.stop()
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON line."""
    args = arguments(argv)
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    result = asyncio.run(run(args))
    return emit(result, quick=args.quick)


if __name__ == "__main__":
    sys.exit(main())
