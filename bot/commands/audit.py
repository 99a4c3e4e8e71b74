"""`reportbot audit [--since D]`: who looked at, changed, exported or matched what, and when."""

from __future__ import annotations

import argparse
import json

from bot import runtime
from bot.commands.common import format_time, parse_when
from bot.settings import Settings


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `audit`."""
    audit = subparsers.add_parser("audit", help="print the audit trail, oldest first")
    audit.add_argument("--since", metavar="D", help="events on or after D (YYYY-MM-DD, UTC)")
    audit.add_argument("--action", metavar="A", help="only events of action A (e.g. export)")
    audit.set_defaults(func=audit_command)


def _details(raw: str) -> str:
    try:
        details = json.loads(raw)
    except ValueError:
        return raw
    return " ".join(
        f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in details.items()
    )


async def audit_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print one event a line: time, actor, action, target, details."""
    since = parse_when(args.since, option="--since") if args.since else None
    register = await runtime.open_register(settings)
    count = 0
    try:
        async for event in register.audit.events(since=since):
            if args.action and event.action != args.action:
                continue
            print(
                f"{format_time(event.at)}  {event.actor}  {event.action}  {event.target or '-'}  "
                f"{_details(event.details)}".rstrip()
            )
            count += 1
    finally:
        await register.close()
    if not count:
        print("no audit events")
    return 0
