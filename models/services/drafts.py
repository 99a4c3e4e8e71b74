"""Drafts: the victim's conversation remembered answer by answer, sealed, until it expires."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.sealing.vault import Vault
from models.services.subscriptions import subscribe_in
from models.storage.columns import utcnow
from models.storage.database import Database, rowcount
from models.storage.tables import Draft

# A conversation with many re-asks still stays a small row; the newest ids are the ones to keep.
MAX_MESSAGE_IDS = 1000
TOKEN_LENGTH = 6


def draft_context(chat_id: int) -> bytes:
    """The sealing context that binds a draft's answers to its chat."""
    return f"draft:{chat_id}".encode()


def new_idempotency_key() -> str:
    """A fresh key under which a draft files its report exactly once."""
    return uuid.uuid4().hex


@dataclass(slots=True)
class DraftState:
    """A draft as the conversation works with it: the answers opened, the ids decoded."""

    chat_id: int
    user_id: int
    step: str
    answers: dict[str, Any] = field(default_factory=dict)
    message_ids: list[int] = field(default_factory=list)
    idempotency_key: str = field(default_factory=new_idempotency_key)
    report_id: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    expires_at: datetime | None = None

    @property
    def token(self) -> str:
        """A short tag of this draft, put on its buttons so that older drafts' buttons show."""
        return self.idempotency_key[:TOKEN_LENGTH]

    def remember_messages(self, ids: list[int]) -> None:
        """Add message ids (the user's or the bot's) of this conversation, once each."""
        known = set(self.message_ids)
        for message_id in ids:
            if message_id not in known:
                self.message_ids.append(message_id)
                known.add(message_id)
        if len(self.message_ids) > MAX_MESSAGE_IDS:
            del self.message_ids[: len(self.message_ids) - MAX_MESSAGE_IDS]


@dataclass(frozen=True, slots=True)
class Loaded:
    """The outcome of loading a chat's draft: the draft, or whether one had just expired."""

    draft: DraftState | None
    expired: bool = False


class DraftStore:
    """Read, write and expire drafts; one row per private chat."""

    def __init__(self, db: Database, vault: Vault, *, ttl_hours: int = 24) -> None:
        """Bind the store to a database and vault; idle drafts live TTL_HOURS."""
        self.db = db
        self.vault = vault
        self.ttl = timedelta(hours=ttl_hours)

    def _state(self, row: Draft) -> DraftState:
        answers = self.vault.open_json(row.sealed, context=draft_context(row.chat_id))
        return DraftState(
            chat_id=row.chat_id,
            user_id=row.user_id,
            step=row.step,
            answers=answers,
            message_ids=[int(i) for i in json.loads(row.message_ids)],
            idempotency_key=row.idempotency_key,
            report_id=row.report_id,
            created_at=row.created_at,
            updated_at=row.updated_at,
            expires_at=row.expires_at,
        )

    async def load(self, chat_id: int, *, now: datetime | None = None) -> Loaded:
        """The chat's draft; an expired one is deleted and reported as expired."""
        now = now or utcnow()
        async with self.db.read() as session:
            row = (
                await session.execute(select(Draft).where(col(Draft.chat_id) == chat_id))
            ).scalar_one_or_none()
        if row is None:
            return Loaded(None)
        if row.expires_at <= now:
            async with self.db.write() as session:
                await session.execute(
                    delete(Draft).where(col(Draft.chat_id) == chat_id, col(Draft.expires_at) <= now)
                )
            return Loaded(None, expired=True)
        return Loaded(self._state(row))

    async def get(self, chat_id: int, *, now: datetime | None = None) -> DraftState | None:
        """The chat's live draft, or None (expired drafts are deleted on the way)."""
        return (await self.load(chat_id, now=now)).draft

    async def save(self, state: DraftState, *, now: datetime | None = None) -> DraftState:
        """Write STATE as the chat's draft (replacing any other) and push its expiry back."""
        async with self.db.write() as session:
            await self._save(session, state, now or utcnow())
        return state

    async def _save(self, session: AsyncSession, state: DraftState, now: datetime) -> None:
        values: dict[str, Any] = {
            "user_id": state.user_id,
            "step": state.step,
            "idempotency_key": state.idempotency_key,
            "sealed": self.vault.seal_json(state.answers, context=draft_context(state.chat_id)),
            "message_ids": json.dumps(state.message_ids),
            "report_id": state.report_id,
            "updated_at": now,
            "expires_at": now + self.ttl,
        }
        result = await session.execute(
            update(Draft).where(col(Draft.chat_id) == state.chat_id).values(**values)
        )
        if not rowcount(result):
            session.add(Draft(chat_id=state.chat_id, created_at=now, **values))
            await session.flush()
            state.created_at = now
        state.updated_at = now
        state.expires_at = values["expires_at"]

    async def save_messages(self, state: DraftState, *, now: datetime | None = None) -> bool:
        """Store only STATE's message ids (and push its expiry back); False if it is gone."""
        now = now or utcnow()
        async with self.db.write() as session:
            result = await session.execute(
                update(Draft)
                .where(
                    col(Draft.chat_id) == state.chat_id,
                    col(Draft.idempotency_key) == state.idempotency_key,
                )
                .values(
                    message_ids=json.dumps(state.message_ids),
                    updated_at=now,
                    expires_at=now + self.ttl,
                )
            )
        state.updated_at, state.expires_at = now, now + self.ttl
        return bool(rowcount(result))

    async def mark_filed(
        self, state: DraftState, report_id: int, *, subscribe: bool, now: datetime | None = None
    ) -> None:
        """Save STATE as filed as REPORT_ID and, for an own account, subscribe its chat.

        One transaction: the subscription (with the reminder it is owed) and the filed draft.
        """
        state.report_id = report_id
        now = now or utcnow()
        async with self.db.write() as session:
            await self._save(session, state, now)
            if subscribe:
                await subscribe_in(session, report_id, state.chat_id, via="own_account", now=now)

    async def delete(self, chat_id: int) -> bool:
        """Forget the chat's draft; True if there was one."""
        async with self.db.write() as session:
            result = await session.execute(delete(Draft).where(col(Draft.chat_id) == chat_id))
            return bool(rowcount(result))

    async def expire(self, *, now: datetime | None = None) -> int:
        """Delete every draft idle past its expiry; returns how many."""
        async with self.db.write() as session:
            expired = col(Draft.expires_at) <= (now or utcnow())
            result = await session.execute(delete(Draft).where(expired))
            return rowcount(result)
