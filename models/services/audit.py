"""The audit trail: who looked at, changed, exported or matched what, and when."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.storage.database import Database
from models.storage.pages import newest_page
from models.storage.tables import AuditEvent, stored


def record(
    session: AsyncSession, actor: str, action: str, target: str | None, details: dict
) -> None:
    """Add an audit event to SESSION's transaction (details must hold no personal data)."""
    session.add(
        AuditEvent(
            actor=actor,
            action=action,
            target=target,
            details=json.dumps(details, sort_keys=True, default=str),
        )
    )


class AuditLog:
    """Write and read audit events."""

    def __init__(self, db: Database) -> None:
        """Bind the log to a database."""
        self.db = db

    async def record(
        self, actor: str, action: str, target: str | None = None, **details: Any
    ) -> None:
        """Record one event in its own transaction."""
        async with self.db.write() as session:
            record(session, actor, action, target, details)

    async def events(
        self, *, since: datetime | None = None, batch: int = 1000
    ) -> AsyncIterator[AuditEvent]:
        """Yield events oldest first, from SINCE when given."""
        last_id = 0
        while True:
            query = select(AuditEvent).where(col(AuditEvent.id) > last_id)
            if since is not None:
                query = query.where(col(AuditEvent.at) >= since)
            async with self.db.read() as session:
                page = list(
                    (
                        await session.execute(query.order_by(col(AuditEvent.id)).limit(batch))
                    ).scalars()
                )
            if not page:
                return
            for event in page:
                yield event
            last_id = stored(page[-1].id)

    async def page(
        self,
        *,
        action: str | None = None,
        actor: str | None = None,
        target: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before: int | None = None,
        size: int = 100,
    ) -> tuple[list[AuditEvent], int | None]:
        """Events newest first matching the filters, below id BEFORE: (events, next cursor)."""
        query = select(AuditEvent)
        if action:
            query = query.where(col(AuditEvent.action) == action)
        if actor:
            query = query.where(col(AuditEvent.actor) == actor)
        if target:
            query = query.where(col(AuditEvent.target) == target)
        if since is not None:
            query = query.where(col(AuditEvent.at) >= since)
        if until is not None:
            query = query.where(col(AuditEvent.at) < until)
        return await newest_page(self.db, query, col(AuditEvent.id), before=before, size=size)

    async def actions(self) -> list[str]:
        """Every action the trail holds, for filters."""
        async with self.db.read() as session:
            found = await session.execute(
                select(col(AuditEvent.action)).distinct().order_by(col(AuditEvent.action))
            )
            return list(found.scalars())
