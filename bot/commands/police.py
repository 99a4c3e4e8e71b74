"""`reportbot police set REF ...` and `reportbot police forces`: the police's references."""

from __future__ import annotations

import argparse

from bot import runtime
from bot.commands.common import CliError, cli_actor, explain
from bot.settings import Settings
from models.errors import RegisterError
from models.services.followup import Change
from models.values.crime import FORCES
from models.values.reference import InvalidReference, Reference


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `police` and its subcommands."""
    police = subparsers.add_parser(
        "police", help="a report's crime reference number and police force"
    )
    actions = police.add_subparsers(dest="police_command", required=True, metavar="ACTION")
    set_ = actions.add_parser(
        "set",
        help="set or correct a report's crime reference and/or force (kept in its history)",
    )
    set_.add_argument("reference", metavar="REF")
    set_.add_argument("--crime-ref", metavar="NUMBER", help="the police's crime reference number")
    set_.add_argument("--force", metavar="FORCE", help="the force: a code, a name, Met, BTP...")
    set_.set_defaults(func=set_command)
    forces = actions.add_parser("forces", help="the police forces the register knows")
    forces.set_defaults(func=forces_command)


def reference_of(text: str) -> Reference:
    """A report reference, or CliError (exit 2)."""
    try:
        return Reference.parse(text)
    except InvalidReference as exc:
        raise CliError(f"not a valid reference: {exc}", 2) from None


async def set_command(args: argparse.Namespace, settings: Settings) -> int:
    """Set the crime reference and/or force, and print what the report now holds."""
    if not (args.crime_ref or args.force):
        raise CliError("give --crime-ref, --force or both", 2)
    reference = reference_of(args.reference)
    register = await runtime.open_register(settings)
    try:
        done = await register.police.set_by_staff(
            reference,
            crime_reference=args.crime_ref,
            police_force=args.force,
            actor=cli_actor(),
            channel="cli",
        )
    except RegisterError as exc:
        raise CliError(explain(exc), 2) from None
    finally:
        await register.close()
    if done.change is Change.NOT_FOUND:
        raise CliError(f"{reference}: not in the register")
    force = FORCES.get(done.police_force or "", "-")
    state = "unchanged" if done.change is Change.ALREADY else "set"
    print(f"{reference}: crime reference {done.crime_reference or '-'}, force {force} ({state})")
    return 0


async def forces_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print every known force: code and name."""
    for code, name in FORCES.items():
        print(f"{code:<20} {name}")
    return 0
