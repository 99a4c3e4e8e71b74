"""A transaction as one synchronous job over plain SQL: on SQLite, one trip to the driver's thread.

The conversation's hot path (the processed-update check, the draft's read and its write) would
cost a thread trip per `cursor`, `execute`, `fetch` and `close` through the async ORM: about 36
trips and four transactions per answer. Written as a job, a transaction is a function of a `Tx`
run where the connection lives: on SQLite, in aiosqlite's own thread with the stdlib connection
(one trip), on PostgreSQL inside SQLAlchemy's `run_sync` (one network round trip per statement,
as before). The SQL is written once, with `:name` parameters, for both databases.

On SQLite, write jobs that arrive while another is running are committed together (group
commit): each in a savepoint of one transaction, so the disk's flush, which `synchronous=FULL`
pays at every commit, is paid once for all of them. No job's caller hears back before the
commit that holds its effect.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, Protocol

from sqlalchemy import Boolean, Table, TextClause, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from models.storage.columns import UTCDateTime

Params = Mapping[str, Any]

# How SQLAlchemy stores a DateTime on SQLite: the same text, so both paths read each other's rows.
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


class Duplicate(Exception):
    """An insert hit a unique key that exists already."""


class Tx(Protocol):
    """One open transaction, synchronous, inside the job."""

    dialect: str

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Run SQL and return every row."""
        ...

    def run(self, sql: str, params: Params | None = None) -> int:
        """Run SQL; how many rows it changed. A unique key that exists raises Duplicate."""
        ...

    def dicts(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        """Run SQL and return every row as a dict by column name."""
        ...

    def time(self, value: Any) -> datetime | None:
        """A timestamp read from the database as an aware UTC datetime."""
        ...


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).strftime(SQLITE_TIME)
    return value


class SqliteTx:
    """A transaction on a stdlib sqlite3 connection (inside the driver's thread)."""

    dialect = "sqlite"

    def __init__(self, connection: sqlite3.Connection) -> None:
        """Wrap CONNECTION, whose transaction the caller began."""
        self.connection = connection

    def _params(self, params: Params | None) -> dict[str, Any]:
        return {key: _sqlite_value(value) for key, value in (params or {}).items()}

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Run SQL and return every row."""
        return self.connection.execute(sql, self._params(params)).fetchall()

    def dicts(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        """Run SQL and return every row as a dict by column name."""
        cursor = self.connection.execute(sql, self._params(params))
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def run(self, sql: str, params: Params | None = None) -> int:
        """Run SQL; how many rows it changed."""
        try:
            return self.connection.execute(sql, self._params(params)).rowcount
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" in str(exc) or "PRIMARY KEY" in str(exc):
                raise Duplicate from None
            raise

    def time(self, value: Any) -> datetime | None:
        """SQLite keeps the UTC time as text without its zone."""
        if value is None:
            return None
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        return datetime.fromisoformat(value).replace(tzinfo=UTC)


_texts: dict[str, TextClause] = {}


def _text(sql: str) -> TextClause:
    clause = _texts.get(sql)
    if clause is None:
        clause = _texts[sql] = text(sql)
    return clause


class SaTx:
    """A transaction on a synchronous SQLAlchemy connection (PostgreSQL, inside `run_sync`)."""

    def __init__(self, connection: Connection) -> None:
        """Wrap CONNECTION, whose transaction the caller began."""
        self.connection = connection
        self.dialect = connection.dialect.name

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Run SQL and return every row."""
        return [tuple(row) for row in self.connection.execute(_text(sql), dict(params or {}))]

    def dicts(self, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
        """Run SQL and return every row as a dict by column name."""
        result = self.connection.execute(_text(sql), dict(params or {}))
        return [dict(row) for row in result.mappings()]

    def run(self, sql: str, params: Params | None = None) -> int:
        """Run SQL; how many rows it changed."""
        try:
            return self.connection.execute(_text(sql), dict(params or {})).rowcount
        except IntegrityError as exc:
            if "unique" in str(exc.orig).lower() or "duplicate" in str(exc.orig).lower():
                raise Duplicate from None
            raise

    def time(self, value: Any) -> datetime | None:
        """PostgreSQL returns aware datetimes; kept in UTC."""
        if value is None:
            return None
        moment: datetime = value
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def sqlite_batch(connection: sqlite3.Connection, jobs: list[Any]) -> list[tuple[bool, Any]]:
    """Run several write JOBS in one transaction, each in a savepoint: one commit (one fsync).

    A job that raises is rolled back alone; the others commit. Returns (ok, result or error)
    for each job, in order.
    """
    connection.execute("BEGIN IMMEDIATE")
    outcomes: list[tuple[bool, Any]] = []
    try:
        for job in jobs:
            connection.execute("SAVEPOINT job")
            try:
                result = job(SqliteTx(connection))
            except Exception as exc:
                connection.execute("ROLLBACK TO job")
                connection.execute("RELEASE job")
                outcomes.append((False, exc))
            else:
                connection.execute("RELEASE job")
                outcomes.append((True, result))
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return outcomes


def sqlite_transaction(connection: sqlite3.Connection, begin: str, job: Any) -> Any:
    """Run JOB(SqliteTx) between BEGIN and COMMIT on CONNECTION (in the driver's thread)."""
    connection.execute(begin)
    try:
        result = job(SqliteTx(connection))
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")
    return result


_kinds: dict[str, list[tuple[str, str]]] = {}


def typed(tx: Tx, table: Table, row: dict[str, Any]) -> SimpleNamespace:
    """A row of TABLE read by plain SQL, with the values the ORM would give (times, booleans)."""
    kinds = _kinds.get(table.name)
    if kinds is None:
        kinds = _kinds[table.name] = [
            (column.name, "time" if isinstance(column.type, UTCDateTime) else "bool")
            for column in table.columns
            if isinstance(column.type, UTCDateTime | Boolean)
        ]
    for name, kind in kinds:
        value = row.get(name)
        if value is not None:
            row[name] = tx.time(value) if kind == "time" else bool(value)
    return SimpleNamespace(**row)
