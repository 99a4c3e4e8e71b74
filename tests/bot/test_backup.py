"""`reportbot db backup` and `db restore`: an online copy that restores to a working register."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest

from bot import cli
from bot.commands.backup import pg_dump_command, pg_restore_command
from models.register import Register
from models.sealing.vault import KeyRing, Vault
from models.storage.database import Database
from models.storage.tables import Report
from tests.factories import imei, new_report

UNCOMMITTED = {
    "reference": "SPR-2222-22",
    "idempotency_key": "uncommitted",
    "status": "submitted",
    "make": "apple",
    "platform": "iphone",
    "access_code_hash": "x",
    "sealed": b"x",
}


@pytest.fixture
def keys() -> KeyRing:
    """The keys the register and the command line share."""
    return KeyRing.generate()


@pytest.fixture
async def sqlite_register(tmp_path: Path, keys: KeyRing):
    """A register in a SQLite file (backups are SQLite's; PostgreSQL has pg_dump)."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'live' / 'register.db'}")
    await database.upgrade()
    register = Register(database, Vault(keys))
    yield register
    await register.close()


def use(monkeypatch, tmp_path: Path, keys: KeyRing, database: Path | str) -> None:
    """Point the command line at DATABASE (a SQLite file or a URL) with KEYS."""
    monkeypatch.chdir(tmp_path)
    url = database if isinstance(database, str) else f"sqlite+aiosqlite:///{database}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("DATABASE_SCHEMA", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    for name, value in keys.to_env().items():
        monkeypatch.setenv(name, value)


async def reportbot(capsys, *args: str) -> tuple[int, str, str]:
    """Run `reportbot ARGS` (in a thread: it runs its own event loop); (code, out, err)."""
    capsys.readouterr()
    code = await asyncio.to_thread(cli.main, list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def test_a_backup_taken_during_a_write_restores_to_a_register_lookup_reads(
    sqlite_register: Register, keys: KeyRing, tmp_path: Path, monkeypatch, capsys
):
    kept, lost = imei(1), imei(2)
    filed = await sqlite_register.reports.file(new_report(imeis=(kept,)), "key-1")
    live = Path(sqlite_register.db.url.database or "")
    backup = tmp_path / "backups" / "register-backup.db"
    backup.parent.mkdir()
    use(monkeypatch, tmp_path, keys, live)

    # A write is open (not committed) while the backup runs: the copy has only what was filed.
    async with sqlite_register.db.write() as session:
        session.add(Report(**UNCOMMITTED))
        await session.flush()
        code, out, _ = await reportbot(capsys, "db", "backup", str(backup))
    assert code == 0
    assert f"to {backup}" in out
    assert "keys" in out  # the reminder that keys are not in the backup
    await sqlite_register.reports.file(new_report(imeis=(lost,)), "key-2")
    assert list(backup.parent.iterdir()) == [backup]  # no temporary file left behind
    assert _count(backup, "report") == 1

    # The documented restore: stop the bot, copy the file into place.
    copied = tmp_path / "copied" / "register.db"
    copied.parent.mkdir()
    shutil.copyfile(backup, copied)
    use(monkeypatch, tmp_path, keys, copied)
    code, out, _ = await reportbot(capsys, "lookup", kept.digits)
    assert code == 0
    assert filed.reference in out

    # `db restore` replaces the live database (its WAL files included) with the backup.
    await sqlite_register.db.dispose()
    use(monkeypatch, tmp_path, keys, live)
    code, out, _ = await reportbot(capsys, "db", "restore", str(backup))
    assert code == 0, out
    code, out, _ = await reportbot(capsys, "lookup", kept.digits)
    assert filed.reference in out
    code, out, _ = await reportbot(capsys, "lookup", lost.digits)
    assert "not in the register" in out


def _count(path: Path, table: str) -> int:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        connection.close()


async def test_backup_and_restore_refuse_what_they_cannot_do(
    tmp_path: Path, keys: KeyRing, monkeypatch, capsys
):
    use(monkeypatch, tmp_path, keys, tmp_path / "nowhere" / "register.db")
    code, _, err = await reportbot(capsys, "db", "backup", str(tmp_path / "b.db"))
    assert code == 1
    assert "no database at" in err

    not_a_backup = tmp_path / "notes.db"
    not_a_backup.write_text("shopping list")
    code, _, err = await reportbot(capsys, "db", "restore", str(not_a_backup))
    assert code == 1
    assert "not a backup of this version's register" in err
    assert not (tmp_path / "nowhere" / "register.db").exists()


async def test_postgresql_gets_the_pg_dump_and_pg_restore_commands_without_the_password(
    tmp_path: Path, keys: KeyRing, monkeypatch, capsys
):
    url = "postgresql+asyncpg://reportbot:s3cret@db.example.org:5433/register"
    use(monkeypatch, tmp_path, keys, url)

    code, out, _ = await reportbot(capsys, "db", "backup", "nightly.dump")
    assert code == 0
    assert (
        "pg_dump --format=custom --file=nightly.dump --host=db.example.org --port=5433 "
        "--username=reportbot register"
    ) in out
    code, out, _ = await reportbot(capsys, "db", "restore", "nightly.dump")
    assert code == 0
    assert "pg_restore --clean --if-exists --no-owner --host=db.example.org" in out
    assert "s3cret" not in out


def test_pg_commands_quote_what_the_shell_would_split():
    from sqlalchemy.engine import make_url

    url = make_url("postgresql+asyncpg://me@localhost/my register")
    assert pg_dump_command(url, Path("my backup.dump"), "t 1").endswith(
        "'--file=my backup.dump' --host=localhost --username=me '--schema=t 1' 'my register'"
    )
    assert pg_restore_command(url, Path("b.dump")).endswith("'--dbname=my register' b.dump")
