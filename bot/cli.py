"""The `reportbot` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import NoReturn

from sqlalchemy.exc import DBAPIError

from bot.commands import (
    access,
    audit,
    console,
    db,
    export,
    hotspots,
    keys,
    lookup,
    places,
    police,
    purge,
    recover,
    reindex,
    run,
    setstatus,
    staff,
    stats,
    tac,
    web,
)
from bot.commands.common import CliError, explain
from bot.settings import SettingsError, load_settings
from models.errors import RegisterError
from models.sealing.vault import CryptoError
from models.storage.database import SchemaOutdated

# Each module adds its own subcommands; the order here is the order of `--help`.
COMMAND_MODULES = (
    run,
    web,
    console,
    db,
    keys,
    staff,
    lookup,
    setstatus,
    export,
    recover,
    audit,
    stats,
    hotspots,
    purge,
    police,
    access,
    reindex,
    tac,
    places,
)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line (subcommands inherit it)."""

    def error(self, message: str) -> NoReturn:
        """Print MESSAGE as one line and exit with status 2."""
        self.exit(2, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = _Parser(
        prog="reportbot",
        description="Stolen phone reporter: the Telegram bot and its register's tools.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors are one line on stderr and a non-zero exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        code: int = asyncio.run(args.func(args, settings))
        return code
    except (SettingsError, SchemaOutdated) as exc:
        return _fail(str(exc), 1)
    except CliError as exc:
        return _fail(str(exc), exc.code)
    except RegisterError as exc:
        # A refusal the register explains (a bad IMEI, an unknown report...), in English.
        return _fail(explain(exc), 2)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except CryptoError as exc:
        return _fail(
            f"cannot open the register's sealed data ({_first_line(exc)}): "
            "are these the keys the bot uses (DATA_KEYS and INDEX_KEY, or the key file)?",
            1,
        )
    except DBAPIError as exc:
        return _fail(f"database error: {_first_line(exc.orig or exc)}", 1)
    except OSError as exc:
        return _fail(_first_line(exc), 1)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _fail(message: str, code: int) -> int:
    print(f"reportbot: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
