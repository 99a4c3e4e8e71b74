"""`reportbot tac import FILE` and `reportbot tac check IMEI`: the TAC table."""

from __future__ import annotations

import argparse

from bot import runtime
from bot.commands.common import CliError
from bot.commands.imports import DataFile, add_import_parser
from bot.settings import Settings
from models.services.tac import DEFAULT_MAX_BYTES, TacFormat
from models.values.imei import Imei, InvalidImei

TAC_TABLE = DataFile(
    rows="TACs",
    help="replace the TAC table with a file (Osmocom CSV or GSMA TAC file)",
    description="Formats and licences: docs/data-sources.md. The table is replaced whole, "
    "or not at all.",
    formats=TacFormat,
    default_max_bytes=DEFAULT_MAX_BYTES,
    importer=lambda register: register.tac.import_file,
    afterwards="reports filed earlier get their TAC make with `reportbot reindex`",
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `tac` and its subcommands."""
    tac = subparsers.add_parser("tac", help="the TAC table that checks makes against IMEIs")
    actions = tac.add_subparsers(dest="tac_command", required=True, metavar="ACTION")
    add_import_parser(actions, TAC_TABLE)
    check = actions.add_parser("check", help="what the TAC table says about an IMEI")
    check.add_argument("imei", metavar="IMEI")
    check.add_argument("--make", default="other", help="the make to compare (apple, samsung...)")
    check.set_defaults(func=check_command)


async def check_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the TAC's brand and model, and whether the make disagrees."""
    try:
        imei = Imei.parse(args.imei)
    except InvalidImei as exc:
        raise CliError(f"not a valid IMEI: {exc}", 2) from None
    async with runtime.opened_register(settings) as register:
        found = await register.tac.check(imei, args.make)
    if found is None:
        print(f"{imei.tac}: not in the TAC table")
        return 0
    verdict = "DISAGREES with" if found.mismatch else "agrees with"
    print(f"{found.tac}: {found.brand} {found.model} ({found.brand_key}); {verdict} {args.make}")
    return 0
