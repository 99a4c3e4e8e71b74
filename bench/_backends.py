"""The databases a benchmark runs on, each with bare-driver baseline queries and size figures.

The baseline runs the same SQL as the register's look-up (the report by IMEI hash, then its
history) straight through the driver: stdlib sqlite3 (synchronous) or a bare asyncpg connection.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from models.storage.database import Database

TABLES = ("report", "report_imei", "status_change")
LOOKUP_SQL = (
    "SELECT report.* FROM report JOIN report_imei ON report_imei.report_id = report.id "
    "WHERE report_imei.imei_hash = {hash} ORDER BY report.created_at DESC"
)
HISTORY_SQL = "SELECT * FROM status_change WHERE report_id {ids} ORDER BY changed_at, id"
MATCH_SQL = (
    "SELECT report_imei.imei_hash, report.id, report.reference, report.status "
    "FROM report_imei JOIN report ON report.id = report_imei.report_id "
    "WHERE report_imei.imei_hash {hashes}"
)


class SqliteBackend:
    """A SQLite file: the register's engines, and stdlib sqlite3 on the same file as baseline."""

    name = "sqlite"

    def __init__(self, path: Path) -> None:
        """Open (lazily) the register at PATH."""
        self.path = path
        self.db = Database(f"sqlite+aiosqlite:///{path}")
        self._bare: sqlite3.Connection | None = None
        # The floor's own database thread: one trip there and back per look-up, as the register
        # needs at least one (aiosqlite keeps each connection in a thread of its own).
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="bench-bare-sqlite")

    async def prepare(self) -> None:
        """Apply the migrations (a no-op on a register that is already built)."""
        await self.db.upgrade()

    def _connection(self) -> sqlite3.Connection:
        if self._bare is None:
            self._bare = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        return self._bare

    async def bare_lookup(self, imei_hash: str) -> tuple[list[Any], list[Any]]:
        """The look-up's two queries through stdlib sqlite3, in one trip to a database thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._lookup, imei_hash)

    def _lookup(self, imei_hash: str) -> tuple[list[Any], list[Any]]:
        connection = self._connection()
        reports = connection.execute(LOOKUP_SQL.format(hash="?"), (imei_hash,)).fetchall()
        ids = [row[0] for row in reports]
        marks = ", ".join("?" * len(ids))
        history = connection.execute(HISTORY_SQL.format(ids=f"IN ({marks})"), ids).fetchall()
        return reports, history

    async def bare_match(self, hashes: list[str], chunk: int) -> list[Any]:
        """The bulk match's chunked IN queries through stdlib sqlite3."""
        connection = self._connection()
        rows: list[Any] = []
        for start in range(0, len(hashes), chunk):
            part = hashes[start : start + chunk]
            sql = MATCH_SQL.format(hashes=f"IN ({', '.join('?' * len(part))})")
            rows.extend(connection.execute(sql, part).fetchall())
        return rows

    async def size_figures(self, reports: int) -> dict[str, float]:
        """Bytes on disk per report, in total and per table (with its indexes)."""
        connection = self._connection()
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        on_disk = self.path.stat().st_size
        wal = self.path.with_name(self.path.name + "-wal")
        on_disk += wal.stat().st_size if wal.exists() else 0
        by_table = dict(
            connection.execute(
                "SELECT m.tbl_name, SUM(d.pgsize) FROM dbstat AS d "
                "JOIN sqlite_master AS m ON m.name = d.name GROUP BY m.tbl_name"
            ).fetchall()
        )
        sealed = connection.execute("SELECT AVG(LENGTH(sealed)) FROM report").fetchone()[0]
        figures = {"db_bytes_per_report": on_disk / reports, "sealed_avg_bytes": sealed or 0.0}
        for table in TABLES:
            figures[f"{table}_bytes_per_report"] = by_table.get(table, 0) / reports
        return figures

    async def close(self) -> None:
        """Close the baseline connection and the register's engines."""
        if self._bare is not None:
            self._bare.close()
            self._bare = None
        self._thread.shutdown()
        await self.db.dispose()


class PostgresBackend:
    """A private schema on a PostgreSQL server, dropped on close; a bare asyncpg baseline."""

    name = "postgresql"

    def __init__(self, url: str) -> None:
        """Name a fresh private schema on the server at URL (created by prepare)."""
        self.url = url
        self.schema = f"bench_{uuid.uuid4().hex[:12]}"
        self.db = Database(url, schema=self.schema)
        self._bare: Any = None
        self._created = False

    def _dsn(self) -> str:
        return make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)

    async def create_schema(self) -> None:
        """Create the private schema (empty)."""
        import asyncpg

        admin = await asyncpg.connect(self._dsn())
        try:
            await admin.execute(f'CREATE SCHEMA "{self.schema}"')
            self._created = True
        finally:
            await admin.close()

    async def prepare(self) -> None:
        """Create the schema and apply the migrations in it."""
        await self.create_schema()
        await self.db.upgrade()

    async def _connection(self) -> Any:
        if self._bare is None:
            import asyncpg

            self._bare = await asyncpg.connect(
                self._dsn(), server_settings={"search_path": self.schema}
            )
        return self._bare

    async def bare_lookup(self, imei_hash: str) -> tuple[list[Any], list[Any]]:
        """The look-up's two queries through a bare asyncpg connection (no decryption)."""
        connection = await self._connection()
        reports = await connection.fetch(LOOKUP_SQL.format(hash="$1"), imei_hash)
        ids = [row["id"] for row in reports]
        history = await connection.fetch(HISTORY_SQL.format(ids="= ANY($1::int[])"), ids)
        return reports, history

    async def bare_match(self, hashes: list[str], chunk: int) -> list[Any]:
        """The bulk match's chunked queries through a bare asyncpg connection."""
        connection = await self._connection()
        rows: list[Any] = []
        sql = MATCH_SQL.format(hashes="= ANY($1::text[])")
        for start in range(0, len(hashes), chunk):
            rows.extend(await connection.fetch(sql, hashes[start : start + chunk]))
        return rows

    async def size_figures(self, reports: int) -> dict[str, float]:
        """pg_total_relation_size (table, indexes, TOAST) per report, in total and per table."""
        connection = await self._connection()
        figures: dict[str, float] = {}
        total = 0
        for table in TABLES:
            size = await connection.fetchval("SELECT pg_total_relation_size($1::regclass)", table)
            figures[f"{table}_bytes_per_report"] = size / reports
            total += size
        figures["db_bytes_per_report"] = total / reports
        sealed = await connection.fetchval("SELECT AVG(OCTET_LENGTH(sealed)) FROM report")
        figures["sealed_avg_bytes"] = float(sealed or 0)
        return figures

    async def close(self) -> None:
        """Drop the private schema and close every connection."""
        if self._bare is not None:
            await self._bare.close()
            self._bare = None
        await self.db.dispose()
        if self._created:
            import asyncpg

            admin = await asyncpg.connect(self._dsn())
            try:
                await admin.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
            finally:
                await admin.close()
