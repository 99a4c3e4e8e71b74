"""`reportbot console`: the real bot, offline, in the terminal (see docs/console.md)."""

from __future__ import annotations

import argparse
import io
import sys

from bot.console import run_console
from bot.logging_setup import configure_logging
from bot.settings import Settings


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `console`."""
    console = subparsers.add_parser(
        "console",
        help="talk to the bot offline in the terminal, one message a line (works with a script)",
    )
    console.add_argument(
        "--user-id",
        type=int,
        default=None,
        help="be this Telegram user (to come back to an unfinished report); default: a new one",
    )
    console.add_argument("--first-name", default="Sam", help="the user's first name")
    console.add_argument(
        "--language-code",
        default="en",
        help="the Telegram account's language, e.g. pl or pt-BR (a borrowed phone's is the "
        "lender's: the first screen still offers every language)",
    )
    console.set_defaults(func=console_command)


async def console_command(args: argparse.Namespace, settings: Settings) -> int:
    """Run the console on stdin and stdout; bytes that are not text never stop it."""
    # Whatever the bot logs (stderr) goes through the same privacy filter as in `run`.
    configure_logging(settings.log_level, secrets=settings.secret_values())
    for stream in (sys.stdin, sys.stdout):
        if isinstance(stream, io.TextIOWrapper):
            # Undecodable input becomes U+FFFD (a typo, not a crash); so does unprintable output.
            stream.reconfigure(errors="replace")
    return await run_console(
        settings,
        sys.stdin,
        sys.stdout,
        user_id=args.user_id,
        first_name=args.first_name,
        language_code=args.language_code,
    )
