"""The register's tools on the command line: TAC and gazetteer imports, police references,
access codes, reindex, the whole-report look-up, and the new export columns (in-process)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from models.register import Register
from models.services.export import BOM, COLUMNS
from models.storage.tables import Report, ReportKey
from models.values.imei import Imei
from tests import staff_fixtures
from tests.bot.cli_runner import run
from tests.factories import audit_events, new_report

cli_env = staff_fixtures.cli_env
pytestmark = pytest.mark.usefixtures("cli_env")

TAC_FILE = (
    '"Osmocom TAC database",,,,,,,\n'
    "tac,name,name,contributor,comment,gsmarena,gsmarena,aka\n"
    "35209900,Apple Inc,iPhone 15 Pro,someone,,,,\n"
    "3520990X,Apple,bad,someone,,,,\n"
)
PLACES_FILE = "name,lat,lon\nOxford Circus,51.5152,-0.1419\nW1D 1BS,51.5136,-0.1365\nNull,0,0\n"
APPLE_IMEI = Imei.parse("35-209900-176148-1")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


async def test_tac_import_lists_rejected_lines(register: Register, capsys, tmp_path) -> None:
    table = write(tmp_path / "tacdb.csv", TAC_FILE)
    rejected = tmp_path / "rejected.csv"

    code, out, err = await run(capsys, "tac", "import", str(table), "--rejected", str(rejected))

    assert (code, err) == (0, "")
    assert out.splitlines()[:2] == [
        "imported 1 TACs (osmocom) from 2 lines; replaced 0; rejected 1 lines",
        "  line 4: bad_tac (3520990X)",
    ]
    assert list(csv.reader(io.StringIO(rejected.read_text()))) == [
        ["line", "reason", "detail"],
        ["4", "bad_tac", "3520990X"],
    ]
    code, out, _ = await run(capsys, "tac", "check", APPLE_IMEI.digits, "--make", "samsung")
    assert (code, out) == (0, "35209900: Apple Inc iPhone 15 Pro (apple); DISAGREES with samsung\n")
    (event,) = await audit_events(register.db, "tac_import")
    assert event.actor.startswith("cli:")


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        (b"\x00\x01\x02binary", [], "the file is not text"),
        (TAC_FILE.encode() * 50, ["--max-size", "0"], "larger than the limit"),
        (b"no,header\nhere,at,all\nreally\n", [], "not a osmocom TAC file"),
    ],
)
async def test_a_hostile_tac_file_is_one_line_and_changes_nothing(
    register: Register, capsys, tmp_path, content: bytes, extra: list[str], message: str
) -> None:
    await run(capsys, "tac", "import", str(write(tmp_path / "good.csv", TAC_FILE)))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)

    code, out, err = await run(capsys, "tac", "import", str(bad), *extra)

    assert (code, out) == (1, "")
    (line,) = err.splitlines()
    assert line.startswith(f"reportbot: cannot import {bad}: ") and message in line
    assert await register.tac.lookup("35209900") is not None


async def test_a_missing_file_is_one_line(register: Register, capsys, tmp_path) -> None:
    code, out, err = await run(capsys, "places", "import", str(tmp_path / "nope.csv"))

    assert (code, out) == (1, "")
    assert err == f"reportbot: cannot import {tmp_path / 'nope.csv'}: no such file\n"


async def test_places_import_and_find(register: Register, capsys, tmp_path) -> None:
    places = write(tmp_path / "places.csv", PLACES_FILE)

    code, out, err = await run(capsys, "places", "import", str(places))
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "imported 3 names and postcodes (plain) from 3 lines; replaced 0; rejected 1 lines",
        "  line 4: bad_coordinates (coordinates_null_island)",
    ]

    code, out, _ = await run(capsys, "places", "find", "oxford circus st")
    assert (code, out) == (0, "51.515200,-0.141900  places_csv  place  Oxford Circus\n")
    code, out, _ = await run(capsys, "places", "find", "Atlantis")
    assert (code, out) == (0, "not found\n")


async def test_police_references_from_the_command_line(register: Register, capsys) -> None:
    filed = await register.reports.file(new_report(), "k1")

    code, out, err = await run(
        capsys, "police", "set", filed.reference, "--crime-ref", "1234567/24", "--force", "Met"
    )
    bad_code, bad_out, bad_err = await run(
        capsys, "police", "set", filed.reference, "--force", "Gotham"
    )

    assert (code, err) == (0, "")
    assert out == (
        f"{filed.reference}: crime reference 1234567/24, force Metropolitan Police Service (set)\n"
    )
    assert (bad_code, bad_out) == (2, "")
    assert bad_err.startswith("reportbot: That police force is not known.")
    view = await register.reports.get(filed.reference)
    assert view is not None and (view.crime_reference, view.police_force) == (
        "1234567/24",
        "metropolitan",
    )


async def test_an_access_code_is_reissued_and_shown_once(register: Register, capsys) -> None:
    filed = await register.reports.file(new_report(), "k1")

    code, out, _ = await run(capsys, "access", "reissue", filed.reference)

    assert code == 0
    new_code = out.splitlines()[0].rsplit(" ", 1)[1]
    assert await register.reports.verify_access(filed.reference, new_code) is not None
    assert await register.reports.verify_access(filed.reference, filed.access_code) is None
    (event,) = await audit_events(register.db, "access_code_reissue")
    assert new_code not in event.details


async def test_lookup_shows_the_whole_report_found_by_name(
    register: Register, capsys, tmp_path
) -> None:
    await run(capsys, "tac", "import", str(write(tmp_path / "tac.csv", TAC_FILE)))
    await run(capsys, "places", "import", str(write(tmp_path / "places.csv", PLACES_FILE)))
    filed = await register.reports.file(
        new_report(
            make="samsung",
            imeis=(APPLE_IMEI,),
            contact_name="Zoë O'Brien",
            place="Oxford Circus st",
            incident_lat=None,
            incident_lon=None,
            incident_from=datetime(2026, 3, 1, 18, 0, tzinfo=UTC),
            incident_to=datetime(2026, 3, 1, 18, 30, tzinfo=UTC),
            theft_method="lost",
        ),
        "k1",
    )
    await run(capsys, "police", "set", filed.reference, "--crime-ref", "01/2345/26")

    code, out, err = await run(capsys, "lookup", "zoe obrien")

    assert (code, err) == (0, "")
    for shown in (
        f"{filed.reference}  submitted  Samsung iPhone 15",
        "! TAC says:",
        "Apple Inc iPhone 15 Pro — does not match the make given",
        APPLE_IMEI.digits,
        "lost (not a crime) (lost)",
        "2026-03-01 18:00 UTC to 2026-03-01 18:30 UTC",
        "Crime reference:         01/2345/26",
        "Oxford Circus st — 51.51520, -0.14190 (places file, named place)",
        "Zoë O'Brien",
        "crime reference set to 01/2345/26 · cli:",
        "Chats (active / ended):  0 / 0",
    ):
        assert shown in out, shown
    code, out, _ = await run(capsys, "lookup", "--no-contact", "01/2345/26")
    assert code == 0 and filed.reference in out and "Zoë" not in out
    details = [json.loads(e.details) for e in await audit_events(register.db, "lookup")]
    assert [(d["kind"], d["contact_shown"]) for d in details] == [
        ("name", True),
        ("crime_reference", False),
    ]
    code, out, err = await run(capsys, "lookup", "--by", "email", "not-an-address")
    assert (code, out) == (2, "")
    assert err == "reportbot: That is not an e-mail address.\n"


async def test_reindex_finds_reports_filed_before_search_keys(register: Register, capsys) -> None:
    filed = await register.reports.file(new_report(contact_name="Zoë O'Brien"), "k1")
    async with register.db.write() as session:
        await session.execute(delete(ReportKey))
        await session.execute(update(Report).values(search_keys_version=0))
    missing = await run(capsys, "lookup", "--brief", "Zoe O'Brien")

    code, out, _ = await run(capsys, "reindex")
    found = await run(capsys, "lookup", "--brief", "Zoe O'Brien")

    assert missing[1] == "Zoe O'Brien: not in the register\n"
    assert code == 0
    assert out == "search keys added to 1 reports (of 1 pending); TAC make checked for 0 reports\n"
    assert found[1].startswith(filed.reference)


async def test_the_export_carries_what_police_record(register: Register, capsys, tmp_path) -> None:
    await run(capsys, "tac", "import", str(write(tmp_path / "tac.csv", TAC_FILE)))
    filed = await register.reports.file(
        new_report(
            make="apple",
            imeis=(APPLE_IMEI,),
            theft_method="force",
            incident_at=datetime(2026, 3, 1, 18, 15, tzinfo=UTC),
        ),
        "k1",
    )
    await register.police.set_by_staff(
        filed.reference, crime_reference="1234567/24", police_force="btp", actor="t", channel="t"
    )

    _, csv_out, _ = await run(capsys, "export", "--format", "csv")
    _, jsonl_out, _ = await run(capsys, "export", "--format", "jsonl")

    (row,) = csv.DictReader(io.StringIO(csv_out.removeprefix(BOM), newline=""))
    assert list(row) == list(COLUMNS)
    assert {name: row[name] for name in (
        "loss_kind", "incident_from", "incident_to", "crime_reference", "police_force",
        "tac_make", "tac_model", "tac_mismatch", "incident_point_source",
        "incident_point_precision", "tracked_point_source",
    )} == {
        "loss_kind": "robbery",
        "incident_from": "2026-03-01T18:15:00Z",
        "incident_to": "2026-03-01T18:15:00Z",
        "crime_reference": "1234567/24",
        "police_force": "btp",
        "tac_make": "Apple Inc",
        "tac_model": "iPhone 15 Pro",
        "tac_mismatch": "false",
        "incident_point_source": "pin",
        "incident_point_precision": "pin",
        "tracked_point_source": "",
    }  # fmt: skip
    record = json.loads(jsonl_out)
    assert (record["tac_mismatch"], record["tracked_point_precision"], record["loss_kind"]) == (
        False,
        None,
        "robbery",
    )
