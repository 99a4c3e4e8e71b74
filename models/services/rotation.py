"""Key rotation: every sealed value sealed again under the newest key, safely beside a running bot.

Each sealed column (`models.storage.tables.SEALED_COLUMNS`) is walked in small batches: a batch
is read in one short transaction, opened and sealed again outside any transaction, and written in
another short transaction, row by row with compare-and-set on the sealed value, so a row that the
bot changed meanwhile is never overwritten with stale data (it is read again and retried). A run
can stop anywhere and be started again: what it re-sealed is committed, and the next run only
looks at values that are not under the newest key yet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Result, and_, bindparam, func, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from models.sealing.keycheck import reseal_check
from models.sealing.vault import CryptoError, UnknownKey, Vault
from models.services import audit
from models.services.alerts import alert_context
from models.services.drafts import draft_context
from models.services.outbox import PENDING, UNREADABLE
from models.services.reports import report_context
from models.storage.columns import utcnow
from models.storage.database import Database, rowcount
from models.storage.tables import (
    SEALED_COLUMNS,
    Notification,
    Report,
    SealedColumn,
    table_of,
)

log = logging.getLogger("reportbot.keys")

DEFAULT_BATCH = 500
# A row that keeps changing under us is tried this many times, then left for the next run.
MAX_RETRIES = 3


def note_context(report_id: int) -> bytes:
    """The sealing context of a status change's note (as models.services.reports seals it)."""
    return f"note:{report_id}".encode()


# What binds each sealed column's values to their row: the extra columns read, and the context.
_CONTEXTS: dict[str, tuple[tuple[str, ...], Callable[[Any], bytes]]] = {
    "report": (("reference",), lambda row: report_context(row.reference)),
    "status_change": (("report_id",), lambda row: note_context(row.report_id)),
    "draft": (("chat_id",), lambda row: draft_context(row.chat_id)),
    "notification": (("event_key",), lambda row: alert_context(row.event_key)),
}


@dataclass
class TableRotation:
    """What a rotation did to one table's sealed values."""

    table: str
    resealed: int = 0
    already_current: int = 0
    unreadable: int = 0
    # Still under an old key because another writer kept changing them: run again.
    left_changing: int = 0
    # Key ids that the unreadable values need and the vault does not hold.
    missing_keys: set[str] = field(default_factory=set)


@dataclass
class RotationResult:
    """What a whole rotation did."""

    key_id: str
    tables: list[TableRotation]
    requeued_notifications: int = 0

    @property
    def complete(self) -> bool:
        """Whether every sealed value is now under the newest key."""
        return all(not t.unreadable and not t.left_changing for t in self.tables)


class KeyRotation:
    """Re-seals the register's sealed values under the vault's current key."""

    def __init__(self, db: Database, vault: Vault) -> None:
        """Bind to a database and the vault whose current key is the target."""
        self.db = db
        self.vault = vault

    async def usage(self) -> dict[str, dict[str, int]]:
        """For each table with sealed values, how many values each key id seals."""
        found: dict[str, dict[str, int]] = {}
        async with self.db.read() as session:
            for column in SEALED_COLUMNS:
                key_id = getattr(column.table, column.key_id)
                counts: Result[str, int] = await session.execute(
                    select(key_id, func.count()).where(key_id.is_not(None)).group_by(key_id)
                )
                found[column.name] = {str(key): int(count) for key, count in counts}
        return found

    async def rotate(
        self,
        *,
        batch_size: int = DEFAULT_BATCH,
        actor: str = "system",
        progress: Callable[[TableRotation], None] | None = None,
    ) -> RotationResult:
        """Re-seal every sealed value not under the current key; report counts per table."""
        tables = []
        for column in SEALED_COLUMNS:
            outcome = await self._rotate_column(column, batch_size, progress)
            tables.append(outcome)
        await reseal_check(self.db, self.vault)
        rewritten = zip(SEALED_COLUMNS, tables, strict=True)
        await self._tidy([column for column, table in rewritten if table.resealed])
        result = RotationResult(self.vault.current_key_id, tables)
        result.requeued_notifications = await self._requeue_set_aside()
        async with self.db.write() as session:
            audit.record(
                session,
                actor,
                "keys_rotate",
                None,
                {
                    "key_id": result.key_id,
                    "requeued_notifications": result.requeued_notifications,
                    **{
                        t.table: {
                            "resealed": t.resealed,
                            "already_current": t.already_current,
                            "unreadable": t.unreadable,
                            "left_changing": t.left_changing,
                        }
                        for t in tables
                    },
                },
            )
        return result

    async def _rotate_column(
        self,
        column: SealedColumn,
        batch_size: int,
        progress: Callable[[TableRotation], None] | None,
    ) -> TableRotation:
        table = column.table
        sealed = getattr(table, column.sealed)
        key_id = getattr(table, column.key_id)
        primary = table_of(table).c.id
        extra, _ = _CONTEXTS[column.name]
        current = self.vault.current_key_id
        outcome = TableRotation(column.name)
        async with self.db.read() as session:
            outcome.already_current = (
                await session.execute(select(func.count()).where(key_id == current))
            ).scalar_one()
        columns = [primary.label("id"), sealed.label("sealed")]
        columns += [getattr(table, name) for name in extra]
        stale = and_(sealed.is_not(None), or_(key_id.is_(None), key_id != current))
        last = 0
        while True:
            async with self.db.read() as session:
                rows = (
                    await session.execute(
                        select(*columns)
                        .where(primary > last, stale)
                        .order_by(primary)
                        .limit(batch_size)
                    )
                ).all()
            if not rows:
                break
            last = rows[-1].id
            changed = await self._reseal_batch(column, rows, outcome)
            for _ in range(MAX_RETRIES):
                if not changed:
                    break
                async with self.db.read() as session:
                    again = (
                        await session.execute(
                            select(*columns).where(primary.in_(changed), stale).order_by(primary)
                        )
                    ).all()
                changed = await self._reseal_batch(column, again, outcome)
            outcome.left_changing += len(changed)
            if progress is not None:
                progress(outcome)
        return outcome

    async def _reseal_batch(
        self, column: SealedColumn, rows: Sequence[Any], outcome: TableRotation
    ) -> list[int]:
        """Re-seal ROWS with compare-and-set; the ids of rows that changed meanwhile."""
        return await self._write(column, self._reopen(column, rows, outcome), outcome)

    def _reopen(
        self, column: SealedColumn, rows: Sequence[Any], outcome: TableRotation
    ) -> list[tuple[int, bytes, bytes]]:
        """(id, old value, new value) of every row that opens; the others are counted."""
        _, context_of = _CONTEXTS[column.name]
        fresh: list[tuple[int, bytes, bytes]] = []
        for row in rows:
            try:
                new = self.vault.reseal(row.sealed, context=context_of(row))
            except CryptoError as error:
                outcome.unreadable += 1
                needed = self._needed_key(row.sealed, error)
                if needed:
                    outcome.missing_keys.add(needed)
                # Row ids and key ids only: never what the value holds.
                log.debug(
                    "cannot open a sealed value",
                    extra={"table": column.name, "row": row.id, "reason": type(error).__name__},
                )
                continue
            fresh.append((row.id, row.sealed, new))
        return fresh

    async def _write(
        self, column: SealedColumn, fresh: list[tuple[int, bytes, bytes]], outcome: TableRotation
    ) -> list[int]:
        """Store the new values in one short transaction, each only if its row is unchanged."""
        if not fresh:
            return []
        table = table_of(column.table)
        sealed = table.c[column.sealed]
        compare_and_set = (
            update(table)
            .where(table.c.id == bindparam("row_id"), sealed == bindparam("old"))
            .values({column.sealed: bindparam("new")})
        )
        async with self.db.write() as session:
            await session.execute(
                compare_and_set, [{"row_id": i, "old": old, "new": new} for i, old, new in fresh]
            )
            # Which rows now hold what we wrote: the others changed before our write.
            stored: dict[int, bytes] = dict(
                (
                    await session.execute(
                        select(table.c.id, sealed).where(table.c.id.in_([i for i, _, _ in fresh]))
                    )
                ).all()
            )
        changed = [i for i, _, new in fresh if stored.get(i) != new]
        outcome.resealed += len(fresh) - len(changed)
        return changed

    async def _tidy(self, columns: list[SealedColumn]) -> None:
        """On PostgreSQL, vacuum what was rewritten: until then every old value's dead index
        entry is still walked by the start-up check (1.3 s after a million, instead of 3 ms)."""
        if self.db.is_sqlite or not columns:
            return  # SQLite rewrites its index entries in place
        async with self.db.write_engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            for column in columns:
                try:
                    await connection.exec_driver_sql(f"VACUUM (ANALYZE) {column.name}")
                except DBAPIError as error:  # e.g. not the table's owner: autovacuum will do it
                    log.warning("could not vacuum %s after rotation: %s", column.name, error.orig)

    def _needed_key(self, value: bytes, error: CryptoError) -> str | None:
        if not isinstance(error, UnknownKey):
            return None
        try:
            return self.vault.key_id_of(value)
        except CryptoError:
            return None

    async def _requeue_set_aside(self) -> int:
        """Queue again the notifications set aside as unreadable whose report opens now."""
        current = self.vault.current_key_id
        async with self.db.write() as session:
            readable = select(col(Report.id)).where(col(Report.key_id) == current)
            result = await session.execute(
                update(Notification)
                .where(
                    col(Notification.state) == UNREADABLE, col(Notification.report_id).in_(readable)
                )
                .values(state=PENDING, not_before=utcnow(), last_error=None)
            )
            return rowcount(result)
