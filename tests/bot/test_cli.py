"""Tests for the `reportbot` command line, run in-process (and once as a real process)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot import runtime
from bot.cli import main
from bot.commands.common import CliError
from bot.commands.lookup import parse_query
from bot.settings import load_settings
from models.register import Register
from models.sealing.vault import KeyRing
from models.storage.database import head_revision
from models.values.imei import Imei
from models.values.reference import Reference
from models.values.statuses import Status
from tests.bot.cli_runner import exit_code
from tests.conftest import TEST_DATABASE_URL, DatabaseFactory
from tests.factories import audit_events, database_environment, imei, new_report

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NOT_FOUND_IMEI = "490154203237518"
BAD_CHECK_DIGIT_IMEI = "490154203237519"


@dataclass
class Run:
    """What one command did."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        """The non-empty lines written to stderr."""
        return [line for line in self.err.splitlines() if line.strip()]


pytestmark = pytest.mark.usefixtures("clean_environment")


@pytest.fixture
async def fresh(databases: DatabaseFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh, empty register: ./data/ on SQLite, a new empty schema on PostgreSQL."""
    if TEST_DATABASE_URL:
        empty = await databases.create(migrate=False)
        for name, value in database_environment(empty).items():
            monkeypatch.setenv(name, value)


@pytest.fixture
async def upgraded(fresh: None, capsys: pytest.CaptureFixture[str]) -> None:
    """A fresh register after `reportbot db upgrade`."""
    assert (await cli(capsys, "db", "upgrade")).code == 0


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    """Run `reportbot ARGV` in-process (main() runs its own event loop, so in a thread)."""
    capsys.readouterr()
    code = await asyncio.to_thread(exit_code, list(argv))
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


async def open_register() -> Register:
    """The register the command line uses, opened the same way."""
    return await runtime.open_register(load_settings())


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])

    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "usage: reportbot" in out
    for command in ("db", "staff", "lookup"):
        assert command in out


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["db", "--help"], ["upgrade"]),
        (["staff", "--help"], ["add", "list", "remove"]),
        (["staff", "add", "--help"], ["USER_ID", "--role", "officer", "admin"]),
        (["lookup", "--help"], ["IMEI_OR_REF"]),
    ],
)
def test_subcommand_help(capsys: pytest.CaptureFixture[str], argv: list[str], words) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)

    assert exited.value.code == 0
    out = capsys.readouterr().out
    for word in words:
        assert word in out


def test_python_dash_m_bot_help(tmp_path: Path) -> None:
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}

    done = subprocess.run(
        [sys.executable, "-m", "bot", "--help"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "usage: reportbot" in done.stdout
    assert "lookup" in done.stdout
    assert not list(tmp_path.iterdir())  # --help touches nothing


async def test_done_when_sequence_on_a_fresh_data_folder(
    fresh: None, capsys: pytest.CaptureFixture[str], clean_environment: Path
) -> None:
    upgrade = await cli(capsys, "db", "upgrade")
    assert (upgrade.code, upgrade.err) == (0, "")
    assert upgrade.out == f"database upgraded from empty to revision {head_revision()}\n"
    if not TEST_DATABASE_URL:
        assert (clean_environment / "data" / "register.db").is_file()

    add = await cli(capsys, "staff", "add", "1234567890123", "--role", "admin")
    assert (add.code, add.out, add.err) == (0, "added 1234567890123 as admin\n", "")

    listing = await cli(capsys, "staff", "list")
    assert (listing.code, listing.err) == (0, "")
    header, row = listing.out.splitlines()
    assert header.split()[:2] == ["USER_ID", "ROLE"]
    assert row.split()[:2] == ["1234567890123", "admin"]
    assert row.split()[-1].startswith("cli:")

    missing = await cli(capsys, "lookup", NOT_FOUND_IMEI)
    assert (missing.code, missing.err) == (0, "")
    assert missing.out == "49015420******: not in the register\n"
    assert NOT_FOUND_IMEI not in missing.out

    bad = await cli(capsys, "lookup", BAD_CHECK_DIGIT_IMEI)
    assert bad.code == 2
    assert bad.out == ""
    (line,) = bad.err_lines
    assert "check digit should be 8" in line
    assert line.startswith("reportbot: ")

    again = await cli(capsys, "db", "upgrade")
    assert (again.code, again.out) == (0, f"database already at revision {head_revision()}\n")


@pytest.mark.parametrize(
    "argv",
    [
        ["staff", "list"],
        ["staff", "add", "42", "--role", "officer"],
        ["staff", "remove", "42"],
        ["lookup", NOT_FOUND_IMEI],
        ["lookup", "SPR-7KQ4-M9"],
        ["export", "--format", "csv"],
        ["purge", "--dry-run"],
    ],
    ids=" ".join,
)
async def test_commands_refuse_a_database_that_is_not_upgraded(
    fresh: None, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    result = await cli(capsys, *argv)

    assert result.code != 0
    assert result.out == ""
    (line,) = result.err_lines
    assert "run `reportbot db upgrade`" in line
    # Nothing was half-written: the database is still empty.
    db = runtime.database(load_settings())
    try:
        assert await db.current_revision() is None
    finally:
        await db.dispose()


async def test_lookup_of_a_filed_report(upgraded: None, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = imei(), imei()
    register = await open_register()
    try:
        filed = await register.reports.file(new_report(imeis=(first, second)), "key")
        await register.reports.change_status(filed.reference, Status.UNDER_REVIEW, actor="o")
    finally:
        await register.close()
    spaced = " ".join(second.digits[i : i + 5] for i in range(0, 15, 5))

    for query in (first.digits, spaced, filed.reference, filed.reference.lower().replace("-", "")):
        found = await cli(capsys, "lookup", "--brief", query)
        assert (found.code, found.err) == (0, ""), query
        (line,) = found.out.splitlines()
        assert line.startswith(f"{filed.reference}  under_review  Apple iPhone 15")
        assert "(blue, cracked corner)" in line
        assert "filed 20" in line and line.endswith(" UTC")
        assert first.digits not in line and second.digits not in line

    whole = await cli(capsys, "lookup", filed.reference)
    assert (whole.code, whole.err) == (0, "")
    lines = whole.out.splitlines()
    assert lines[0].startswith(f"{filed.reference}  under_review  Apple iPhone 15")
    for shown in (
        f"{first.digits}, {second.digits}",
        "Oxford Street by Bond Street station",
        "Alex Example",
        "+447912345678",
        "submitted · victim",
        "under_review · o",
    ):
        assert shown in whole.out, shown


async def test_lookup_lists_every_report_with_the_imei(
    upgraded: None, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = imei()
    register = await open_register()
    try:
        one = await register.reports.file(new_report(imeis=(shared,)), "key-1")
        two = await register.reports.file(new_report(make="samsung", imeis=(shared,)), "key-2")
    finally:
        await register.close()

    found = await cli(capsys, "lookup", "--brief", shared.digits)

    assert found.code == 0
    assert sorted(line.split()[0] for line in found.out.splitlines()) == sorted(
        [one.reference, two.reference]
    )
    # Both were flagged as duplicates at filing: each whole report names the other, as a warning.
    whole = await cli(capsys, "lookup", shared.digits)
    flags = [line for line in whole.out.splitlines() if line.startswith("! Duplicate IMEI:")]
    assert len(flags) == 2
    assert sorted(line.split("also in ")[1].split()[0] for line in flags) == sorted(
        [one.reference, two.reference]
    )


async def test_lookup_of_an_unknown_reference(
    upgraded: None, capsys: pytest.CaptureFixture[str]
) -> None:
    reference = str(Reference.generate())

    found = await cli(capsys, "lookup", reference)

    assert (found.code, found.out, found.err) == (0, f"{reference}: not in the register\n", "")


async def test_lookup_is_audited(upgraded: None, capsys: pytest.CaptureFixture[str]) -> None:
    phone = imei()
    register = await open_register()
    try:
        filed = await register.reports.file(new_report(imeis=(phone,)), "key")
    finally:
        await register.close()

    await cli(capsys, "lookup", phone.digits)
    await cli(capsys, "lookup", filed.reference)
    await cli(capsys, "lookup", NOT_FOUND_IMEI)

    register = await open_register()
    try:
        events = await audit_events(register.db, "lookup")
    finally:
        await register.close()
    shown = {"channel": "cli", "contact_shown": True}
    assert [(e.target, json.loads(e.details)) for e in events] == [
        (phone.masked, {"found": 1, "kind": "imei", **shown}),
        (filed.reference, {"found": 1, "kind": "reference", **shown}),
        ("49015420******", {"found": 0, "kind": "imei", "channel": "cli", "contact_shown": False}),
    ]
    assert all(event.actor.startswith("cli:") for event in events)
    assert all(phone.digits not in event.details + (event.target or "") for event in events)


async def test_malformed_reference_exits_2(upgraded: None, capsys) -> None:
    good = str(Reference.generate())
    typo = good[:-1] + ("A" if good[-1] != "A" else "B")

    result = await cli(capsys, "lookup", typo)

    assert (result.code, result.out) == (2, "")
    (line,) = result.err_lines
    assert "reference" in line


async def test_staff_add_update_remove(upgraded: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert (await cli(capsys, "staff", "list")).out.startswith("no staff members yet")
    assert (await cli(capsys, "staff", "add", "42", "--role", "officer")).out == (
        "added 42 as officer\n"
    )
    assert (await cli(capsys, "staff", "add", "42", "--role", "admin")).out == (
        "updated 42 as admin\n"
    )

    removed = await cli(capsys, "staff", "remove", "42")

    assert (removed.code, removed.out, removed.err) == (0, "removed 42\n", "")
    register = await open_register()
    try:
        assert await register.staff.list() == []
        actions = [(e.action, e.target) for e in await audit_events(register.db)]
    finally:
        await register.close()
    assert actions == [("staff_add", "42"), ("staff_add", "42"), ("staff_remove", "42")]


async def test_staff_remove_of_a_non_member(
    upgraded: None, capsys: pytest.CaptureFixture[str]
) -> None:
    result = await cli(capsys, "staff", "remove", "777")

    assert (result.code, result.out) == (1, "")
    assert result.err_lines == ["reportbot: 777 is not a staff member"]


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["staff"],
        ["staff", "add", "42"],
        ["staff", "add", "42", "--role", "boss"],
        ["staff", "add", "forty-two", "--role", "admin"],
        ["staff", "add", "0", "--role", "admin"],
        ["staff", "add", str(2**63), "--role", "admin"],
        ["lookup"],
        ["no-such-command"],
    ],
    ids=lambda argv: " ".join(argv) or "nothing",
)
async def test_usage_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    result = await cli(capsys, *argv)

    assert result.code == 2
    assert result.out == ""
    (line,) = result.err_lines
    assert line.startswith("reportbot")
    assert not (Path.cwd() / "data").exists()  # refused before touching anything


async def test_bad_setting_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WEBHOOK_PORT", "abc")

    result = await cli(capsys, "staff", "list")

    assert result.code == 1
    (line,) = result.err_lines
    assert "WEBHOOK_PORT" in line


async def test_unreachable_database_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "not-a-database.db").write_text("hello, I am a text file\n" * 100)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'not-a-database.db'}")

    result = await cli(capsys, "db", "upgrade")

    assert result.code == 1
    (line,) = result.err_lines
    assert "database" in line


async def test_upgrade_of_a_newer_database_is_one_line(
    upgraded: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import text

    db = runtime.database(load_settings())
    try:
        async with db.write() as session:
            await session.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    finally:
        await db.dispose()

    for argv in (["db", "upgrade"], ["staff", "list"]):
        result = await cli(capsys, *argv)
        assert result.code == 1
        (line,) = result.err_lines
        assert "newer" in line


@given(
    phone=st.integers(min_value=0, max_value=10**6).map(imei),
    separator=st.sampled_from(["", " ", "-", ".", " - "]),
    width=st.sampled_from([2, 3, 4, 5]),
)
def test_parse_query_takes_an_imei_in_any_form(phone: Imei, separator: str, width: int) -> None:
    typed = separator.join(phone.digits[i : i + width] for i in range(0, 15, width))

    assert parse_query(typed) == phone


@given(reference=st.builds(Reference.generate), lower=st.booleans())
def test_parse_query_takes_a_reference(reference: Reference, lower: bool) -> None:
    typed = str(reference).lower() if lower else reference.compact

    assert parse_query(typed) == reference


@pytest.mark.parametrize(
    ("text", "kind", "code"),
    [("490154203237519", "IMEI", 2), ("12345", "IMEI", 2), ("SPR-OOOO-OO", "reference", 2)],
)
def test_parse_query_errors(text: str, kind: str, code: int) -> None:
    with pytest.raises(CliError) as raised:
        parse_query(text)

    assert raised.value.code == code
    assert f"not a valid {kind}" in str(raised.value)
    assert "\n" not in str(raised.value)


async def test_wrong_keys_are_one_line(
    upgraded: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    register = await open_register()  # seals with the generated key file
    try:
        filed = await register.reports.file(new_report(), "key")
    finally:
        await register.close()
    for name, value in KeyRing.generate("other").to_env().items():
        monkeypatch.setenv(name, value)

    result = await cli(capsys, "lookup", filed.reference)

    assert (result.code, result.out) == (1, "")
    (line,) = result.err_lines
    assert "keys" in line
