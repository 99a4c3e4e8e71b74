"""`reportbot tac import FILE` and `reportbot tac check IMEI`: the TAC table."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot import runtime
from bot.commands.common import CliError, cli_actor
from bot.commands.imports import MB, add_import_options, print_import, run_import
from bot.settings import Settings
from models.services.tac import DEFAULT_MAX_BYTES, TacFormat
from models.values.imei import Imei, InvalidImei


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `tac` and its subcommands."""
    tac = subparsers.add_parser("tac", help="the TAC table that checks makes against IMEIs")
    actions = tac.add_subparsers(dest="tac_command", required=True, metavar="ACTION")
    load = actions.add_parser(
        "import",
        help="replace the TAC table with a file (Osmocom CSV or GSMA TAC file)",
        description="Formats and licences: docs/data-sources.md. The table is replaced whole, "
        "or not at all.",
    )
    load.add_argument("file", type=Path, metavar="FILE")
    add_import_options(load, [f.value for f in TacFormat], DEFAULT_MAX_BYTES)
    load.set_defaults(func=import_command)
    check = actions.add_parser("check", help="what the TAC table says about an IMEI")
    check.add_argument("imei", metavar="IMEI")
    check.add_argument("--make", default="other", help="the make to compare (apple, samsung...)")
    check.set_defaults(func=check_command)


async def import_command(args: argparse.Namespace, settings: Settings) -> int:
    """Import the TAC table and say what was taken and what was rejected."""
    result = await run_import(
        settings,
        [args.file],
        args.rejected,
        lambda register: register.tac.import_file(
            args.file,
            actor=cli_actor(),
            file_format=TacFormat(args.format) if args.format else None,
            max_bytes=args.max_size * MB,
        ),
    )
    print_import(result, "TACs")
    print("reports filed earlier get their TAC make with `reportbot reindex`")
    return 0


async def check_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the TAC's brand and model, and whether the make disagrees."""
    try:
        imei = Imei.parse(args.imei)
    except InvalidImei as exc:
        raise CliError(f"not a valid IMEI: {exc}", 2) from None
    register = await runtime.open_register(settings)
    try:
        found = await register.tac.check(imei, args.make)
    finally:
        await register.close()
    if found is None:
        print(f"{imei.tac}: not in the TAC table")
        return 0
    verdict = "DISAGREES with" if found.mismatch else "agrees with"
    print(f"{found.tac}: {found.brand} {found.model} ({found.brand_key}); {verdict} {args.make}")
    return 0
