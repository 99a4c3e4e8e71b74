"""`reportbot recover` and `reportbot setstatus`: every line listed, --out, hostile files refused.

The hostile files go to the real command-line process, whose peak memory is measured by a small
parent process of its own (`RUSAGE_CHILDREN` of a process whose only child is the command).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from models.register import Register
from models.services.export import BOM
from models.storage.tables import Notification
from models.values.statuses import Status
from tests import staff_fixtures
from tests.bot.cli_runner import run
from tests.factories import audit_events, imei, new_report, rows, subscribe

cli_env = staff_fixtures.cli_env
PROJECT = Path(__file__).resolve().parents[2]
# Runs the command given as its arguments and reports its exit code, output and peak memory.
MEASURE = """
import json, resource, subprocess, sys
done = subprocess.run(sys.argv[1:], capture_output=True)
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"code": done.returncode, "out": done.stdout.decode(errors="replace"),
                  "err": done.stderr.decode(errors="replace"), "peak_mb": peak_kb / 1024}))
"""


async def run_process(env: dict[str, str], *argv: str) -> dict:
    """Run `reportbot ARGV...` as its own process: code, out, err and its peak memory in MB."""
    environment = {**os.environ, **env}
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", MEASURE, sys.executable, "-m", "bot", *argv],
        env=environment,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,  # a safety net only: the command answers in about a second
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --- every line, and --out ------------------------------------------------------------------------


@pytest.fixture
async def mixed(register: Register, tmp_path: Path):
    """A register with an open, a closed and a doubly filed IMEI, and a file naming them all."""
    known, closed_imei, shared, unknown = imei(), imei(), imei(), imei()
    filed = await register.reports.file(new_report(imeis=(known,)), "k-known")
    closed = await register.reports.file(new_report(imeis=(closed_imei,)), "k-closed")
    await register.reports.change_status(closed.reference, Status.CLOSED, actor="t")
    first = await register.reports.file(new_report(make="apple", imeis=(shared,)), "k-a")
    second = await register.reports.file(new_report(make="samsung", imeis=(shared,)), "k-b")
    await subscribe(register.db, first.report_id, 4401)
    path = tmp_path / "seized.csv"
    path.write_text(
        "exhibit,imei\n"
        f"A1,{known.digits}\n"
        f"A2,{closed_imei.digits}\n"
        f"A3,{shared.digits}\n"
        f"A4,{unknown.digits}\n"
        "A5,=HYPERLINK(1)\n"
        f"A6,{known.grouped}\n"
    )
    return {
        "path": path,
        "filed": filed.reference,
        "closed": closed.reference,
        "first": first.reference,
        "second": second.reference,
        "unknown": unknown,
        "known": known,
        "shared": shared,
    }


@pytest.mark.usefixtures("cli_env")
async def test_recover_lists_every_line(register: Register, mixed, capsys) -> None:
    code, out, err = await run(capsys, "recover", str(mixed["path"]))

    assert (code, err) == (0, "")
    assert "values read: 6" in out
    assert "ambiguous (in several reports, none marked): 1" in out
    assert f"marked recovered: 1\n  {mixed['filed']}\n" in out
    lines = out.splitlines()
    every = [line for line in lines if line.startswith("line ")]
    day = f"{(await register.reports.get(mixed['first'])).created_at:%Y-%m-%d}"
    candidates = sorted(
        [
            f"{mixed['first']} (submitted, apple, filed {day})",
            f"{mixed['second']} (submitted, samsung, filed {day})",
        ]
    )
    assert every == [
        f"line 2: matched {mixed['filed']}",
        f"line 3: matched {mixed['closed']}",
        f"line 4: ambiguous, in {', '.join(candidates)}",
        f"line 5: not in the register: {mixed['unknown'].digits}",
        "line 6: malformed (An IMEI has only digits: remove “=” and type just the number.): "
        "'=HYPERLINK(1)'",
        "line 7: repeats line 2",
    ]
    assert "reportbot setstatus REF recovered" in lines[-1]
    for reference in (mixed["first"], mixed["second"]):
        view = await register.reports.get(reference)
        assert view is not None and view.status is Status.SUBMITTED


@pytest.mark.usefixtures("cli_env")
async def test_a_person_chooses_with_setstatus(register: Register, mixed, capsys) -> None:
    await run(capsys, "recover", str(mixed["path"]))

    code, out, err = await run(capsys, "setstatus", mixed["first"].lower(), "Recovered")

    assert (code, err) == (0, "")
    assert out == f"{mixed['first']}: submitted -> recovered; victim notifications queued: 1\n"
    view = await register.reports.get(mixed["first"])
    assert view is not None and view.status is Status.RECOVERED
    assert view.history[-1].actor.startswith("cli:")
    assert len(await rows(register.db, Notification)) == 1
    # The file again: the chosen report now claims the handset, so the other stays untouched.
    code, out, _ = await run(capsys, "recover", str(mixed["path"]))
    assert "marked recovered: 0" in out
    view = await register.reports.get(mixed["second"])
    assert view is not None and view.status is Status.SUBMITTED


@pytest.mark.usefixtures("cli_env")
@pytest.mark.parametrize(
    ("argv", "message", "exit_code"),
    [
        (["SPR-AAAA-AA", "recovered"], "That reference has a typo", 2),
        (["{ref}", "found"], "unknown status 'found'", 2),
        (["{ref}", "returned"], "that is submitted cannot move to returned", 1),
    ],
)
async def test_setstatus_refusals(register: Register, capsys, argv, message, exit_code) -> None:
    filed = await register.reports.file(new_report(), "k")

    code, out, err = await run(capsys, "setstatus", *[a.format(ref=filed.reference) for a in argv])

    assert (code, out) == (exit_code, "")
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.usefixtures("cli_env")
async def test_out_writes_every_line_as_a_safe_csv(
    register: Register, mixed, capsys, tmp_path: Path
) -> None:
    target = tmp_path / "results.csv"
    target.write_text("an earlier file")

    argv = ["recover", str(mixed["path"]), "--dry-run", "--out", str(target)]
    code, out, _ = await run(capsys, *argv)

    assert code == 0 and "would mark recovered: 1" in out
    raw = target.read_bytes()
    assert raw.startswith(BOM.encode()) and b"\r\n" in raw
    table = list(csv.DictReader(io.StringIO(raw.decode().removeprefix(BOM), newline="")))
    assert [(row["line"], row["result"]) for row in table] == [
        ("2", "matched"),
        ("3", "matched"),
        ("4", "ambiguous"),
        ("5", "not in the register"),
        ("6", "malformed"),
        ("7", "repeated"),
    ]
    assert table[0]["value"] == mixed["known"].digits  # every digit, as text
    assert table[2]["references"] == " ".join(sorted([mixed["first"], mixed["second"]]))
    assert "samsung" in table[2]["detail"]
    assert table[4]["value"] == "'=HYPERLINK(1)"  # neutralised for spreadsheets
    assert table[4]["detail"] == "An IMEI has only digits: remove “=” and type just the number."
    assert not list(tmp_path.glob(".results*"))  # noqa: ASYNC240
    assert oct(target.stat().st_mode & 0o777) == "0o600"


@pytest.mark.usefixtures("cli_env")
async def test_out_into_a_missing_folder_is_refused_before_anything(
    register: Register, mixed, capsys, tmp_path: Path
) -> None:
    target = tmp_path / "nowhere" / "results.csv"

    code, out, err = await run(capsys, "recover", str(mixed["path"]), "--out", str(target))

    assert (code, out) == (1, "")
    assert "does not exist" in err and len(err.strip().splitlines()) == 1
    view = await register.reports.get(mixed["filed"])
    assert view is not None and view.status is Status.SUBMITTED
    assert await audit_events(register.db, "recovery") == []


# --- hostile files, to the real process -----------------------------------------------------------


def refused(outcome: dict, message: str) -> None:
    """OUTCOME is one line on stderr containing MESSAGE, and exit status 1."""
    assert (outcome["code"], outcome["out"]) == (1, ""), outcome
    assert message in outcome["err"]
    assert len(outcome["err"].strip().splitlines()) == 1
    assert "Traceback" not in outcome["err"]


async def test_hostile_files_are_refused_in_bounded_memory(
    register: Register, cli_env: dict[str, str], tmp_path: Path
) -> None:
    known = imei()
    filed = await register.reports.file(new_report(imeis=(known,)), "k")
    small = tmp_path / "small.txt"
    small.write_text(known.digits + "\n")
    big = tmp_path / "big.txt"
    with big.open("wb") as out:
        out.write(b"IMEI\n" + known.digits.encode() + b"\n")
        for _ in range(50):
            out.write(b"x" * 1_000_000)  # a 50 MB line that never ends
    binary = tmp_path / "seized.bin"
    binary.write_bytes(known.digits.encode() + b"\n" + bytes(range(256)) * 40_000)
    spreadsheet = tmp_path / "seized.xlsx"
    spreadsheet.write_bytes(b"PK\x03\x04" + bytes(200))
    noise = tmp_path / "noise.txt"
    noise.write_bytes(bytes(byte for byte in os.urandom(100_000) if byte))
    raised = {**cli_env, "RECOVERY_MAX_FILE_MB": "60"}

    baseline = await run_process(cli_env, "recover", str(small), "--dry-run")
    endless = await run_process(cli_env, "recover", "/dev/zero")
    too_big = await run_process(cli_env, "recover", str(big))
    streamed = await run_process(raised, "recover", str(big), "--dry-run")
    not_text = await run_process(cli_env, "recover", str(binary))
    workbook = await run_process(cli_env, "recover", str(spreadsheet))
    garbage = await run_process(cli_env, "recover", str(noise))

    assert baseline["code"] == 0 and "would mark recovered: 1" in baseline["out"]
    refused(endless, "/dev/zero: not a regular file")
    refused(
        too_big,
        "the file is 50.1 MB, more than the 20 MB a recovery file may be "
        "(setting RECOVERY_MAX_FILE_MB)",
    )
    refused(not_text, "the file is not text (it holds NUL bytes)")
    refused(workbook, "spreadsheet workbook, not CSV: save it as CSV")
    refused(garbage, "values are not IMEIs")
    assert streamed["code"] == 0, streamed
    assert "line 3: malformed (longer than 1,000 characters): 'xxxx" in streamed["out"]
    assert f"would mark recovered: 1\n  {filed.reference}" in streamed["out"]
    for outcome in (endless, too_big, not_text, workbook, garbage):
        assert outcome["peak_mb"] < baseline["peak_mb"] + 20, (outcome, baseline)
    # Reading the 50 MB file takes no more than a small file does, give or take a few MB.
    assert streamed["peak_mb"] < baseline["peak_mb"] + 20, (streamed, baseline)
    view = await register.reports.get(filed.reference)
    assert view is not None and view.status is Status.SUBMITTED
    # Only the two dry runs reached the register: every refused file was refused before.
    events = [json.loads(e.details) for e in await audit_events(register.db, "recovery")]
    assert [e["dry_run"] for e in events] == [True, True]


async def test_hostile_but_readable_files_work_in_the_real_process(
    register: Register, cli_env: dict[str, str], tmp_path: Path
) -> None:
    first, second = imei(), imei()
    one = await register.reports.file(new_report(imeis=(first,)), "k-1")
    two = await register.reports.file(new_report(imeis=(second,)), "k-2")
    utf16 = tmp_path / "utf16.csv"
    utf16.write_bytes(f"IMEI\tBemerkung\r\n{first.digits}\tTüte 4\r\n".encode("utf-16"))
    long_field = tmp_path / "long.csv"
    long_field.write_text(f'imei,note\n"{second.digits}","{"z" * 200_000}"\n{second.digits},ok\n')

    from_utf16 = await run_process(cli_env, "recover", str(utf16))
    from_long = await run_process(cli_env, "recover", str(long_field))

    assert from_utf16["code"] == 0, from_utf16
    assert f"marked recovered: 1\n  {one.reference}" in from_utf16["out"]
    assert from_long["code"] == 0, from_long
    assert "line 2: malformed (longer than 1,000 characters)" in from_long["out"]
    assert f"marked recovered: 1\n  {two.reference}" in from_long["out"]
