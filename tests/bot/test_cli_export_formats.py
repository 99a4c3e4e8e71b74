"""`reportbot export --format geojson|kml|blocklist`: files, stdout, options that do not apply."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.register import Register
from tests import staff_fixtures
from tests.bot.cli_runner import run
from tests.factories import audit_events, imei, new_report

cli_env = staff_fixtures.cli_env
pytestmark = pytest.mark.usefixtures("cli_env")


async def test_geojson_file_and_personal_flag(register: Register, capsys, tmp_path: Path) -> None:
    filed = await register.reports.file(new_report(), "one")
    target = tmp_path / "reports.geojson"

    code, out, err = await run(capsys, "export", "--format", "geojson", "-o", str(target))
    assert (code, out, err) == (0, "", f"exported 1 points to {target}\n")
    (feature,) = json.loads(target.read_text())["features"]
    assert feature["id"] == f"{filed.reference}/theft"
    assert "contact_name" not in feature["properties"]

    code, _, _ = await run(capsys, "export", "--format", "geojson", "--personal", "-o", str(target))
    (feature,) = json.loads(target.read_text())["features"]
    assert code == 0 and feature["properties"]["contact_name"] == "Alex Example"
    events = [json.loads(e.details) for e in await audit_events(register.db, "export")]
    assert [event.get("personal", False) for event in events] == [False, True]
    assert {event["channel"] for event in events} == {"cli"}


async def test_kml_and_blocklist_to_stdout(register: Register, capsys) -> None:
    handset = imei()
    await register.reports.file(new_report(imeis=(handset,)), "one")

    code, out, err = await run(capsys, "export", "--format", "kml")
    assert code == 0 and out.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    assert err == "exported 1 points to stdout\n"

    code, out, err = await run(capsys, "export", "--format", "blocklist")
    assert code == 0 and err == "exported 1 IMEIs to stdout\n"
    header, line = out.splitlines()
    assert header == "imei,reporting_date,status"
    assert line.startswith(f"{handset.digits},20") and line.endswith(",blacklist")

    code, out, _ = await run(
        capsys, "export", "--format", "blocklist", "--delta-since", "2020-01-01"
    )
    assert code == 0
    assert out.splitlines()[0] == "imei,reporting_date,status,change_type"
    assert out.splitlines()[1].endswith(",blacklist,add")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--format", "csv", "--personal"], "--personal does not apply to --format csv"),
        (
            ["--format", "kml", "--delta-since", "2026-01-01"],
            "--delta-since does not apply to --format kml",
        ),
        (
            ["--format", "blocklist", "--since", "2026-01-01"],
            "--since does not apply to --format blocklist",
        ),
        (["--format", "blocklist", "--delta-since", "soon"], "--delta-since: expected a date"),
    ],
)
async def test_options_that_do_not_apply_are_one_line(
    register: Register, capsys, tmp_path: Path, argv: list[str], message: str
) -> None:
    target = tmp_path / "out"
    code, out, err = await run(capsys, "export", *argv, "-o", str(target))
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and message in err
    assert not target.exists()
    assert await audit_events(register.db, "export") == []
