"""`reportbot tac import FILE` and `reportbot tac check IMEI`: the TAC table."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot import runtime
from bot.commands.common import CliError, cli_actor, explain, print_import, write_rejected
from bot.settings import Settings
from models.errors import RegisterError
from models.services.tac import DEFAULT_MAX_BYTES, TacFormat
from models.values.imei import Imei, InvalidImei

MB = 1024 * 1024


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
    load.add_argument("--format", choices=[f.value for f in TacFormat], help="else detected")
    load.add_argument(
        "--max-size", type=int, default=DEFAULT_MAX_BYTES // MB, metavar="MB",
        help=f"refuse larger files (default {DEFAULT_MAX_BYTES // MB})",
    )  # fmt: skip
    load.add_argument("--rejected", type=Path, metavar="CSV", help="write every rejected line")
    load.set_defaults(func=import_command)
    check = actions.add_parser("check", help="what the TAC table says about an IMEI")
    check.add_argument("imei", metavar="IMEI")
    check.add_argument("--make", default="other", help="the make to compare (apple, samsung...)")
    check.set_defaults(func=check_command)


def check_rejected_target(path: Path | None) -> None:
    """CliError unless PATH can be written (its folder exists)."""
    if path is not None and not path.parent.is_dir():
        raise CliError(f"cannot write {path}: folder {path.parent} does not exist")


async def import_command(args: argparse.Namespace, settings: Settings) -> int:
    """Import the TAC table and say what was taken and what was rejected."""
    if not args.file.is_file():
        raise CliError(f"cannot import {args.file}: no such file")
    check_rejected_target(args.rejected)
    register = await runtime.open_register(settings)
    try:
        result = await register.tac.import_file(
            args.file,
            actor=cli_actor(),
            file_format=TacFormat(args.format) if args.format else None,
            max_bytes=args.max_size * MB,
        )
    except RegisterError as exc:
        raise CliError(f"cannot import {args.file}: {explain(exc)}") from None
    finally:
        await register.close()
    if args.rejected is not None:
        write_rejected(args.rejected, result.rejected)
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
