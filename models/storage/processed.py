"""Exactly-once effects of Telegram updates: the update being processed, and its record.

While an update is processed (inside `processing_update`), the first write transaction that
commits (`Database.write`) also inserts a `ProcessedUpdate` row with the update's id, so the
update's effect and the record that it happened commit together or not at all. A redelivered
update whose record exists is skipped before any handler runs (`Database.check_update`).

That check is one read transaction which also reads, for the update's chat, what the stores
registered as prefetchers need (the chat's draft): so an answer costs one read and one write.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.storage.jobs import Duplicate, Tx
from models.storage.tables import ProcessedUpdate


@dataclass(slots=True)
class UpdateScope:
    """The update being processed, and whether its record has been committed yet."""

    update_id: int
    recorded: bool = False
    chat_id: int | None = None
    # What prefetchers read for the chat in the check's transaction, by name (taken once).
    prefetched: dict[str, Any] = field(default_factory=dict)


class UpdateAlreadyProcessed(Exception):
    """Another worker (or an earlier delivery) already committed this update's effect."""

    def __init__(self, update_id: int) -> None:
        """Remember which update it was."""
        super().__init__(f"update {update_id} was already processed")
        self.update_id = update_id


_current: ContextVar[UpdateScope | None] = ContextVar("reportbot_update", default=None)


def current_update() -> UpdateScope | None:
    """The update whose processing the running code belongs to, if any."""
    return _current.get()


@contextmanager
def processing_update(update_id: int, chat_id: int | None = None) -> Iterator[UpdateScope]:
    """Run the block as the processing of UPDATE_ID: its first committed write records it."""
    scope = UpdateScope(update_id, chat_id=chat_id)
    token = _current.set(scope)
    try:
        yield scope
    finally:
        _current.reset(token)


async def claim(session: AsyncSession) -> UpdateScope | None:
    """Add the current update's record to SESSION's transaction, unless already committed.

    Returns the scope that the caller must mark `recorded` once the transaction commits.
    Raises UpdateAlreadyProcessed when the record exists (a concurrent duplicate delivery).
    """
    scope = _current.get()
    if scope is None or scope.recorded:
        return None
    session.add(ProcessedUpdate(update_id=scope.update_id))
    try:
        # Flushed first so a duplicate fails here, before the handler's own statements.
        await session.flush()
    except IntegrityError:
        raise UpdateAlreadyProcessed(scope.update_id) from None
    return scope


async def is_processed_in(session: AsyncSession, update_id: int) -> bool:
    """Whether UPDATE_ID's effect is already stored (read in SESSION)."""
    found = await session.execute(
        select(col(ProcessedUpdate.update_id)).where(col(ProcessedUpdate.update_id) == update_id)
    )
    return found.first() is not None


def take_prefetched(name: str, chat_id: int) -> tuple[bool, Any]:
    """What prefetcher NAME read for CHAT_ID in this update's check, once: (found, value)."""
    scope = _current.get()
    if scope is None or scope.chat_id != chat_id or name not in scope.prefetched:
        return False, None
    return True, scope.prefetched.pop(name)


INSERT_RECORD = "INSERT INTO processed_update (update_id, processed_at) VALUES (:update_id, :at)"
SELECT_RECORD = "SELECT 1 FROM processed_update WHERE update_id = :update_id"


def claim_in(tx: Tx, scope: UpdateScope, now: datetime) -> None:
    """Insert SCOPE's record in TX (a job's transaction); UpdateAlreadyProcessed if it exists."""
    try:
        tx.run(INSERT_RECORD, {"update_id": scope.update_id, "at": now})
    except Duplicate:
        raise UpdateAlreadyProcessed(scope.update_id) from None


def is_processed_tx(tx: Tx, update_id: int) -> bool:
    """Whether UPDATE_ID's effect is already stored (read in TX)."""
    return bool(tx.rows(SELECT_RECORD, {"update_id": update_id}))
