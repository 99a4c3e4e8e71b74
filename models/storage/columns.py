"""Column types shared by the tables: UTC timestamps that stay aware on every backend, and the
key id of a sealed value, derived by the database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Computed, DateTime, String, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and always returns them aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Convert to UTC before storing; naive values are refused."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class sealed_key_id(FunctionElement[str]):
    """SQL for the key id in a sealed value's header, for a column the database keeps itself.

    A sealed value (models.sealing.vault) starts ``0x01 | len(key_id) | key_id``; the key id is
    ASCII. The database derives it on every write, so which keys are in use can be read from an
    index without opening (or even reading) a single sealed value.
    """

    type = String(16)
    name = "sealed_key_id"
    inherit_cache = True


@compiles(sealed_key_id, "sqlite")
def _sealed_key_id_sqlite(element: sealed_key_id, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    length = f"unicode(CAST(substr({column}, 2, 1) AS TEXT))"
    return f"CAST(substr({column}, 3, {length}) AS TEXT)"


@compiles(sealed_key_id, "postgresql")
def _sealed_key_id_postgresql(element: sealed_key_id, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"encode(substring({column} from 3 for get_byte({column}, 1)), 'escape')"


def sealed_key_id_column(sealed: str) -> Column[str]:
    """A column holding the key id of the sealed column named SEALED, indexed, kept by the database.

    STORED on PostgreSQL (whose virtual columns cannot be indexed); VIRTUAL on SQLite, whose
    ALTER TABLE can add only those. The index holds the value either way.
    """
    return Column(
        String(16),
        Computed(sealed_key_id(literal_column(sealed)), persisted=None),
        nullable=True,
        index=True,
    )
