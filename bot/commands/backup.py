"""`reportbot db backup FILE` and `reportbot db restore FILE`.

SQLite: SQLite's online backup API copies a consistent snapshot while the bot keeps running,
into a temporary file that is renamed over FILE only when complete. Restoring goes through the
same API into the live database file (so a stale `-wal` file cannot undo it); stop the bot first.
PostgreSQL: the commands print the `pg_dump` / `pg_restore` command to run (no password in it).
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sqlite3
from pathlib import Path

from sqlalchemy.engine import URL, make_url

from bot.commands.common import CliError
from bot.settings import Settings
from models.storage.database import create_private_file, head_revision
from models.storage.files import atomic_path

SQLITE_BACKUP_PAGES = 4096


def add_actions(actions: argparse._SubParsersAction) -> None:
    """Add `backup` and `restore` to the `db` group's actions."""
    backup = actions.add_parser(
        "backup", help="copy the database to FILE while the bot runs (PostgreSQL: print pg_dump)"
    )
    backup.add_argument("file", type=Path, metavar="FILE", help="where to write the backup")
    backup.set_defaults(func=backup_command)
    restore = actions.add_parser(
        "restore",
        help="replace the database with a backup FILE; stop the bot first "
        "(PostgreSQL: print pg_restore)",
    )
    restore.add_argument("file", type=Path, metavar="FILE", help="a file made by `db backup`")
    restore.set_defaults(func=restore_command)


def pg_dump_command(url: URL, file: Path, schema: str | None = None) -> str:
    """The pg_dump command line that backs up the database at URL into FILE."""
    words = ["pg_dump", "--format=custom", f"--file={file}", *_pg_connection(url)]
    if schema:
        words.append(f"--schema={schema}")
    words.append(url.database or "")
    return shlex.join(words)


def pg_restore_command(url: URL, file: Path) -> str:
    """The pg_restore command line that restores FILE into the database at URL."""
    words = ["pg_restore", "--clean", "--if-exists", "--no-owner", *_pg_connection(url)]
    words += [f"--dbname={url.database or ''}", str(file)]
    return shlex.join(words)


def _pg_connection(url: URL) -> list[str]:
    words = []
    if url.host:
        words.append(f"--host={url.host}")
    if url.port:
        words.append(f"--port={url.port}")
    if url.username:
        words.append(f"--username={url.username}")
    return words


def sqlite_path(url: URL) -> Path:
    """The database file a SQLite URL names."""
    if not url.database or url.database == ":memory:":
        raise CliError("the database is in memory: there is nothing to back up")
    return Path(url.database).expanduser()


def backup_sqlite(source: Path, target: Path) -> None:
    """Copy SOURCE to TARGET with SQLite's online backup API; TARGET appears only when whole."""
    if not source.is_file():
        raise CliError(f"no database at {source}: nothing to back up")
    target = target.expanduser()
    if target.resolve() == source.resolve():
        raise CliError("the backup file must not be the database itself")
    if not target.parent.is_dir():
        raise CliError(f"no such folder: {target.parent}")
    with atomic_path(target) as temporary:
        _copy(source, temporary, journal_mode="DELETE")


def restore_sqlite(backup: Path, target: Path) -> None:
    """Replace the database at TARGET with the content of the BACKUP file."""
    backup = backup.expanduser()
    if not backup.is_file():
        raise CliError(f"no backup at {backup}")
    revision = _revision_of(backup)
    if revision != head_revision():
        found = revision or "no register schema"
        raise CliError(
            f"{backup} is not a backup of this version's register ({found}; this version "
            f"expects {head_revision()})"
        )
    create_private_file(target)
    _copy(backup, target, journal_mode="WAL")


def _revision_of(path: Path) -> str | None:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError:
        return None
    return row[0] if row else None


def _copy(source: Path, target: Path, *, journal_mode: str) -> None:
    source_connection = sqlite3.connect(source)
    try:
        target_connection = sqlite3.connect(target, isolation_level=None)
        try:
            source_connection.backup(target_connection, pages=SQLITE_BACKUP_PAGES)
            target_connection.execute(f"PRAGMA journal_mode={journal_mode}")
            check = target_connection.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise CliError(f"the copy failed its integrity check: {check}")
        finally:
            target_connection.close()
    finally:
        source_connection.close()


async def backup_command(args: argparse.Namespace, settings: Settings) -> int:
    """Back up the register (SQLite), or print how to (PostgreSQL)."""
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "sqlite":
        print("PostgreSQL is backed up with its own tools; run (it asks for the password):")
        print(pg_dump_command(url, args.file, settings.database_schema))
        return 0
    source = sqlite_path(url)
    await asyncio.to_thread(backup_sqlite, source, args.file)
    print(f"backed up {source} to {args.file}")
    print(
        "the keys that open personal data are not in the backup: keep DATA_KEYS/INDEX_KEY "
        f"(or {settings.key_file}) safe, separately"
    )
    return 0


async def restore_command(args: argparse.Namespace, settings: Settings) -> int:
    """Restore the register from a backup (SQLite), or print how to (PostgreSQL)."""
    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "sqlite":
        print("Stop every bot worker, then restore with (it asks for the password):")
        print(pg_restore_command(url, args.file))
        return 0
    target = sqlite_path(url)
    await asyncio.to_thread(restore_sqlite, args.file, target)
    print(f"restored {target} from {args.file}")
    return 0
