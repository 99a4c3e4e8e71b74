"""`reportbot hotspots [--days N] [--png FILE]`: where thefts and tracked phones cluster."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from bot import runtime
from bot.commands.common import CliError, cli_actor
from bot.settings import Settings
from models.present import heatmap
from models.services.hotspots import CELL_METRES, DAYS, Hotspots, table

MAX_DAYS = 3660
TABLE_ROWS = 10


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
    hotspots.add_argument("--png", type=Path, metavar="FILE", help="also write a PNG heat map")
    hotspots.set_defaults(func=hotspots_command)


def render(found: Hotspots, days: int) -> list[str]:
    """The hotspots as terminal lines."""
    if not found.cells:
        return [f"no report filed in the last {days} days gives a location"]
    lines = [
        f"hotspots of reports filed in the last {days} days "
        f"(cells of about {CELL_METRES:.0f} m; {len(found.cells)} busy cells)",
        "",
        *table(found.cells, TABLE_ROWS),
        "",
    ]
    clusters = len(found.clusters)
    if clusters:
        lines.append(
            f"* tracked clusters: {clusters} (3 or more reports' phones tracked to a cell)"
        )
    else:
        lines.append("no tracked cluster (3 or more reports' phones tracked to a cell)")
    return lines


def write_atomically(target: Path, content: bytes) -> None:
    """Write CONTENT to a temporary file beside TARGET, then rename it to TARGET."""
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as output:
            output.write(content)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


async def hotspots_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the busiest cells; with --png, write their picture."""
    target: Path | None = args.png
    if target is not None and not target.parent.is_dir():
        raise CliError(f"--png: folder {target.parent} does not exist")
    register = await runtime.open_register(settings)
    try:
        found = await register.hotspots.find(days=args.days)
        await register.audit.record(
            cli_actor(), "hotspots", None, days=args.days, cells=len(found.cells), channel="cli"
        )
    finally:
        await register.close()
    if target is not None:
        write_atomically(target, heatmap.render(found.cells))
    print("\n".join(render(found, args.days)))
    return 0
