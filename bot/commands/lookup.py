"""`reportbot lookup QUERY`: the whole report, as staff see it in Telegram's /lookup."""

from __future__ import annotations

import argparse

from bot import runtime
from bot.commands.common import CliError, cli_actor, format_time
from bot.settings import Settings
from handlers.texts import describe, text
from models.present.sheet import render_text, report_sheet
from models.services.reports import ReportView
from models.services.search import Query, SearchBy, guess_kind
from models.services.search import parse_query as parse_search
from models.values.imei import Imei, InvalidImei
from models.values.reference import InvalidReference, Reference

KINDS = {
    "imei": SearchBy.IMEI,
    "reference": SearchBy.REFERENCE,
    "phone": SearchBy.PHONE,
    "email": SearchBy.EMAIL,
    "name": SearchBy.NAME,
    "crime-ref": SearchBy.CRIME_REFERENCE,
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `lookup`."""
    lookup = subparsers.add_parser(
        "lookup",
        help="find reports by IMEI, reference, victim's phone, e-mail or name, or crime reference",
        description=(
            "Find reports and show each one whole (status, device, TAC, IMEIs, times, places, "
            "contact, history, delivery). QUERY is guessed: an IMEI (14-16 digits), a reference "
            "(SPR-XXXX-XX), an e-mail (has @), a phone number, a crime reference (has / or "
            "letters and digits) or a name (letters); --by says which. Every look-up is audited."
        ),
    )
    lookup.add_argument(
        "query", metavar="IMEI_OR_REF", help="what to look for: IMEI, SPR-XXXX-XX, phone, ..."
    )
    lookup.add_argument("--by", choices=sorted(KINDS), help="how QUERY is meant (else guessed)")
    lookup.add_argument(
        "--brief", action="store_true", help="one line a report (reference, status, device)"
    )
    lookup.add_argument(
        "--no-contact", action="store_true", help="leave the victim's contact details out"
    )
    lookup.set_defaults(func=lookup_command)


def parse_query(text_typed: str) -> Imei | Reference:
    """An IMEI when the text has digits only (after separators), else a reference."""
    letters = any(char.isalpha() for char in text_typed)
    try:
        return Reference.parse(text_typed) if letters else Imei.parse(text_typed)
    except (InvalidImei, InvalidReference) as exc:
        kind = "reference" if letters else "IMEI"
        raise CliError(f"not a valid {kind}: {describe(exc, html_text=False)}", 2) from None


def query_of(typed: str, by: str | None, region: str) -> Query:
    """The search QUERY and --by describe; an IMEI or reference keeps its detailed refusal."""
    kind = KINDS[by] if by else guess_kind(typed, region)
    if kind in (SearchBy.IMEI, SearchBy.REFERENCE) and by is None:
        value = parse_query(typed)
        return Query(SearchBy.IMEI if isinstance(value, Imei) else SearchBy.REFERENCE, value)
    return parse_search(typed, kind, region=region)


def describe_device(report: ReportView) -> str:
    """Make, model and colour in one phrase."""
    parts = [report.make.capitalize(), report.get("model") or ""]
    colour = report.get("colour")
    device = " ".join(part for part in parts if part)
    return f"{device} ({colour})" if colour else device


def summary(report: ReportView) -> str:
    """One line: reference, status, device, when filed."""
    return (
        f"{report.reference}  {report.status.value}  {describe_device(report)}  "
        f"filed {format_time(report.created_at)}"
    )


def _label(query: Query, typed: str) -> str:
    if query.by is SearchBy.IMEI:
        imei: Imei = query.value
        return imei.masked
    if query.by is SearchBy.REFERENCE:
        return str(query.value)
    return typed.strip()


async def lookup_command(args: argparse.Namespace, settings: Settings) -> int:
    """Print every report found, whole (or one line each with --brief)."""
    query = query_of(args.query, args.by, settings.default_region)
    with_contact = not (args.brief or args.no_contact)
    register = await runtime.open_register(settings)
    try:
        reports = await register.search.find(
            query, actor=cli_actor(), channel="cli", contact_shown=with_contact
        )
        sheets = []
        if not args.brief:
            for report in reports:
                sheet = report_sheet(
                    report,
                    events=await register.search.events(report.id),
                    delivery=await register.outbox.delivery_summary(report.id),
                    with_contact=with_contact,
                )
                sheets.append(render_text(sheet, text))
    finally:
        await register.close()
    if not reports:
        print(f"{_label(query, args.query)}: not in the register")
        return 0
    for number, report in enumerate(reports):
        if args.brief:
            print(summary(report))
            continue
        if number:
            print()
        print(summary(report))
        print("\n".join(sheets[number].splitlines()[1:]))
    return 0
