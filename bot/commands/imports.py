"""Importing reference data from the command line (`tac import`, `places import`): the options,
the checks before anything is read, and what is printed and written after.

A data set declares itself once as a `DataFile` (what its rows are, its formats, how the register
loads it); `add_import_parser` gives it its `import` subcommand."""

from __future__ import annotations

import argparse
import csv
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from bot import runtime
from bot.commands.common import CliError, cli_actor, explain
from bot.settings import Settings
from models.errors import RegisterError
from models.register import Register
from models.services.datasets import ImportResult, Rejected
from models.storage.files import atomic_write

MB = 1024 * 1024


# The register's service method that replaces a data set: (FILE, or [FILE, ...]; actor=,
# file_format= (None: detected), max_bytes=) -> what was imported.
Importer = Callable[..., Awaitable[ImportResult]]


@dataclass(frozen=True, slots=True)
class DataFile:
    """A reference data set that `reportbot NAME import FILE` replaces whole, or not at all."""

    rows: str  # what the rows are, as the summary counts them ("TACs")
    help: str
    description: str
    formats: type[Enum]
    default_max_bytes: int
    importer: Callable[[Register], Importer]
    several: bool = False  # whether several files make one data set (passed as a list)
    afterwards: str | None = None  # a line printed after a successful import


def add_import_parser(actions: argparse._SubParsersAction, data: DataFile) -> None:
    """Register DATA's `import` subcommand."""
    load = actions.add_parser("import", help=data.help, description=data.description)
    load.add_argument("files", type=Path, nargs="+" if data.several else 1, metavar="FILE")
    add_import_options(load, [f.value for f in data.formats], data.default_max_bytes)

    async def import_command(args: argparse.Namespace, settings: Settings) -> int:
        """Import DATA and say what was taken and what was rejected."""
        file_format = data.formats(args.format) if args.format else None
        result = await run_import(
            settings,
            args.files,
            args.rejected,
            lambda register: data.importer(register)(
                args.files if data.several else args.files[0],
                actor=cli_actor(),
                file_format=file_format,
                max_bytes=args.max_size * MB,
            ),
        )
        print_import(result, data.rows)
        if data.afterwards:
            print(data.afterwards)
        return 0

    load.set_defaults(func=import_command)


def add_import_options(
    parser: argparse.ArgumentParser, formats: Iterable[str], default_max_bytes: int
) -> None:
    """--format, --max-size and --rejected, as every import takes them."""
    parser.add_argument("--format", choices=list(formats), help="else detected")
    parser.add_argument(
        "--max-size", type=int, default=default_max_bytes // MB, metavar="MB",
        help=f"refuse a larger file (default {default_max_bytes // MB})",
    )  # fmt: skip
    parser.add_argument("--rejected", type=Path, metavar="CSV", help="write every rejected line")


async def run_import(
    settings: Settings,
    paths: Sequence[Path],
    rejected: Path | None,
    load: Callable[[Register], Awaitable[ImportResult]],
) -> ImportResult:
    """Check PATHS and REJECTED's folder, LOAD them into the register, write REJECTED."""
    for path in paths:
        if not path.is_file():
            raise CliError(f"cannot import {path}: no such file")
    check_rejected_target(rejected)
    register = await runtime.open_register(settings)
    try:
        result = await load(register)
    except RegisterError as exc:
        names = ", ".join(str(path) for path in paths)
        raise CliError(f"cannot import {names}: {explain(exc)}") from None
    finally:
        await register.close()
    if rejected is not None:
        write_rejected(rejected, result.rejected)
    return result


def check_rejected_target(path: Path | None) -> None:
    """CliError unless PATH can be written (its folder exists)."""
    if path is not None and not path.parent.is_dir():
        raise CliError(f"cannot write {path}: folder {path.parent} does not exist")


def write_rejected(path: Path, rejected: list[Rejected]) -> None:
    """The rejected lines as CSV (where, reason, detail), written atomically to PATH."""
    with atomic_write(path) as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["line", "reason", "detail"])
        for item in rejected:
            writer.writerow([item.line, item.reason, item.detail or ""])


def print_import(result: ImportResult, what: str, shown: int = 20) -> None:
    """What an import did, and the first SHOWN rejected lines with their reasons."""
    print(
        f"imported {result.rows} {what} ({result.format}) from {result.lines} lines; "
        f"replaced {result.previous_rows}; rejected {result.rejected_total} lines"
    )
    for item in result.rejected[:shown]:
        detail = f" ({item.detail})" if item.detail else ""
        print(f"  line {item.line}: {item.reason}{detail}")
    if result.rejected_total > shown:
        print(f"  ... and {result.rejected_total - shown} more (--rejected FILE lists them)")
