"""Start-up: from `python -m bot run` to its first getUpdates, and memory at idle.

python -m bench.startup [--quick] [--repeats N] [--idle SECONDS] [--database-url URL]

The bot runs as a real process against a local Bot API on 127.0.0.1. Baselines, started the
same way in the same run: a bare python-telegram-bot echo bot, `python -c "import telegram"`
and `python -c pass`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if not __package__:  # run as `python bench/startup.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._backends import PostgresBackend
from bench._telegram_thread import TelegramThread
from bench.common import (
    PROJECT_ROOT,
    Result,
    Timer,
    emit,
    log,
    median,
    parser,
    peak_rss_mb,
    proc_status_kb,
    ratio,
)
from tests.botapi import FakeTelegram
from tests.e2e.harness import TOKEN

START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
BOT = ("-m", "bot", "run")
ECHO_BOT = ("-m", "bench._echo_bot")
# Settings the bot would otherwise pick up from the caller's environment.
_ISOLATE = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE_URL",
    "DATABASE_URL",
    "DATABASE_SCHEMA",
    "DATA_DIR",
    "DATA_KEYS",
    "INDEX_KEY",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of this benchmark."""
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--repeats", type=int, help="starts of each program (default 5)")
    arguments.add_argument("--idle", type=float, help="seconds idle before reading memory (5)")
    return arguments.parse_args(argv)


class ThreadedTelegram:
    """The fake Telegram of the tests (tests/botapi.py), served on a thread of its own."""

    def __init__(self) -> None:
        """Prepare the server; use as a context manager."""
        self.side = TelegramThread()
        self.api = FakeTelegram(TOKEN)

    def __enter__(self) -> ThreadedTelegram:
        """Start serving."""
        self.side.__enter__()
        self.side.run(self.api.start()).result()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop serving."""
        self.side.run(self.api.stop()).result()
        self.side.__exit__(*exc)

    @property
    def base_url(self) -> str:
        """What to give the bot as TELEGRAM_API_BASE_URL."""
        return self.api.base_url

    def reset(self) -> None:
        """Forget the calls so far (before the next process starts)."""
        self.side.run(self._clear()).result()

    async def _clear(self) -> None:
        self.api.calls.clear()

    def first_call(self, method: str, *, timeout: float, alive: Any) -> float | None:
        """When METHOD was first called (perf_counter); waits up to TIMEOUT, or while ALIVE()."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and alive():
            for call in list(self.api.calls):
                if call.method == method:
                    return call.at
            time.sleep(0.01)  # the call's own arrival time is kept, so polling costs no precision
        return None

    def first_of_any(self) -> float:
        """When the first call of any method arrived."""
        return min(call.at for call in list(self.api.calls))


def environment(
    workdir: Path, api: ThreadedTelegram, database_url: str | None, schema: str | None
) -> dict[str, str]:
    """The processes' environment: our local API, a scratch data folder, nothing inherited."""
    env = {key: value for key, value in os.environ.items() if key not in _ISOLATE}
    if schema:
        env["DATABASE_SCHEMA"] = schema
    env.update(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_API_BASE_URL=api.base_url,
        DATA_DIR=str(workdir / "data"),
        DATABASE_URL=database_url or f"sqlite+aiosqlite:///{workdir / 'data' / 'register.db'}",
        PYTHONPATH=str(PROJECT_ROOT),
        LOG_LEVEL="INFO",
    )
    return env


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_and_idle(
    args: tuple[str, ...], env: dict[str, str], workdir: Path, api: ThreadedTelegram, idle: float
) -> dict[str, float]:
    """Start a bot process, time its first getUpdates, let it idle, read memory, stop it."""
    api.reset()
    log_path = workdir / "process.log"
    with log_path.open("w") as log_file:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, *args], env=env, cwd=workdir, stdout=log_file, stderr=log_file
        )
        try:
            first = api.first_call(
                "getUpdates", timeout=START_TIMEOUT_S, alive=lambda: process.poll() is None
            )
            if first is None:
                raise RuntimeError(f"{' '.join(args)} never called getUpdates")
            first_call = api.first_of_any()
            time.sleep(idle)
            if process.poll() is not None:
                raise RuntimeError(f"{' '.join(args)} exited while idle")
            figures = {
                "startup_s": first - started,
                "first_api_call_s": first_call - started,
                "idle_rss_mb": (proc_status_kb("VmRSS", process.pid) or 0) / 1024,
                "peak_rss_mb": peak_rss_mb(process.pid),
                "cpu_s": cpu_seconds(process.pid),
            }
            with Timer() as stopping:
                process.send_signal(signal.SIGINT)
                code = process.wait(timeout=STOP_TIMEOUT_S)
            if code != 0:
                raise RuntimeError(f"{' '.join(args)} exited with {code} on SIGINT")
            figures["shutdown_s"] = stopping.seconds
            return figures
        except BaseException:
            if process.poll() is None:
                process.kill()
                process.wait()
            sys.stderr.write(log_path.read_text()[-3000:])
            raise


def time_command(args: tuple[str, ...], env: dict[str, str], workdir: Path) -> float:
    """Seconds from starting `python ARGS` to its exit."""
    with Timer() as timer:
        # Its output is progress, not figures: stdout is reserved for the JSON line.
        subprocess.run([sys.executable, *args], env=env, cwd=workdir, check=True, stdout=sys.stderr)
    return timer.seconds


def run(
    args: argparse.Namespace, workdir: Path, database_url: str | None, schema: str | None
) -> Result:
    """Start the bot and the baselines REPEATS times each, interleaved, and compare medians."""
    repeats = args.repeats or (1 if args.quick else 5)
    idle = args.idle if args.idle is not None else (1.0 if args.quick else 5.0)
    backend = "postgresql" if database_url else "sqlite"
    result = Result(
        "startup",
        sizes={"repeats": repeats, "idle_s": idle, "backend": backend, "quick": args.quick},
    )
    with ThreadedTelegram() as api:
        env = environment(workdir, api, database_url, schema)
        result.figures["db_upgrade_s"] = time_command(("-m", "bot", "db", "upgrade"), env, workdir)
        runs: dict[str, list[dict[str, float]]] = {"bot": [], "echo": []}
        floors: dict[str, list[float]] = {"import_telegram_s": [], "python_s": []}
        for turn in range(repeats):
            log(f"start {turn + 1}/{repeats}")
            runs["bot"].append(start_and_idle(BOT, env, workdir, api, idle))
            runs["echo"].append(start_and_idle(ECHO_BOT, env, workdir, api, idle))
            floors["import_telegram_s"].append(
                time_command(("-c", "import telegram"), env, workdir)
            )
            floors["python_s"].append(time_command(("-c", "pass"), env, workdir))
    for key in runs["bot"][0]:
        result.figures[key] = median(run[key] for run in runs["bot"])
        result.baseline[f"echo_{key}"] = median(run[key] for run in runs["echo"])
        result.ratio[key] = ratio(result.figures[key], result.baseline[f"echo_{key}"])
    result.figures["startup_min_s"] = min(run["startup_s"] for run in runs["bot"])
    for key, values in floors.items():
        result.baseline[key] = median(values)
    result.ratio["startup_to_import_telegram"] = ratio(
        result.figures["startup_s"], result.baseline["import_telegram_s"]
    )
    return result


async def with_schema(args: argparse.Namespace, workdir: Path) -> Result:
    """Run on a private PostgreSQL schema, dropped afterwards."""
    backend = PostgresBackend(args.database_url)
    await backend.create_schema()
    try:
        return await asyncio.to_thread(run, args, workdir, args.database_url, backend.schema)
    finally:
        await backend.close()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its JSON line."""
    args = arguments(argv)
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as scratch:
        workdir = Path(scratch)
        if args.database_url:
            result = asyncio.run(with_schema(args, workdir))
        else:
            result = run(args, workdir, None, None)
    return emit(result, quick=args.quick)


if __name__ == "__main__":
    sys.exit(main())
