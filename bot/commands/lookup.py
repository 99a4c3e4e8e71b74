"""`reportbot lookup IMEI_OR_REF`: a report's status and device."""

from __future__ import annotations

import argparse

from bot import runtime
from bot.commands.common import CliError, cli_actor, format_time
from bot.settings import Settings
from handlers.texts import describe
from models.services.reports import ReportView
from models.values.imei import Imei, InvalidImei
from models.values.reference import InvalidReference, Reference


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `lookup`."""
    lookup = subparsers.add_parser(
        "lookup", help="find a report by IMEI (either of its IMEIs) or by reference"
    )
    lookup.add_argument("query", metavar="IMEI_OR_REF", help="an IMEI in any form, or SPR-XXXX-XX")
    lookup.set_defaults(func=lookup_command)


def parse_query(text: str) -> Imei | Reference:
    """An IMEI when the text has digits only (after separators), else a reference."""
    letters = any(char.isalpha() for char in text)
    try:
        return Reference.parse(text) if letters else Imei.parse(text)
    except (InvalidImei, InvalidReference) as exc:
        kind = "reference" if letters else "IMEI"
        raise CliError(f"not a valid {kind}: {describe(exc, html_text=False)}", 2) from None


def describe_device(report: ReportView) -> str:
    """Make, model and colour in one phrase."""
    parts = [report.make.capitalize(), report.get("model") or ""]
    colour = report.get("colour")
    text = " ".join(part for part in parts if part)
    return f"{text} ({colour})" if colour else text


async def lookup_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the matching reports, or say the handset is not in the register."""
    query = parse_query(args.query)
    register = await runtime.open_register(settings)
    try:
        if isinstance(query, Imei):
            reports = await register.reports.find_by_imei(query)
            label = query.masked
        else:
            found = await register.reports.get(query)
            reports = [found] if found else []
            label = str(query)
        await register.audit.record(
            cli_actor(), "lookup", label, kind=type(query).__name__.lower(), found=len(reports)
        )
    finally:
        await register.close()
    if not reports:
        print(f"{label}: not in the register")
        return 0
    for report in reports:
        print(
            f"{report.reference}  {report.status.value}  {describe_device(report)}  "
            f"filed {format_time(report.created_at)}"
        )
    return 0
