"""Pages of rows newest first, with a cursor for the next page (the console's lists)."""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from sqlalchemy import Select

from models.storage.database import Database


class _Stored(Protocol):
    @property
    def id(self) -> int | None:
        """The row's id."""
        ...


T = TypeVar("T", bound=_Stored)


async def newest_page(
    db: Database, query: Select[T], row_id: Any, *, before: int | None, size: int
) -> tuple[list[T], int | None]:
    """Up to SIZE rows of QUERY with ROW_ID below BEFORE, newest (highest id) first; and the id
    to pass as BEFORE for the next page, or None when there is none."""
    if before is not None:
        query = query.where(row_id < before)
    async with db.read() as session:
        rows = list(
            (await session.execute(query.order_by(row_id.desc()).limit(size + 1))).scalars()
        )
    shown = rows[:size]
    return shown, (shown[-1].id if len(rows) > size and shown else None)
