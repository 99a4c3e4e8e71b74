"""Conversation under load: N victims file full reports through the real Application at once.

python -m bench.conversation [--quick] [--victims N] [--latency-ms MS] [--cap S] [--modes M,...]

Each victim (bench/_victim.py) files a full report through the real Application and handlers,
its updates put on the Application's update queue as `reportbot run` receives them, processed
by the bot's own update processor (`bot.processing.ChatOrderedProcessor`, `MAX_CONCURRENT_CHATS`
as configured) and sent through the rate limiter `reportbot run` uses
(`bot.app.default_rate_limiter`), against an in-process Bot API that takes 50 ms per call and
answers 429 beyond 30 new messages in any second overall or 1 a second to one chat (real time).
A victim answers each question as soon as it arrives. Baselines in the same run: the same bot
with python-telegram-bot's default sequential processing (cut off after --cap seconds), and a
bare python-telegram-bot echo bot whose users each send as many texts as a report takes. Then
both again with the API's limits and latency lifted (and no rate limiter, which would otherwise
hold the bot to 30 a second): what the bot itself can do on this machine. And once more with
the limiter `reportbot run` had before bot/ratelimit.py (python-telegram-bot's AIORateLimiter at
30/s, no per-chat pacing, no retry), to record before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if not __package__:  # run as `python bench/conversation.py`: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    MessageHandler,
    filters,
)

from bench._echo_bot import echo
from bench._inproc import CpuClock, LogCount, build_bot, isolated_settings, scratch_register
from bench._targets import at_least, at_most, zero
from bench._telegram_thread import RemoteRequest, TelegramThread
from bench._victim import (
    Crowd,
    EchoUser,
    Person,
    SignallingChatProcessor,
    SignallingSimpleProcessor,
    Victim,
    arrival_delays,
)
from bench.common import Result, benchmark_main, latency_ms, log, median, parser, ratio
from bot.app import CONSOLE_TOKEN, default_rate_limiter
from models.register import Register
from tests.botapi import LimitedBotApi, Limits, max_in_window
from tests.transactions import count_transactions

TELEGRAM_RATE = 30
SHARE_TARGET = 90.0
FAIRNESS_TARGET = 3.0
CPU_TARGET = 3.0
LIFTED_TARGET = 300.0
ECHO_TEXTS = 20  # about as many updates as one full report takes
PTB_CONCURRENT = 256  # what `concurrent_updates(True)` means in python-telegram-bot


@dataclass(frozen=True)
class Mode:
    """One run: which bot, how it processes updates, and what the API allows."""

    name: str
    echo: bool = False
    sequential: bool = False
    lifted: bool = False
    before: bool = False

    def rate_limiter(self) -> BaseRateLimiter | None:
        """The limiter `reportbot run` has (or had before); none for echo or lifted runs."""
        if self.echo or self.lifted:
            return None
        if self.before:
            return AIORateLimiter(overall_max_rate=30, overall_time_period=1, max_retries=0)
        return default_rate_limiter()


MODES = (
    Mode("bot"),
    Mode("sequential", sequential=True),
    Mode("echo", echo=True),
    Mode("bot_lifted", lifted=True),
    Mode("echo_lifted", echo=True, lifted=True),
    Mode("before_aiolimiter", before=True),
)
MAIN_RUNS = ("bot", "bot_lifted", "before_aiolimiter")


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of this benchmark."""
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument("--victims", type=int, help="simulated victims (300; quick 5)")
    arguments.add_argument(
        "--latency-ms", type=float, default=50.0, help="time the API takes per call (50)"
    )
    arguments.add_argument(
        "--cap", type=float, help="seconds before a baseline run is cut off (60; quick: all, 6)"
    )
    arguments.add_argument(
        "--modes", help=f"comma-separated subset of: {', '.join(m.name for m in MODES)}"
    )
    return arguments.parse_args(argv)


def echo_application(request: RemoteRequest, processor: SignallingSimpleProcessor) -> Application:
    """A bare python-telegram-bot echo bot (bench/_echo_bot.py's handler) on REQUEST."""
    application = (
        ApplicationBuilder()
        .token(CONSOLE_TOKEN)
        .request(request)
        .get_updates_request(request)
        .updater(None)
        .concurrent_updates(processor)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return application


async def crowd_run(
    mode: Mode, victims: int, limits: Limits, cap: float, folder: Path, url: str | None
) -> dict[str, Any]:
    """Run MODE with VICTIMS people until all are done or CAP seconds pass; its figures."""
    api = LimitedBotApi(limits)
    with TelegramThread() as side:
        request = RemoteRequest(api, side)
        crowd = Crowd(api, side)
        async with scratch_register(folder / mode.name, url) as register:
            transactions = count_transactions(register)
            application = make_application(mode, register, request, crowd, folder)
            crowd.attach(application)
            with LogCount() as counter:
                try:
                    await application.initialize()
                    if application.post_init is not None:
                        await application.post_init(application)  # the outbox dispatcher
                    await application.start()
                    people = make_people(mode, crowd, victims, patience=max(120.0, cap))
                    with CpuClock() as cpu:
                        side_started = side.cpu_s()
                        started = time.perf_counter()
                        futures = [asyncio.wrap_future(side.run(run)) for run in people]
                        _, pending = await asyncio.wait(futures, timeout=cap)
                        elapsed = time.perf_counter() - started
                        for future in pending:
                            future.cancel()
                        await asyncio.gather(*pending, return_exceptions=True)
                        dropped = crowd.drop_queued()
                        side_cpu = side.cpu_s() - side_started
                    await application.stop()
                    if application.post_stop is not None:
                        await application.post_stop(application)
                finally:
                    await application.shutdown()
    persons = [speaker.person for speaker in crowd.speakers]
    figures = summarise(mode, persons, api, elapsed, cpu.seconds, side_cpu, bool(pending))
    figures["updates_dropped_at_cutoff"] = dropped
    if not mode.echo:
        for kind, count in transactions.items():
            # Write jobs or sessions; on SQLite, group commit may join several in one commit.
            figures[f"{kind}s_per_update"] = count / max(figures["updates"], 1)
    figures.update(counter.figures(mode.name))
    return figures


def make_application(
    mode: Mode, register: Register, request: RemoteRequest, crowd: Crowd, folder: Path
) -> Application:
    """The echo bot, or the report bot with MODE's processing and rate limiter."""
    if mode.echo:
        processor = SignallingSimpleProcessor(PTB_CONCURRENT, on_done=crowd.finished)
        return echo_application(request, processor)
    chosen: SignallingSimpleProcessor | SignallingChatProcessor
    if mode.sequential:
        chosen = SignallingSimpleProcessor(1, on_done=crowd.finished)
    else:
        chats = isolated_settings(folder).max_concurrent_chats
        chosen = SignallingChatProcessor(chats, db=register.db, on_done=crowd.finished)
    return build_bot(
        register,
        request,
        folder / "data",
        rate_limiter=mode.rate_limiter(),
        update_processor=chosen,
    )


def make_people(
    mode: Mode, crowd: Crowd, count: int, *, patience: float
) -> list[Coroutine[Any, Any, Person]]:
    """COUNT people (victims, or echo users), arriving over the first second, not yet started."""
    delays = arrival_delays(count, spread=1.0)
    if mode.echo:
        return [
            EchoUser(crowd, number, patience=patience).run(ECHO_TEXTS, delays[number])
            for number in range(count)
        ]
    return [Victim(crowd, number, patience=patience).run(delays[number]) for number in range(count)]


def summarise(
    mode: Mode,
    persons: list[Person],
    api: LimitedBotApi,
    elapsed: float,
    cpu_s: float,
    side_cpu_s: float,
    cut_off: bool,
) -> dict[str, Any]:
    """A run's figures: throughput, share of the limit, 429s, latency, fairness, CPU."""
    done = [p for p in persons if p.finished is not None]
    totals = [p.total for p in done if p.total is not None]
    updates = sum(p.updates for p in persons)
    sends = [at for at, _ in api.accepted]
    # A run that ends with every person done lasts until the last message was sent (a victim
    # is done once the bot finished the update that showed the reference and its advice).
    span = (
        elapsed
        if cut_off or not done
        else max(max(p.finished for p in done), max(sends, default=0.0))
        - min(p.started for p in persons)
    )
    edits = sum(count for method, count in api.methods.items() if method.startswith("edit"))
    # Everything in this process but the Telegram side's thread (fake API and people) is the bot.
    bot_cpu = max(0.0, cpu_s - side_cpu_s)
    figures: dict[str, Any] = {
        "seconds": span,
        "cut_off": cut_off,
        "people": len(persons),
        "completed": len(done),
        "failed": sum(1 for p in persons if p.error),
        "completed_per_s": len(done) / span if span else float("nan"),
        "updates": updates,
        "updates_per_s": updates / span if span else float("nan"),
        "messages_per_s": len(sends) / span if span else float("nan"),
        "share_of_limit_pct": 100 * len(sends) / span / TELEGRAM_RATE if span else float("nan"),
        "max_messages_in_any_second": max_in_window(sends),
        "http_429": api.refusals,
        "http_429_overall": api.refused["overall"],
        "http_429_per_chat": api.refused["per_chat"],
        "replies_lost_nudges": sum(p.nudges for p in persons),
        "api_calls_per_update": sum(api.methods.values()) / updates if updates else 0.0,
        "edits_per_update": edits / max(updates, 1),
        "messages_per_update": len(sends) / max(updates, 1),
        # Per person served: a report for a victim, twenty echoes for an echo user. Under
        # Telegram's 30 new messages a second, reports a second scale with 1 / messages_per_person.
        "messages_per_person": len(sends) / max(len(done), 1),
        "edits_per_person": edits / max(len(done), 1),
        "question_edits_per_person": api.methods.get("editMessageText", 0) / max(len(done), 1),
        "cpu_s": cpu_s,
        "telegram_side_cpu_s": side_cpu_s,
        "bot_cpu_s": bot_cpu,
        "bot_cpu_per_update_ms": bot_cpu / updates * 1000 if updates else float("nan"),
    }
    figures.update(latency_ms([s for p in persons for s in p.replies], "reply"))
    figures.update(latency_ms([s for p in persons for s in p.turns], "turn"))
    if totals:
        middle = median(totals)
        figures.update(
            {
                "person_total_median_s": middle,
                "person_total_max_s": max(totals),
                "slowest_to_median": max(totals) / middle if middle else float("nan"),
            }
        )
    errors = Counter(p.error for p in persons if p.error)
    for error, count in errors.most_common(3):
        log(f"{mode.name}: {count} people failed: {error}")
    log(
        f"{mode.name}: {len(done)}/{len(persons)} done in {span:.1f} s, "
        f"{figures['updates_per_s']:.1f} updates/s, {figures['messages_per_s']:.1f} msg/s "
        f"({figures['share_of_limit_pct']:.0f}%), 429s {api.refusals}, "
        f"reply p50 {figures['reply_p50_ms']:.0f} ms, "
        f"bot CPU {figures['bot_cpu_per_update_ms']:.2f} ms/update"
    )
    return figures


def judge(result: Result, runs: dict[str, dict[str, Any]]) -> None:
    """Baselines, ratios and targets from the runs that were made."""
    bot, seq, echo_run = runs.get("bot"), runs.get("sequential"), runs.get("echo")
    lifted, echo_lifted = runs.get("bot_lifted"), runs.get("echo_lifted")
    for name in ("sequential", "echo", "echo_lifted", "before_aiolimiter"):
        for key, value in runs.get(name, {}).items():
            result.baseline[f"{name}.{key}"] = value
    for name in ("bot", "bot_lifted"):
        for key, value in runs.get(name, {}).items():
            result.figures[f"{name}.{key}"] = value
    if bot is not None:
        at_least(result, "bot.share_of_limit_pct", bot["share_of_limit_pct"], SHARE_TARGET, "%")
        zero(result, "bot.http_429", bot["http_429"])
        zero(result, "bot.failed", bot["failed"])
        at_most(
            result,
            "bot.slowest_to_median",
            bot.get("slowest_to_median", float("nan")),
            FAIRNESS_TARGET,
            "x",
        )
    before = runs.get("before_aiolimiter")
    if bot is not None and before is not None:
        result.ratio["bot_to_before.messages_per_s"] = ratio(
            bot["messages_per_s"], before["messages_per_s"]
        )
    if bot is not None and seq is not None:
        result.ratio["bot_to_sequential.messages_per_s"] = ratio(
            bot["messages_per_s"], seq["messages_per_s"]
        )
    if bot is not None and echo_run is not None:
        cpu = ratio(bot["bot_cpu_per_update_ms"], echo_run["bot_cpu_per_update_ms"])
        result.ratio["bot_to_echo.cpu_per_update"] = cpu
        at_most(result, "bot_to_echo.cpu_per_update", cpu or float("nan"), CPU_TARGET, "x")
    if lifted is not None:
        at_least(result, "bot_lifted.updates_per_s", lifted["updates_per_s"], LIFTED_TARGET, "/s")
    if lifted is not None and echo_lifted is not None:
        result.ratio["bot_lifted_to_echo.updates_per_s"] = ratio(
            lifted["updates_per_s"], echo_lifted["updates_per_s"]
        )
        result.ratio["bot_lifted_to_echo.cpu_per_update"] = ratio(
            lifted["bot_cpu_per_update_ms"], echo_lifted["bot_cpu_per_update_ms"]
        )


async def run_all(args: argparse.Namespace) -> Result:
    """Every mode in turn, each on a fresh register and a fresh API."""
    victims = args.victims or (5 if args.quick else 300)
    cap = args.cap or (6.0 if args.quick else 60.0)
    latency = args.latency_ms / 1000
    chosen = [mode for mode in MODES if not args.modes or mode.name in args.modes.split(",")]
    limits = Limits(latency=latency)
    result = Result(
        "conversation",
        sizes={
            "victims": victims,
            "baseline_cap_s": cap,
            "backend": "postgresql" if args.database_url else "sqlite",
            "modes": [mode.name for mode in chosen],
            "echo_texts_per_user": ECHO_TEXTS,
            "max_concurrent_chats": isolated_settings(Path(".")).max_concurrent_chats,
            "quick": args.quick,
            **limits.describe(),
        },
    )
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-conversation-") as scratch:
        for mode in chosen:
            # The bot's own runs go until every victim is done; baselines stop at the cap
            # (and, in a quick run, everything does).
            main_run = mode.name in MAIN_RUNS and not args.quick
            mode_cap = max(900.0, victims * 4.0) if main_run else cap
            log(f"{mode.name}: {victims} people ...")
            runs[mode.name] = await crowd_run(
                mode,
                victims,
                Limits.lifted() if mode.lifted else limits,
                mode_cap,
                Path(scratch),
                args.database_url,
            )
    judge(result, runs)
    return result


main = benchmark_main(run_all, arguments)


if __name__ == "__main__":
    sys.exit(main())
