"""`reportbot db upgrade`: bring the database's schema up to this version."""

from __future__ import annotations

import argparse

from bot import runtime
from bot.commands import backup
from bot.settings import Settings


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `db` and its subcommands."""
    db = subparsers.add_parser("db", help="manage the database schema")
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = actions.add_parser("upgrade", help="apply pending schema migrations")
    upgrade.set_defaults(func=upgrade_command)
    backup.add_actions(actions)


async def upgrade_command(args: argparse.Namespace, settings: Settings) -> int:
    """Apply pending migrations and say what changed."""
    db = runtime.database(settings)
    try:
        before, after = await db.upgrade()
    finally:
        await db.dispose()
    if before == after:
        print(f"database already at revision {after}")
    else:
        print(f"database upgraded from {before or 'empty'} to revision {after}")
    return 0
