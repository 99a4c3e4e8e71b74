"""Rows usable once until they expire (sign-in links, recovery previews): one way to use them.

Such a row has `token_hash`, `expires_at` and `used_at`. Using it is one conditional UPDATE, so
two requests racing with the same token cannot both win: the one whose statement finds the row
unused and unexpired marks it used, the other finds nothing. `forget_expired` deletes rows past
their expiry (each service says how long it keeps them to explain a refusal).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel

from models.storage.tables import table_of


async def use_once(
    session: AsyncSession,
    model: type[SQLModel],
    token_hash: str,
    now: datetime,
    *,
    where: tuple[ColumnElement[bool], ...] = (),
    returning: tuple[str, ...],
) -> Row[Any] | None:
    """Within SESSION: mark MODEL's row for TOKEN_HASH used at NOW, if it is unused, unexpired
    and meets WHERE; its RETURNING columns, or None when there was no such row."""
    table = table_of(model)
    result = await session.execute(
        update(table)
        .where(
            table.c.token_hash == token_hash,
            table.c.used_at.is_(None),
            table.c.expires_at > now,
            *where,
        )
        .values(used_at=now)
        .returning(*(table.c[name] for name in returning))
    )
    return result.first()


async def forget_expired(session: AsyncSession, model: type[SQLModel], before: datetime) -> None:
    """Within SESSION: delete MODEL's rows that expired before BEFORE."""
    table = table_of(model)
    await session.execute(delete(table).where(table.c.expires_at < before))
