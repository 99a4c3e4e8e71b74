"""`reportbot hotspots`: the table on stdout and an atomic --png."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from models.present import heatmap
from models.register import Register
from models.storage.columns import utcnow
from tests import staff_fixtures
from tests.bot.cli_runner import run
from tests.factories import audit_events, new_report, set_report_columns

cli_env = staff_fixtures.cli_env
pytestmark = pytest.mark.usefixtures("cli_env")

STASH = (51.54420, -0.10260)
PNG = b"\x89PNG\r\n\x1a\n"


async def file_reports(register: Register) -> None:
    """Three thefts whose phones were tracked to one address, and one filed 40 days ago."""
    now = utcnow()
    for n in range(3):
        filed = await register.reports.file(new_report(), f"k-{n}")
        await set_report_columns(
            register.db,
            filed.reference,
            tracked_lat=STASH[0],
            tracked_lon=STASH[1],
            tracked_at=now - timedelta(hours=n),
        )
    old = await register.reports.file(new_report(incident_lat=53.48, incident_lon=-2.24), "old")
    await set_report_columns(register.db, old.reference, created_at=now - timedelta(days=40))


async def test_table(register: Register, capsys) -> None:
    await file_reports(register)

    code, out, err = await run(capsys, "hotspots")
    code_60, out_60, _ = await run(capsys, "hotspots", "--days", "60")

    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("hotspots of reports filed ")
    assert "(30 days): 6 points, 2 clusters" in lines[0]
    assert lines[2].split()[:3] == ["#", "kind", "centre"]
    assert lines[3].split()[:2] == ["1", "tracked"] and lines[3].split()[2].startswith("51.54")
    assert lines[3].split()[3] == "3"
    assert lines[4].split()[:2] == ["2", "theft"] and lines[4].split()[3] == "3"
    assert lines[-1].startswith("tracked clusters: 1")
    assert "53.47" not in out
    assert code_60 == 0 and "(60 days): 7 points, 2 clusters" in out_60
    events = [json.loads(e.details) for e in await audit_events(register.db, "hotspots")]
    assert events == [
        {"clusters": 2, "channel": "cli", "days": 30},
        {"clusters": 2, "channel": "cli", "days": 60},
    ]


async def test_empty_register(register: Register, capsys) -> None:
    code, out, _ = await run(capsys, "hotspots", "--days", "7")
    assert (code, out) == (0, "no report filed in the last 7 days gives a location\n")


async def test_png_written_atomically(register: Register, capsys, tmp_path: Path) -> None:
    await file_reports(register)
    target = tmp_path / "pics" / "hotspots.png"
    target.parent.mkdir()
    target.write_bytes(b"old picture")

    code, out, err = await run(capsys, "hotspots", "--png", str(target))

    assert (code, err) == (0, "")
    assert out.startswith("hotspots of reports")
    png = target.read_bytes()
    assert png.startswith(PNG) and len(png) < 400_000
    found = await register.hotspots.find()
    assert png == heatmap.render(found)
    assert sorted(p.name for p in target.parent.iterdir()) == ["hotspots.png"]


async def test_png_into_a_missing_folder(register: Register, capsys, tmp_path: Path) -> None:
    await file_reports(register)
    target = tmp_path / "missing" / "hotspots.png"

    code, out, err = await run(capsys, "hotspots", "--png", str(target))

    assert code != 0 and out == ""
    assert err == f"reportbot: --png: folder {target.parent} does not exist\n"
    assert not target.parent.exists()
    assert await audit_events(register.db, "hotspots") == []


async def test_png_write_failure_leaves_no_file(register: Register, capsys, tmp_path, monkeypatch):
    await file_reports(register)
    target = tmp_path / "hotspots.png"
    target.write_bytes(b"old picture")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("models.storage.files.os.replace", broken)
    code, _, err = await run(capsys, "hotspots", "--png", str(target))

    assert code == 1 and err == "reportbot: disk full\n"
    assert target.read_bytes() == b"old picture"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".hotspots")] == []


@pytest.mark.parametrize("days", ["0", "x", "-3"])
async def test_bad_days(capsys, days: str) -> None:
    code, _, err = await run(capsys, "hotspots", "--days", days)
    assert code == 2  # argparse's usage error
    assert len(err.strip().splitlines()) == 1 and "--days" in err
