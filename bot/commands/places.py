"""`reportbot places import FILE...` and `reportbot places find TEXT`: the gazetteer."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot import runtime
from bot.commands.common import cli_actor
from bot.commands.imports import MB, add_import_options, print_import, run_import
from bot.settings import Settings
from models.services.places import DEFAULT_MAX_BYTES, PlacesFormat


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `places` and its subcommands."""
    places = subparsers.add_parser("places", help="the gazetteer that puts typed places on a map")
    actions = places.add_subparsers(dest="places_command", required=True, metavar="ACTION")
    load = actions.add_parser(
        "import",
        help="replace the gazetteer (OS Open Names, ONS Postcode Directory, name,lat,lon)",
        description="Formats and licences: docs/data-sources.md. Several files (e.g. OS Open "
        "Names' DATA/*.csv) make one gazetteer; it is replaced whole, or not at all.",
    )
    load.add_argument("files", type=Path, nargs="+", metavar="FILE")
    add_import_options(load, [f.value for f in PlacesFormat], DEFAULT_MAX_BYTES)
    load.set_defaults(func=import_command)
    find = actions.add_parser("find", help="where the register would put a typed place")
    find.add_argument("text", metavar="TEXT")
    find.set_defaults(func=find_command)


async def import_command(args: argparse.Namespace, settings: Settings) -> int:
    """Import the gazetteer and say what was taken and what was rejected."""
    result = await run_import(
        settings,
        args.files,
        args.rejected,
        lambda register: register.gazetteer.import_files(
            args.files,
            actor=cli_actor(),
            file_format=PlacesFormat(args.format) if args.format else None,
            max_bytes=args.max_size * MB,
        ),
    )
    print_import(result, "names and postcodes")
    return 0


async def find_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the point, source and precision a typed place gets, or that it has none."""
    register = await runtime.open_register(settings)
    try:
        point = await register.geocoder.locate(args.text)
    finally:
        await register.close()
    if point is None:
        print("not found")
        return 0
    area = register.config.service_area
    outside = area is not None and not area.contains(point.lat, point.lon)
    print(
        f"{point.lat:.6f},{point.lon:.6f}  {point.source.value}  {point.precision.value}  "
        f"{point.name or ''}{'  (outside the service area)' if outside else ''}".rstrip()
    )
    return 0
