"""`reportbot stats`: reports per day, by status, by method, and the useful shares."""

from __future__ import annotations

import argparse

from bot import runtime
from bot.settings import Settings
from models.services.stats import DAYS, RegisterStats


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `stats`."""
    stats = subparsers.add_parser("stats", help="print the register's statistics")
    stats.set_defaults(func=stats_command)


def render(stats: RegisterStats) -> list[str]:
    """The statistics as terminal lines."""
    lines = [
        f"reports: {stats.total} ({stats.last_days_total} in the last {DAYS} days)",
        f"with an IMEI: {stats.with_imei} ({stats.imei_share:.1f}%)",
        f"with a tracked location: {stats.with_tracked} ({stats.tracked_share:.1f}%)",
        "",
        f"per day (UTC), last {DAYS} days:",
    ]
    lines += [f"  {day.isoformat()}  {count:>7}" for day, count in stats.per_day]
    lines += ["", "by status:"]
    lines += [f"  {status:<13} {count:>7}" for status, count in stats.by_status]
    lines += ["", "how it was taken:"]
    lines += [f"  {method or 'not given':<20} {count:>7}" for method, count in stats.by_method]
    return lines


async def stats_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the statistics."""
    async with runtime.opened_register(settings) as register:
        computed = await register.stats.compute()
    print("\n".join(render(computed)))
    return 0
