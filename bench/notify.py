"""Notification delivery: N queued notifications through the real dispatcher, on Telegram's limits.

python -m bench.notify [--quick] [--size N] [--latency-ms MS] [--database-url URL]

N reports (bulk-built, sealed), one subscribed chat each, are moved to `recovered` in one
transaction (as a bulk recovery does), which queues N notifications in the outbox. The real
`bot.delivery.Dispatcher`, sending through the bot's real `Application.bot` (with the
`AIORateLimiter` that `reportbot run` uses), then drains the outbox against an in-process Bot API
that takes 50 ms per call and answers 429 beyond 30 messages in any second or 1 a second to one
chat, on real time. Runs, each on a fresh register: `default`, exactly what `reportbot run` does
(the Application's own `post_init` starts the outbox workers, the rate limiter is
`default_rate_limiter(DELIVERY_RATE_PER_SECOND)` and paces them all, `post_stop` stops them);
`one_worker`, a single worker through the same limiter; and `api0ms`, the four workers against
an API that answers at once (what the database and the pacing allow without the round trip).
An unknown run name is an error.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

if not __package__:  # run as `python bench/notify.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from bench._bulk import build_register
from bench._inproc import (
    CpuClock,
    LogCount,
    build_bot,
    isolated_settings,
    scratch_register,
    wait_for,
)
from bench._targets import at_least, zero
from bench.common import Result, benchmark_main, log, parser
from bot.app import default_rate_limiter
from bot.delivery import DEFAULT_WORKERS, DeliveryConfig, Dispatcher
from models.register import Register
from models.services.outbox import DELIVERED
from models.storage.columns import utcnow
from models.storage.tables import Notification, Report, Subscription
from models.values.statuses import Status
from tests.botapi import LimitedBotApi, Limits, max_in_window

TELEGRAM_RATE = 30
SHARE_TARGET = 90.0
FIRST_CHAT = 500_000_000


@dataclass(frozen=True)
class Run:
    """One way of delivering: WORKERS sharing the bot's limiter, against an API with LATENCY."""

    name: str
    workers: int = DEFAULT_WORKERS
    latency: float | None = None  # None: the benchmark's latency
    has_targets: bool = True
    as_run: bool = False  # started by the Application's post_init, as `reportbot run` does


RUNS = (
    Run("default", as_run=True),
    Run("one_worker", workers=1),
    Run("api0ms", latency=0.0, has_targets=False),
)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of this benchmark."""
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--size", type=int, help="notifications (default 1,000; quick 60)")
    arguments.add_argument(
        "--latency-ms", type=float, default=50.0, help="time the API takes per call (50)"
    )
    arguments.add_argument(
        "--runs", help=f"comma-separated subset of: {', '.join(run.name for run in RUNS)}"
    )
    return arguments.parse_args(argv)


async def queue_notifications(register: Register, reports: int) -> int:
    """Subscribe one chat to each report and move all to recovered in one transaction."""
    now = utcnow()
    async with register.db.write() as session:
        session.add_all(
            Subscription(
                report_id=number + 1,
                chat_id=FIRST_CHAT + number,
                via="own_account",
                created_at=now,
            )
            for number in range(reports)
        )
        await session.flush()
        rows = list((await session.execute(select(Report).order_by(Report.id))).scalars())
        return await register.reports.apply_status_many(
            session, rows, Status.RECOVERED, actor="bench"
        )


async def states(register: Register) -> Counter[str]:
    """How many notifications are in each state."""
    async with register.db.read() as session:
        found = await session.execute(
            select(Notification.state, func.count()).group_by(Notification.state)
        )
        return Counter({state: count for state, count in found})


async def deliver(register: Register, api: LimitedBotApi, run: Run, size: int, folder: Path):
    """Drain the outbox with RUN's dispatchers; (seconds to the last message, CPU seconds)."""
    rate = isolated_settings(folder).delivery_rate_per_second
    application = build_bot(
        register, api, folder, rate_limiter=default_rate_limiter(rate), update_processor=None
    )
    await application.initialize()
    config = DeliveryConfig(overall_rate=rate)
    dispatchers = [
        Dispatcher(
            register,
            application.bot,
            config=config,
            worker_id=f"bench-{index}",
            texts=application.bot_data["config"],
        )
        for index in range(0 if run.as_run else run.workers)
    ]
    patience = 60 + 4 * size / rate
    try:
        with CpuClock() as cpu:
            started = time.perf_counter()
            if run.as_run:
                assert application.post_init is not None
                await application.post_init(application)
            tasks = [asyncio.create_task(worker.run_forever()) for worker in dispatchers]
            await wait_for(lambda: len(api.accepted) >= size, patience, f"{size} messages")
            last = max((at for at, _ in api.accepted), default=time.perf_counter())
            # The outcome of the last message is written after Telegram accepted it.
            for _ in range(100):
                if (await states(register))[DELIVERED] >= size:
                    break
                await asyncio.sleep(0.1)
            for worker in dispatchers:
                worker.stop()
            await asyncio.gather(*tasks)
            if run.as_run and application.post_stop is not None:
                await application.post_stop(application)
    finally:
        await application.shutdown()
    return last - started, cpu.seconds


def figures_of(
    run: Run, api: LimitedBotApi, size: int, seconds: float, cpu_s: float, final: Counter[str]
) -> dict[str, float]:
    """What one run shows: rate, share of Telegram's limit, 429s, lost and duplicated."""
    per_chat = Counter(chat for _, chat in api.accepted)
    times = sorted(at for at, _ in api.accepted)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    rate = size / seconds if seconds > 0 else float("nan")
    return {
        "delivered_per_s": rate,
        "share_of_limit_pct": 100 * rate / TELEGRAM_RATE,
        "steady_per_s": (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0,
        "seconds": seconds,
        "http_429": api.refusals,
        "http_429_overall": api.refused["overall"],
        "http_429_per_chat": api.refused["per_chat"],
        "lost": size - final[DELIVERED],
        "duplicated": sum(count - 1 for count in per_chat.values() if count > 1),
        "chats_reached": len(per_chat),
        "max_in_any_second": max_in_window(times),
        "gap_p50_ms": statistics.median(gaps) * 1000 if gaps else float("nan"),
        "bot_cpu_per_message_ms": max(0.0, cpu_s - api.cpu_s) / size * 1000,
    }


async def one_run(run: Run, size: int, latency: float, url: str | None) -> dict[str, float]:
    """Build a register of SIZE queued notifications and deliver them the RUN way."""
    limits = Limits(latency=latency if run.latency is None else run.latency)
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as scratch:
        async with scratch_register(Path(scratch), url) as register:
            await build_register(register.db, register.reports, size, batch=1_000)
            queued = await queue_notifications(register, size)
            if queued != size:
                raise AssertionError(f"{queued} notifications queued, not {size}")
            api = LimitedBotApi(limits)
            with LogCount() as counter:
                seconds, cpu_s = await deliver(register, api, run, size, Path(scratch))
            final = await states(register)
    figures = figures_of(run, api, size, seconds, cpu_s, final)
    figures.update(counter.figures(run.name))
    log(
        f"{run.name}: {figures['delivered_per_s']:.1f}/s "
        f"({figures['share_of_limit_pct']:.0f}% of {TELEGRAM_RATE}/s), "
        f"429s {figures['http_429']}, lost {figures['lost']}, dup {figures['duplicated']}, "
        f"gap p50 {figures['gap_p50_ms']:.1f} ms"
    )
    return figures


async def run_all(args: argparse.Namespace) -> Result:
    """Every run in turn, each on a fresh register and a fresh API."""
    size = args.size or (60 if args.quick else 1_000)
    latency = args.latency_ms / 1000
    names = args.runs.split(",") if args.runs else [run.name for run in RUNS]
    unknown = sorted(set(names) - {run.name for run in RUNS})
    if unknown:
        raise SystemExit(f"unknown run(s): {', '.join(unknown)}")
    chosen = [run for run in RUNS if run.name in names]
    result = Result(
        "notify",
        sizes={
            "notifications": size,
            "backend": "postgresql" if args.database_url else "sqlite",
            "runs": [run.name for run in chosen],
            "quick": args.quick,
            **Limits(latency=latency).describe(),
        },
    )
    for run in chosen:
        figures = await one_run(run, size, latency, args.database_url)
        for key, value in figures.items():
            result.figures[f"{run.name}.{key}"] = value
        result.ratio[f"{run.name}.share_of_limit"] = figures["share_of_limit_pct"] / 100
        if run.has_targets:
            at_least(
                result,
                f"{run.name}.share_of_limit_pct",
                figures["share_of_limit_pct"],
                SHARE_TARGET,
                "%",
            )
            zero(result, f"{run.name}.http_429", int(figures["http_429"]))
            zero(result, f"{run.name}.lost", int(figures["lost"]))
            zero(result, f"{run.name}.duplicated", int(figures["duplicated"]))
    # The ceiling one message at a time would have, each waiting for its answer; and the rate
    # limiter's own, each message counted from its request to a second after its answer.
    result.baseline["telegram_limit_per_s"] = TELEGRAM_RATE
    result.baseline["one_at_a_time_ceiling_per_s"] = 1 / latency if latency else None
    result.baseline["sliding_log_ceiling_per_s"] = TELEGRAM_RATE / (1 + latency)
    return result


main = benchmark_main(run_all, arguments)


if __name__ == "__main__":
    sys.exit(main())
