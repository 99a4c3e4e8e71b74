"""`reportbot keys rotate` and `keys status`: move sealed data to the newest key, and check."""

from __future__ import annotations

import argparse

from bot import runtime
from bot.commands.common import CliError, cli_actor
from bot.settings import Settings
from models.sealing.keycheck import describe_missing, missing_keys
from models.services.rotation import DEFAULT_BATCH, RotationResult


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `keys` and its subcommands."""
    keys = subparsers.add_parser("keys", help="rotate the data keys; see which keys are in use")
    actions = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    rotate = actions.add_parser(
        "rotate",
        help="seal everything again under the newest key in DATA_KEYS (safe while the bot runs)",
    )
    rotate.add_argument(
        "--batch-size",
        type=_positive,
        default=DEFAULT_BATCH,
        help=f"rows per transaction (default {DEFAULT_BATCH}; smaller keeps each lock shorter)",
    )
    rotate.set_defaults(func=rotate_command)
    status = actions.add_parser("status", help="how many sealed values each key seals")
    status.set_defaults(func=status_command)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= value <= 100_000:
        raise argparse.ArgumentTypeError("must be between 1 and 100000")
    return value


async def rotate_command(args: argparse.Namespace, settings: Settings) -> int:
    """Re-seal what is not under the newest key; counts per table; non-zero if some remain."""
    async with runtime.opened_register(settings, allow_missing_keys=True) as register:
        key_id = register.vault.current_key_id
        print(f"sealing every value under key {key_id!r} (the first in DATA_KEYS)", flush=True)
        result = await register.rotation.rotate(batch_size=args.batch_size, actor=cli_actor())
    _print_result(result)
    if not result.complete:
        raise CliError(_incomplete(result))
    print(
        f"done: every sealed value is under key {key_id!r}; keys other than {key_id!r} may now "
        "be removed from DATA_KEYS (then restart every process)"
    )
    return 0


def _print_result(result: RotationResult) -> None:
    width = max(len(table.table) for table in result.tables)
    for table in result.tables:
        line = (
            f"{table.table:<{width}}  re-sealed {table.resealed}  already current "
            f"{table.already_current}  unreadable {table.unreadable}"
        )
        if table.left_changing:
            line += f"  changed while rotating {table.left_changing}"
        print(line)
    if result.requeued_notifications:
        print(
            f"notifications set aside as unreadable, queued again: {result.requeued_notifications}"
        )


def _incomplete(result: RotationResult) -> str:
    unreadable = [t for t in result.tables if t.unreadable]
    changing = sum(t.left_changing for t in result.tables)
    if unreadable:
        keys = sorted({key for t in unreadable for key in t.missing_keys})
        where = ", ".join(f"{t.table}: {t.unreadable}" for t in unreadable)
        if keys:
            wanted = ", ".join(repr(key) for key in keys)
            return (
                f"some sealed values could not be opened ({where}): they need {wanted}; add it "
                "back to DATA_KEYS after the newest key and run `reportbot keys rotate` again"
            )
        return (
            f"some sealed values are damaged and open with no key ({where}); "
            "the rest were re-sealed"
        )
    return f"{changing} values kept changing while rotating: run `reportbot keys rotate` again"


async def status_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print, per table, how many values each key seals; non-zero if a needed key is missing."""
    async with runtime.opened_register(settings, allow_missing_keys=True) as register:
        usage = await register.rotation.usage()
        vault = register.vault
    print(
        f"DATA_KEYS: {', '.join(vault.key_ids)} "
        f"(new values are sealed with {vault.current_key_id!r})"
    )
    width = max(len(table) for table in usage)
    for table, counts in usage.items():
        shown = "  ".join(f"{key}: {count}" for key, count in sorted(counts.items())) or "-"
        print(f"{table:<{width}}  {shown}")
    missing = missing_keys({table: set(counts) for table, counts in usage.items()}, vault)
    if missing:
        raise CliError(describe_missing(missing))
    old = {key for counts in usage.values() for key in counts} - {vault.current_key_id}
    if old:
        still = ", ".join(repr(key) for key in sorted(old))
        print(f"not yet rotated: {still} still seal data; run `reportbot keys rotate`")
    else:
        print(f"everything is sealed with {vault.current_key_id!r}")
    return 0
