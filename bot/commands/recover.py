"""`reportbot recover FILE [--dry-run] [--out FILE]`: match seized handsets, mark them recovered."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path

from bot import runtime
from bot.commands.common import CliError, cli_actor
from bot.commands.export import check_output
from bot.settings import Settings
from handlers.texts import describe, plain, text
from models.present.recovery import write_results_file
from models.services.recovery import RecoveryOutcome, describe_candidate
from models.services.seized import (
    MB,
    MalformedLine,
    ReadLimits,
    SeizedFile,
    SeizedFileError,
    read_seized,
    too_big,
)

CHOOSE_HINT = (
    "ambiguous: one seized IMEI is in several reports that may claim it, so none was marked; "
    "check them (`reportbot lookup REF`) and mark the right one: "
    "`reportbot setstatus REF recovered`"
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `recover`."""
    recover = subparsers.add_parser(
        "recover",
        help="match a file of seized handsets' IMEIs; mark the matches recovered",
        description=(
            "FILE is a CSV with a column headed IMEI, or one IMEI a line (UTF-8, UTF-16 with "
            "BOM or Windows-1252; at most RECOVERY_MAX_FILE_MB megabytes and 100,000 values). "
            "Each seized IMEI held by exactly one open report marks that report recovered and "
            "queues its victims' notifications; an IMEI held by several open (or already "
            "recovered) reports marks none of them (ambiguous: choose one with "
            "`reportbot setstatus REF recovered`). Big recoveries "
            "are applied in short chunks; if one stops half-way, run the same file again to "
            "finish it. Every line of the file is listed with what became of it."
        ),
    )
    recover.add_argument("file", metavar="FILE", type=Path, help="the seized IMEIs")
    recover.add_argument(
        "--dry-run", action="store_true", help="only show what matches; change nothing"
    )
    recover.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        help="also write every line and its result as a CSV file (replaced only when complete)",
    )
    recover.set_defaults(func=recover_command)


def limits_of(settings: Settings) -> ReadLimits:
    """The file limits the settings give."""
    return ReadLimits(max_bytes=int(settings.recovery_max_file_mb * MB))


def error_line(error: SeizedFileError) -> str:
    """A refused file's reason as one line of plain text."""
    return plain(text(f"staff.{error.code}", **error.params))


def reason_of(bad: MalformedLine) -> str:
    """Why a line is malformed, in words (plain text)."""
    return describe(bad.error, html_text=False) if bad.error else bad.reason


def read_file(path: Path, limits: ReadLimits) -> SeizedFile:
    """The file's IMEIs, read in bounded memory; CliError if it cannot be read or used."""
    try:
        # Before opening: opening a FIFO would wait for a writer, and /dev/zero never ends.
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise CliError(f"{path}: not a regular file")
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limits.max_bytes:
                raise too_big(limits, size)
            return read_seized(handle, limits)
    except SeizedFileError as exc:
        raise CliError(f"{path}: {error_line(exc)}") from None
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None


def summary(outcome: RecoveryOutcome) -> list[str]:
    """The counts, and the references marked or left alone."""
    plan = outcome.plan
    seized = plan.seized
    lines = [
        f"values read: {seized.values}",
        f"matched: {len(plan.matched)}",
        f"not in the register: {len(plan.unknown)}",
        f"ambiguous (in several reports, none marked): {len(plan.ambiguous)}",
        f"malformed: {len(seized.malformed)}",
        f"repeated in the file: {len(seized.duplicates)}",
    ]
    verb = "would mark recovered" if outcome.dry_run else "marked recovered"
    lines.append(f"{verb}: {len(outcome.recovered)}")
    lines += [f"  {reference}" for reference in outcome.recovered]
    if outcome.held_back:
        lines.append(
            f"not marked, another open report with the same IMEI was filed meanwhile: "
            f"{len(outcome.held_back)}"
        )
        lines += [f"  {reference}" for reference in outcome.held_back]
    if plan.left_alone:
        lines.append(f"matched but left alone (already past located): {len(plan.left_alone)}")
        lines += [f"  {match.reference} ({match.status.value})" for match in plan.left_alone]
    if not outcome.dry_run:
        lines.append(f"victim notifications queued: {outcome.notifications}")
    return lines


def every_line(outcome: RecoveryOutcome) -> list[str]:
    """Each line of the file and what became of it, in the file's order."""
    plan = outcome.plan
    entries: list[tuple[int, str]] = []
    for handset in plan.matched:
        if handset.ambiguous:
            described = ", ".join(describe_candidate(match) for match in handset.reports)
            entries.append((handset.line, f"ambiguous, in {described}"))
        else:
            references = ", ".join(match.reference for match in handset.reports)
            entries.append((handset.line, f"matched {references}"))
    entries += [(item.line, f"not in the register: {item.imei.digits}") for item in plan.unknown]
    entries += [
        (bad.line, f"malformed ({reason_of(bad)}): {bad.text!r}") for bad in plan.seized.malformed
    ]
    entries += [
        (repeat.line, f"repeats line {repeat.first_line}") for repeat in plan.seized.duplicates
    ]
    lines = [f"line {number}: {entry}" for number, entry in sorted(entries)]
    if plan.ambiguous:
        lines.append(CHOOSE_HINT)
    return lines


async def recover_command(args: argparse.Namespace, settings: Settings) -> int:
    """Read, match, apply unless --dry-run, print every line, and write --out if asked."""
    target = check_output(args.out) if args.out else None
    if target is not None and not os.access(target.parent, os.W_OK):
        raise CliError(f"cannot write {target}: folder {target.parent} is not writable")
    seized = read_file(args.file, limits_of(settings))
    async with runtime.opened_register(settings) as register:
        outcome = await register.recovery.run(
            seized, actor=cli_actor(), dry_run=args.dry_run, channel="cli"
        )
    print("\n".join(summary(outcome) + every_line(outcome)))
    if target is not None:
        try:
            write_results_file(outcome.plan, target, reason_of)
        except OSError as exc:
            raise CliError(f"cannot write {target}: {exc.strerror or exc}") from None
    return 0
