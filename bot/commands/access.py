"""`reportbot access reissue REF`: a new access code for a victim who lost theirs."""

from __future__ import annotations

import argparse

from bot import runtime
from bot.commands.common import CliError, cli_actor
from bot.commands.police import reference_of
from bot.settings import Settings


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `access` and its subcommands."""
    access = subparsers.add_parser("access", help="victims' access codes")
    actions = access.add_subparsers(dest="access_command", required=True, metavar="ACTION")
    reissue = actions.add_parser(
        "reissue",
        help="give a report a new access code (the old one stops working); shown once",
    )
    reissue.add_argument("reference", metavar="REF")
    reissue.set_defaults(func=reissue_command)


async def reissue_command(args: argparse.Namespace, settings: Settings) -> int:
    """Reissue the code and print it once, for the victim."""
    reference = reference_of(args.reference)
    async with runtime.opened_register(settings) as register:
        code = await register.access.reissue(reference, actor=cli_actor(), channel="cli")
    if code is None:
        raise CliError(f"{reference}: not in the register")
    print(f"{reference}: new access code {code}")
    print("It is shown only now: pass it to the victim. The old code no longer works.")
    return 0
