"""`reportbot places import FILE...` and `reportbot places find TEXT`: the gazetteer."""

from __future__ import annotations

import argparse

from bot import runtime
from bot.commands.imports import DataFile, add_import_parser
from bot.settings import Settings
from models.services.places import DEFAULT_MAX_BYTES, PlacesFormat

GAZETTEER = DataFile(
    rows="names and postcodes",
    help="replace the gazetteer (OS Open Names, ONS Postcode Directory, name,lat,lon)",
    description="Formats and licences: docs/data-sources.md. Several files (e.g. OS Open "
    "Names' DATA/*.csv) make one gazetteer; it is replaced whole, or not at all.",
    formats=PlacesFormat,
    default_max_bytes=DEFAULT_MAX_BYTES,
    importer=lambda register: register.gazetteer.import_files,
    several=True,
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `places` and its subcommands."""
    places = subparsers.add_parser("places", help="the gazetteer that puts typed places on a map")
    actions = places.add_subparsers(dest="places_command", required=True, metavar="ACTION")
    add_import_parser(actions, GAZETTEER)
    find = actions.add_parser("find", help="where the register would put a typed place")
    find.add_argument("text", metavar="TEXT")
    find.set_defaults(func=find_command)


async def find_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print the point, source and precision a typed place gets, or that it has none."""
    async with runtime.opened_register(settings) as register:
        point = await register.geocoder.locate(args.text)
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
