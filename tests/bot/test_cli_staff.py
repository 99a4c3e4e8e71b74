"""The staff tools' command line: export, recover, audit, stats, purge (in-process)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from models.register import Register
from models.services.export import BOM, COLUMNS
from models.storage.columns import utcnow
from models.values.statuses import Status
from tests import staff_fixtures
from tests.bot.cli_runner import run
from tests.factories import audit_events, imei, new_report, set_report_columns

cli_env = staff_fixtures.cli_env
pytestmark = pytest.mark.usefixtures("cli_env")


def files_in(folder: Path) -> list[Path]:
    """Every file under FOLDER except the test's own database files."""
    return sorted(path for path in folder.rglob("*") if ".db" not in path.name)


async def file_reports(register: Register, count: int) -> list[str]:
    refs = []
    for n in range(count):
        filed = await register.reports.file(new_report(), f"k-{n}")
        created = utcnow().replace(year=2026, month=3, day=n + 1, hour=12)
        await set_report_columns(register.db, filed.reference, created_at=created)
        refs.append(filed.reference)
    return refs


# --- export ----------------------------------------------------------------------------------


async def test_export_csv_to_a_file(register: Register, capsys, tmp_path: Path) -> None:
    refs = await file_reports(register, 3)
    target = tmp_path / "out.csv"

    code, out, err = await run(capsys, "export", "--format", "csv", "-o", str(target))

    assert (code, out) == (0, "")
    assert err == f"exported 3 reports to {target}\n"
    content = target.read_text(encoding="utf-8")
    assert content.startswith(BOM)
    rows = list(csv.DictReader(io.StringIO(content.removeprefix(BOM), newline="")))
    assert [row["reference"] for row in rows] == refs
    assert list(rows[0]) == list(COLUMNS)
    (event,) = await audit_events(register.db, "export")
    assert event.actor.startswith("cli:")
    assert json.loads(event.details)["channel"] == "cli"


async def test_export_jsonl_to_stdout_with_filters(register: Register, capsys) -> None:
    refs = await file_reports(register, 4)
    await register.reports.change_status(refs[2], Status.LOCATED, actor="t")

    code, out, _ = await run(
        capsys, "export", "--format", "jsonl", "--since", "2026-03-02", "--until", "2026-03-03"
    )
    code_status, out_status, _ = await run(
        capsys, "export", "--format", "jsonl", "--status", "located"
    )

    assert code == code_status == 0
    assert [json.loads(line)["reference"] for line in out.splitlines()] == refs[1:3]
    assert [json.loads(line)["reference"] for line in out_status.splitlines()] == [refs[2]]
    events = [json.loads(e.details) for e in await audit_events(register.db, "export")]
    assert (events[0]["since"], events[0]["until"]) == (
        "2026-03-02T00:00:00Z",
        "2026-03-04T00:00:00Z",
    )


async def test_csv_is_the_default_format_on_stdout(register: Register, capsys) -> None:
    await file_reports(register, 1)

    code, out, _ = await run(capsys, "export")

    assert code == 0
    assert out.startswith(BOM + '"reference","status",')


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["-o", "{tmp}/missing/out.csv"], 1, "folder {tmp}/missing does not exist"),
        (["-o", "{tmp}"], 1, "it is a folder"),
        (["--status", "lost"], 2, "--status: unknown status 'lost'"),
        (["--since", "yesterday"], 2, "--since: expected a date"),
        (["--since", "2026-03-05", "--until", "2026-03-01"], 2, "--since must come before"),
        (["--format", "xlsx"], 2, "invalid choice: 'xlsx'"),
    ],
)
async def test_export_errors_are_one_line_and_write_nothing(
    register: Register, capsys, tmp_path: Path, argv: list[str], code: int, message: str
) -> None:
    await file_reports(register, 1)
    before = files_in(tmp_path)
    argv = [arg.format(tmp=tmp_path) for arg in argv]

    if code == 2 and argv[0] == "--format":
        with pytest.raises(SystemExit) as exit_info:
            await asyncio.to_thread(main, ["export", *argv])
        got, out, err = exit_info.value.code, *capsys.readouterr()
    else:
        got, out, err = await run(capsys, "export", *argv)

    assert got == code
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert message.format(tmp=tmp_path) in err
    assert files_in(tmp_path) == before
    assert await audit_events(register.db, "export") == []


# --- recover ---------------------------------------------------------------------------------


async def test_recover_dry_run_then_for_real_then_again(
    register: Register, capsys, tmp_path: Path
) -> None:
    known, closed_imei, unknown = imei(), imei(), imei()
    filed = await register.reports.file(new_report(imeis=(known,)), "k-known")
    closed = await register.reports.file(new_report(imeis=(closed_imei,)), "k-closed")
    await register.reports.change_status(closed.reference, Status.CLOSED, actor="t")
    seized = tmp_path / "seized.csv"
    seized.write_text(
        f"imei\n{known.digits[:14]}\n{closed_imei.digits}\n{unknown.digits}\nnope\n{known.digits}\n"
    )

    code, dry, _ = await run(capsys, "recover", str(seized), "--dry-run")

    assert code == 0
    assert "values read: 5" in dry
    assert "matched: 2" in dry
    assert "not in the register: 1" in dry
    assert "malformed: 1" in dry
    assert "repeated in the file: 1" in dry
    assert f"would mark recovered: 1\n  {filed.reference}" in dry
    assert f"{closed.reference} (closed)" in dry
    assert "line 5: malformed" in dry
    assert "line 6: repeats line 2" in dry
    view = await register.reports.get(filed.reference)
    assert view is not None and view.status is Status.SUBMITTED

    code, applied, _ = await run(capsys, "recover", str(seized))
    assert code == 0
    assert f"marked recovered: 1\n  {filed.reference}" in applied
    view = await register.reports.get(filed.reference)
    assert view is not None and view.status is Status.RECOVERED

    code, again, _ = await run(capsys, "recover", str(seized))
    assert code == 0
    assert "marked recovered: 0" in again
    events = [json.loads(e.details) for e in await audit_events(register.db, "recovery")]
    assert [(e["dry_run"], e["recovered"]) for e in events] == [(True, 1), (False, 1), (False, 0)]


@pytest.mark.parametrize(
    ("content", "message"), [(None, "cannot read"), (b"IMEI\n", "the file holds no IMEIs")]
)
async def test_recover_errors(register: Register, capsys, tmp_path: Path, content, message):
    path = tmp_path / "seized.csv"
    if content is not None:
        path.write_bytes(content)

    code, out, err = await run(capsys, "recover", str(path))

    assert code == 1
    assert out == ""
    assert message in err and len(err.strip().splitlines()) == 1
    assert await audit_events(register.db, "recovery") == []


# --- audit, stats, purge -----------------------------------------------------------------------


async def test_audit_prints_who_did_what(register: Register, capsys, tmp_path: Path) -> None:
    (ref,) = await file_reports(register, 1)
    await register.reports.change_status(ref, Status.LOCATED, actor="tg:77")
    await run(capsys, "export", "-o", str(tmp_path / "x.csv"))

    code, out, _ = await run(capsys, "audit")
    _, only_exports, _ = await run(capsys, "audit", "--action", "export")
    _, future, _ = await run(capsys, "audit", "--since", "2999-01-01")

    assert code == 0
    lines = out.splitlines()
    assert any(f"tg:77  status_change  {ref}" in line for line in lines)
    assert any('export  -  channel="cli"' in line and "rows=1" in line for line in lines)
    assert all("  export  " in line for line in only_exports.splitlines())
    assert future == "no audit events\n"


async def test_stats(register: Register, capsys) -> None:
    await file_reports(register, 2)

    code, out, _ = await run(capsys, "stats")

    assert code == 0
    assert "reports: 2" in out
    assert "with an IMEI: 2 (100.0%)" in out
    assert "  submitted           2" in out
    assert "  snatched_moped             2" in out


async def test_purge_dry_run_then_for_real_keeps_the_audit(register: Register, capsys) -> None:
    old, recent = await file_reports(register, 2)
    for ref in (old, recent):
        await register.reports.change_status(ref, Status.CLOSED, actor="t")
    long_ago = utcnow() - timedelta(days=register.config.report_retention_days + 1)
    await set_report_columns(register.db, old, status_changed_at=long_ago)

    code, dry, _ = await run(capsys, "purge", "--dry-run")
    assert code == 0
    assert "would delete 1 reports" in dry
    assert await register.reports.get(old) is not None

    code, done, _ = await run(capsys, "purge")
    assert code == 0
    assert "deleted 1 reports" in done
    assert await register.reports.get(old) is None
    assert await register.reports.get(recent) is not None
    events = await audit_events(register.db)
    assert any(e.action == "status_change" and e.target == old for e in events)
    (purge,) = [e for e in events if e.action == "purge"]
    assert json.loads(purge.details)["reports"] == 1
