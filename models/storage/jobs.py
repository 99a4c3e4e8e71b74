"""A transaction as one synchronous job over plain SQL: on SQLite, one trip to the driver's thread.

The conversation's hot path (the processed-update check, the draft's read and its write) would
cost a thread trip per `cursor`, `execute`, `fetch` and `close` through the async ORM: about 36
trips and four transactions per answer. Written as a job, a transaction is a function of a `Tx`
run where the connection lives: on SQLite, in aiosqlite's own thread with the stdlib connection
(one trip), on PostgreSQL inside SQLAlchemy's `run_sync` (one network round trip per statement,
as before). The SQL is written once, with `:name` parameters, for both databases.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import TextClause, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

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
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


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
