"""`reportbot export`: reports as CSV, JSON Lines, GeoJSON or KML, or the block-list feed, to a
file (atomically) or to stdout. Formats: docs/export-formats.md."""

from __future__ import annotations

import argparse
import io
import sys
from datetime import timedelta
from pathlib import Path

from bot import runtime
from bot.commands.common import CliError, cli_actor, parse_when
from bot.settings import Settings
from handlers.texts import describe
from models.services.export import ExportFilter, ExportFormat, ExportOptionError
from models.values.statuses import Status, UnknownStatus, parse_status


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `export`."""
    export = subparsers.add_parser(
        "export",
        help="export reports (personal data) as CSV, JSON Lines, GeoJSON, KML or a block list",
        description=(
            "Export reports, oldest first, or the block-list feed. Columns and formats: "
            "docs/export-formats.md."
        ),
    )
    export.add_argument(
        "--format",
        default=ExportFormat.CSV.value,
        choices=[member.value for member in ExportFormat],
        help=(
            "csv (safe to open in a spreadsheet; the default), jsonl (raw values), geojson or "
            "kml (one point per theft place and tracked location), blocklist "
            "(imei,reporting_date,status)"
        ),
    )
    export.add_argument(
        "--personal",
        action="store_true",
        help="geojson/kml: add the victims' personal data to each point (recorded as such)",
    )
    export.add_argument(
        "--delta-since",
        metavar="D",
        help="blocklist: only what changed since D (change_type add, update or remove)",
    )
    export.add_argument("--since", metavar="D", help="filed on or after D (YYYY-MM-DD, UTC)")
    export.add_argument(
        "--until", metavar="D", help="filed up to D (a date includes the whole day)"
    )
    export.add_argument("--status", metavar="S", help="only reports in status S")
    export.add_argument(
        "-o", "--output", metavar="FILE", help="write FILE (complete or not at all); else stdout"
    )
    export.set_defaults(func=export_command)


def selection(args: argparse.Namespace) -> ExportFilter:
    """The filter the options describe; CliError for a bad date, range or status."""
    since = parse_when(args.since, option="--since") if args.since else None
    until = parse_when(args.until, option="--until") if args.until else None
    if until is not None and len(args.until.strip()) == 10:
        until += timedelta(days=1)
    if since is not None and until is not None and since >= until:
        raise CliError("--since must come before --until", 2)
    status: Status | None = None
    if args.status:
        try:
            status = parse_status(args.status)
        except UnknownStatus as exc:
            raise CliError(f"--status: {describe(exc, html_text=False)}", 2) from None
    delta_since = parse_when(args.delta_since, option="--delta-since") if args.delta_since else None
    chosen = ExportFilter(
        since=since, until=until, status=status, personal=args.personal, delta_since=delta_since
    )
    try:
        chosen.check(ExportFormat(args.format))
    except ExportOptionError as exc:
        option = "--" + exc.params["option"].replace("_", "-")
        raise CliError(f"{option} does not apply to --format {exc.params['format']}", 2) from None
    return chosen


def check_output(path: Path) -> Path:
    """PATH, if a file can be written there; CliError otherwise, before any work is done."""
    folder = path.parent
    if not folder.is_dir():
        raise CliError(f"cannot write {path}: folder {folder} does not exist")
    if path.is_dir():
        raise CliError(f"cannot write {path}: it is a folder")
    return path


async def export_command(args: argparse.Namespace, settings: Settings) -> int:
    """Export, then say on stderr how many reports were written."""
    chosen = selection(args)
    export_format = ExportFormat(args.format)
    target = check_output(Path(args.output)) if args.output else None
    async with runtime.opened_register(settings) as register:
        if target is not None:
            try:
                result = await register.export.to_file(
                    target, export_format, chosen, actor=cli_actor(), channel="cli"
                )
            except OSError as exc:
                raise CliError(f"cannot write {target}: {exc.strerror or exc}") from None
        else:
            sys.stdout.flush()
            out = io.TextIOWrapper(
                sys.stdout.buffer, encoding="utf-8", newline="", write_through=False
            )
            try:
                result = await register.export.to_stream(
                    out, export_format, chosen, actor=cli_actor(), channel="cli"
                )
            finally:
                out.detach()
    where = target if target is not None else "stdout"
    print(f"exported {result.rows} {export_format.unit} to {where}", file=sys.stderr)
    if result.skipped:
        print(
            f"left out {result.skipped} impossible coordinates (out of range, or 0,0)",
            file=sys.stderr,
        )
    return 0
