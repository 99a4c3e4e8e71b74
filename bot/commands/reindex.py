"""`reportbot reindex`: search keys and TAC makes for reports filed before they existed."""

from __future__ import annotations

import argparse
import sys

from bot import runtime
from bot.settings import Settings
from models.services.reindex import BATCH, ReindexResult


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `reindex`."""
    reindex = subparsers.add_parser(
        "reindex",
        help="add staff search keys and TAC makes to reports filed earlier (resumable)",
        description="Safe to stop and run again: it carries on where it stopped. Run it after "
        "`reportbot db upgrade` to this version, and after `reportbot tac import`.",
    )
    reindex.add_argument("--batch", type=int, default=BATCH, help="reports per transaction")
    reindex.set_defaults(func=reindex_command)


async def reindex_command(args: argparse.Namespace, settings: Settings) -> int:
    """Reindex, reporting progress on stderr and the totals on stdout."""
    register = await runtime.open_register(settings)

    def progress(result: ReindexResult) -> None:
        print(f"search keys: {result.search_keys} reports", file=sys.stderr)

    try:
        pending = await register.reindex.pending()
        result = await register.reindex.run(batch=max(1, args.batch), progress=progress)
    finally:
        await register.close()
    print(
        f"search keys added to {result.search_keys} reports (of {pending} pending); "
        f"TAC make checked for {result.tac_checked} reports"
    )
    return 0
