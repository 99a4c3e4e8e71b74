"""`reportbot purge [--dry-run]`: delete what is past its retention period (audit stays)."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from bot import runtime
from bot.commands.common import cli_actor
from bot.settings import Settings
from models.storage.columns import utcnow


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `purge`."""
    purge = subparsers.add_parser(
        "purge",
        help="delete ended reports past the retention period, and expired working data",
    )
    purge.add_argument("--dry-run", action="store_true", help="only count; delete nothing")
    purge.set_defaults(func=purge_command)


async def purge_command(args: argparse.Namespace, settings: Settings) -> int:
    """Purge (or count) and print how many rows of each kind."""
    async with runtime.opened_register(settings) as register:
        result = await register.retention.purge(utcnow(), dry_run=args.dry_run, actor=cli_actor())
    verb = "would delete" if args.dry_run else "deleted"
    for kind, count in asdict(result).items():
        print(f"{verb} {count} {kind.replace('_', ' ')}")
    return 0
