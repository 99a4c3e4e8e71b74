"""`reportbot hotspots [--days N] [--png FILE]`: where thefts and tracked phones cluster."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot import runtime
from bot.commands.common import CliError, cli_actor
from bot.settings import Settings
from models.present import heatmap
from models.services.hotspots import (
    CLUSTER_MIN,
    DAYS,
    RADIUS_METRES,
    TABLE_ROWS,
    THEFT,
    TRACKED,
    Hotspots,
    table,
)
from models.storage.files import write_file

MAX_DAYS = 3660


def _days(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"expected a number of days from 1 to {MAX_DAYS}")
    return int(value)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `hotspots`."""
    hotspots = subparsers.add_parser(
        "hotspots", help="print where thefts and tracked phones cluster (and draw it)"
    )
    hotspots.add_argument("--days", type=_days, default=DAYS, help=f"period (default {DAYS})")
    hotspots.add_argument(
        "--png", type=Path, metavar="FILE", help="also write the map of the clusters as a PNG"
    )
    hotspots.set_defaults(func=hotspots_command)


def render(found: Hotspots, days: int) -> list[str]:
    """The hotspots as terminal lines."""
    if not found.cells:
        return [f"no report filed in the last {days} days gives a location"]
    lines = [
        f"hotspots of reports filed {heatmap.period(found)}: {found.points} points, "
        f"{len(found.clusters)} clusters (DBSCAN within {RADIUS_METRES:.0f} m; "
        f"at least {found.min_reports[TRACKED]} tracked or {found.min_reports[THEFT]} theft "
        "points)",
        "",
        *table(found.clusters, TABLE_ROWS),
        "",
    ]
    tracked = len(found.tracked_clusters)
    if tracked:
        lines.append(
            f"tracked clusters: {tracked} ({CLUSTER_MIN} or more reports' phones tracked "
            f"within {RADIUS_METRES:.0f} m of each other)"
        )
    else:
        lines.append(f"no tracked cluster ({CLUSTER_MIN} or more reports' phones tracked near)")
    return lines


async def hotspots_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the clusters; with --png, write their map."""
    target: Path | None = args.png
    if target is not None and not target.parent.is_dir():
        raise CliError(f"--png: folder {target.parent} does not exist")
    register = await runtime.open_register(settings)
    try:
        found = await register.hotspots.find(days=args.days)
        await register.audit.record(
            cli_actor(),
            "hotspots",
            None,
            days=args.days,
            clusters=len(found.clusters),
            channel="cli",
        )
    finally:
        await register.close()
    if target is not None:
        write_file(target, heatmap.render(found))
    print("\n".join(render(found, args.days)))
    return 0
