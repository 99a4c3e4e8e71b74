"""`reportbot staff add|list|remove|alerts|login-link`: who may work the register."""

from __future__ import annotations

import argparse

from bot import runtime
from bot.commands.common import CliError, cli_actor, format_time
from bot.settings import Settings
from handlers.web.links import sign_in_url
from models.services.alerts import NotStaff
from models.services.staff import Role

MAX_TELEGRAM_ID = 2**63 - 1


def _user_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a Telegram user id is a number, got {text!r}") from None
    if not 0 < value <= MAX_TELEGRAM_ID:
        raise argparse.ArgumentTypeError(f"not a Telegram user id: {text}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `staff` and its subcommands."""
    staff = subparsers.add_parser("staff", help="manage staff members and their roles")
    actions = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a staff member, or change their role")
    add.add_argument("user_id", type=_user_id, metavar="USER_ID", help="Telegram user id")
    add.add_argument(
        "--role", required=True, choices=[role.value for role in Role], help="what they may do"
    )
    add.set_defaults(func=add_command)
    listing = actions.add_parser("list", help="list staff members")
    listing.set_defaults(func=list_command)
    remove = actions.add_parser("remove", help="remove a staff member")
    remove.add_argument("user_id", type=_user_id, metavar="USER_ID", help="Telegram user id")
    remove.set_defaults(func=remove_command)
    alerts = actions.add_parser(
        "alerts",
        help="turn a staff member's alerts on or off (duplicate IMEIs, tracked clusters)",
        description="Alerts go to the staff member's private chat with the bot, in English.",
    )
    alerts.add_argument("user_id", type=_user_id, metavar="USER_ID", help="Telegram user id")
    alerts.add_argument("state", choices=["on", "off"], help="on or off")
    alerts.set_defaults(func=alerts_command)
    link = actions.add_parser(
        "login-link",
        help="print a one-time sign-in link to the web console",
        description="The link is under WEB_BASE_URL, works once, for WEB_LINK_MINUTES minutes.",
    )
    link.add_argument("user_id", type=_user_id, metavar="USER_ID", help="Telegram user id")
    link.set_defaults(func=login_link_command)


async def add_command(args: argparse.Namespace, settings: Settings) -> int:
    """Add a staff member or change their role."""
    register = await runtime.open_register(settings)
    try:
        created = await register.staff.add(args.user_id, Role(args.role), added_by=cli_actor())
    finally:
        await register.close()
    print(f"{'added' if created else 'updated'} {args.user_id} as {args.role}")
    return 0


async def list_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print every staff member."""
    register = await runtime.open_register(settings)
    try:
        members = await register.staff.list()
    finally:
        await register.close()
    if not members:
        print("no staff members yet: add one with `reportbot staff add USER_ID --role admin`")
        return 0
    print(f"{'USER_ID':<20} {'ROLE':<8} {'ALERTS':<6} {'ADDED':<21} ADDED BY")
    for member in members:
        alerts = "on" if member.alerts else "off"
        print(
            f"{member.user_id:<20} {member.role:<8} {alerts:<6} "
            f"{format_time(member.added_at):<21} {member.added_by}"
        )
    return 0


async def alerts_command(args: argparse.Namespace, settings: Settings) -> int:
    """Turn a staff member's alerts on or off."""
    register = await runtime.open_register(settings)
    try:
        setting = await register.alerts.subscribe(
            args.user_id, args.state == "on", actor=cli_actor()
        )
    except NotStaff:
        raise CliError(f"{args.user_id} is not a staff member") from None
    finally:
        await register.close()
    already = "" if setting.changed else " (already)"
    print(f"alerts {args.state} for {args.user_id}{already}")
    return 0


async def remove_command(args: argparse.Namespace, settings: Settings) -> int:
    """Remove a staff member."""
    register = await runtime.open_register(settings)
    try:
        removed = await register.staff.remove(args.user_id, removed_by=cli_actor())
    finally:
        await register.close()
    if not removed:
        raise CliError(f"{args.user_id} is not a staff member")
    print(f"removed {args.user_id}")
    return 0


async def login_link_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print a one-time sign-in link to the web console for a staff member."""
    register = await runtime.open_register(settings)
    try:
        token = await register.web.issue_link(args.user_id, actor=cli_actor())
    except NotStaff:
        raise CliError(f"{args.user_id} is not a staff member") from None
    finally:
        await register.close()
    print(sign_in_url(settings.web_base_url, token))
    return 0
