"""`reportbot recover FILE [--dry-run]`: match seized handsets and mark the matches recovered."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot import runtime
from bot.commands.common import CliError, cli_actor
from bot.settings import Settings
from handlers.texts import describe
from models.services.recovery import RecoveryFileError, RecoveryOutcome, parse_seized


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `recover`."""
    recover = subparsers.add_parser(
        "recover",
        help="match a file of seized handsets' IMEIs; mark the matches recovered",
        description=(
            "FILE is a CSV with a column headed IMEI, or one IMEI a line. Matched reports that "
            "are still open become recovered and their victims are notified, in one transaction."
        ),
    )
    recover.add_argument("file", metavar="FILE", type=Path, help="the seized IMEIs")
    recover.add_argument(
        "--dry-run", action="store_true", help="only show what matches; change nothing"
    )
    recover.set_defaults(func=recover_command)


def read_file(path: Path) -> bytes:
    """The file's bytes; CliError if it cannot be read."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None


def report(outcome: RecoveryOutcome) -> list[str]:
    """The outcome in full, one fact a line."""
    plan = outcome.plan
    seized = plan.seized
    lines = [
        f"values read: {seized.values}",
        f"matched: {len(plan.matched)}",
        f"not in the register: {len(plan.unknown)}",
        f"malformed: {len(seized.malformed)}",
        f"repeated in the file: {len(seized.duplicates)}",
    ]
    verb = "would mark recovered" if outcome.dry_run else "marked recovered"
    lines.append(f"{verb}: {len(outcome.recovered)}")
    lines += [f"  {reference}" for reference in outcome.recovered]
    if plan.left_alone:
        lines.append(f"matched but left alone (already past located): {len(plan.left_alone)}")
        lines += [f"  {match.reference} ({match.status.value})" for match in plan.left_alone]
    for handset in plan.matched:
        references = ", ".join(match.reference for match in handset.reports)
        lines.append(f"line {handset.line}: matched {references}")
    for bad in seized.malformed:
        reason = describe(bad.error, html_text=False) if bad.error else bad.reason
        lines.append(f"line {bad.line}: malformed ({reason}): {bad.text!r}")
    for repeat in seized.duplicates:
        lines.append(f"line {repeat.line}: repeats line {repeat.first_line}")
    if not outcome.dry_run:
        lines.append(f"victim notifications queued: {outcome.notifications}")
    return lines


async def recover_command(args: argparse.Namespace, settings: Settings) -> int:
    """Read, match, apply unless --dry-run, and print the outcome."""
    try:
        seized = parse_seized(read_file(args.file))
    except RecoveryFileError as exc:
        raise CliError(f"{args.file}: {exc}") from None
    register = await runtime.open_register(settings)
    try:
        outcome = await register.recovery.run(
            seized, actor=cli_actor(), dry_run=args.dry_run, channel="cli"
        )
    finally:
        await register.close()
    print("\n".join(report(outcome)))
    return 0
