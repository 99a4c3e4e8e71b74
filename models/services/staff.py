"""Staff members and their roles."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from models.services.audit import record
from models.storage.database import Database, rowcount
from models.storage.tables import StaffMember


class Role(StrEnum):
    """What a staff member may do: officers read and move reports; admins also export."""

    OFFICER = "officer"
    ADMIN = "admin"


class StaffStore:
    """Add, list and remove staff; answer a user's role."""

    def __init__(self, db: Database) -> None:
        """Bind the store to a database."""
        self.db = db

    async def add(self, user_id: int, role: Role, *, added_by: str) -> bool:
        """Add USER_ID with ROLE (or change the role); True if they were new."""
        try:
            return await self._add(user_id, role, added_by=added_by)
        except IntegrityError:
            # A concurrent call added them first (PostgreSQL): now this is a role change.
            return await self._add(user_id, role, added_by=added_by)

    async def _add(self, user_id: int, role: Role, *, added_by: str) -> bool:
        async with self.db.write() as session:
            member = await session.get(StaffMember, user_id)
            created = member is None
            if member is None:
                session.add(StaffMember(user_id=user_id, role=role.value, added_by=added_by))
            else:
                member.role = role.value
            record(session, added_by, "staff_add", str(user_id), {"role": role.value})
        return created

    async def remove(self, user_id: int, *, removed_by: str) -> bool:
        """Remove USER_ID; True if they were staff."""
        async with self.db.write() as session:
            result = await session.execute(
                delete(StaffMember).where(col(StaffMember.user_id) == user_id)
            )
            removed = bool(rowcount(result))
            if removed:
                record(session, removed_by, "staff_remove", str(user_id), {})
        return removed

    async def list(self) -> list[StaffMember]:
        """Every staff member, by user id."""
        async with self.db.read() as session:
            rows = await session.execute(select(StaffMember).order_by(col(StaffMember.user_id)))
            return list(rows.scalars())

    async def role_of(self, user_id: int) -> Role | None:
        """USER_ID's role, or None if they are not staff."""
        async with self.db.read() as session:
            member = await session.get(StaffMember, user_id)
        return Role(member.role) if member else None
