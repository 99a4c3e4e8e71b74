"""`reportbot setstatus REF STATUS [--note TEXT]`: move one report, as /setstatus does."""

from __future__ import annotations

import argparse

from bot import runtime
from bot.commands.common import CliError, cli_actor
from bot.settings import Settings
from handlers.texts import describe
from models.services.reports import InvalidTransition, ReportNotFound
from models.values.reference import InvalidReference, Reference
from models.values.statuses import UnknownStatus, parse_status

NOTE_LIMIT = 500


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `setstatus`."""
    setstatus = subparsers.add_parser(
        "setstatus",
        help="move a report to another status (e.g. the one chosen of several ambiguous matches)",
        description=(
            "Moves the report REF to STATUS, keeps it in the report's history and queues the "
            "victims' notification, as /setstatus does in Telegram."
        ),
    )
    setstatus.add_argument("reference", metavar="REF", help="the report, e.g. SPR-7KQ4-M9")
    setstatus.add_argument("status", metavar="STATUS", help="e.g. recovered")
    setstatus.add_argument("--note", help=f"why (kept in the history; at most {NOTE_LIMIT} chars)")
    setstatus.set_defaults(func=setstatus_command)


async def setstatus_command(args: argparse.Namespace, settings: Settings) -> int:
    """Move the report and say what happened."""
    try:
        reference = Reference.parse(args.reference)
        status = parse_status(args.status)
    except (InvalidReference, UnknownStatus) as exc:
        raise CliError(describe(exc, html_text=False), 2) from None
    note = (args.note or "").strip() or None
    if note is not None and len(note) > NOTE_LIMIT:
        raise CliError(f"--note: at most {NOTE_LIMIT} characters", 2)
    register = await runtime.open_register(settings)
    try:
        changed = await register.reports.change_status(
            reference, status, actor=cli_actor(), note=note
        )
    except ReportNotFound:
        raise CliError(f"{reference}: not in the register") from None
    except InvalidTransition as exc:
        raise CliError(f"{reference}: {describe(exc, html_text=False)}") from None
    finally:
        await register.close()
    print(
        f"{changed.reference}: {changed.previous.value} -> {changed.status.value}; "
        f"victim notifications queued: {changed.notifications}"
    )
    return 0
