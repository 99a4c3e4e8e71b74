"""Drafts: the victim's conversation remembered answer by answer, sealed, until it expires.

An answer costs one read and one write. The read is the update's check (`Database.check_update`,
which prefetches the chat's draft row); the write stores the processed-update record and the
whole draft, with every message id known so far, in one statement pair (`Database.run`). The ids
of the messages sent in reply are only known after that write: they are kept in memory
(`note_sent`) and go with the chat's next write; they are stored at once when the conversation
is over (`flush`), when too many chats wait, and when the register closes (`flush_all`). A crash
in between loses at most the ids of one reply per chat (those messages are then not deleted by
"clear this chat"); the draft itself never waits.
"""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.sealing.vault import Vault
from models.services.subscriptions import subscribe_in
from models.storage.columns import utcnow
from models.storage.database import Database, rowcount
from models.storage.jobs import Tx
from models.storage.processed import take_prefetched
from models.storage.tables import Draft

# A conversation with many re-asks still stays a small row; the newest ids are the ones to keep.
MAX_MESSAGE_IDS = 1000
# Chats whose sent message ids wait in memory for their next write, at most; then the oldest
# are stored, this many in one write.
MAX_UNSAVED = 1000
FLUSH_BATCH = 100
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


SELECT_DRAFT = (
    "SELECT user_id, step, idempotency_key, sealed, message_ids, report_id, "
    "created_at, updated_at, expires_at FROM draft WHERE chat_id = :chat_id"
)
UPSERT_DRAFT = (
    "INSERT INTO draft (chat_id, user_id, step, idempotency_key, sealed, message_ids, "
    "report_id, created_at, updated_at, expires_at) VALUES (:chat_id, :user_id, :step, "
    ":idempotency_key, :sealed, :message_ids, :report_id, :now, :now, :expires_at) "
    "ON CONFLICT (chat_id) DO UPDATE SET user_id = excluded.user_id, step = excluded.step, "
    "idempotency_key = excluded.idempotency_key, sealed = excluded.sealed, "
    "message_ids = excluded.message_ids, report_id = excluded.report_id, "
    "updated_at = excluded.updated_at, expires_at = excluded.expires_at "
    "RETURNING created_at"
)
DELETE_DRAFT = "DELETE FROM draft WHERE chat_id = :chat_id"
DELETE_EXPIRED = "DELETE FROM draft WHERE chat_id = :chat_id AND expires_at <= :now"
SELECT_IDS = "SELECT idempotency_key, message_ids FROM draft WHERE chat_id = :chat_id"
UPDATE_IDS = (
    "UPDATE draft SET message_ids = :message_ids, updated_at = :now, expires_at = :expires_at "
    "WHERE chat_id = :chat_id AND idempotency_key = :idempotency_key"
)


def _read_row(tx: Tx, chat_id: int) -> tuple[Any, ...] | None:
    rows = tx.rows(SELECT_DRAFT, {"chat_id": chat_id})
    if not rows:
        return None
    row = list(rows[0])
    for at in (6, 7, 8):
        row[at] = tx.time(row[at])
    return tuple(row)


class DraftStore:
    """Read, write and expire drafts; one row per private chat."""

    def __init__(self, db: Database, vault: Vault, *, ttl_hours: int = 24) -> None:
        """Bind the store to a database and vault; idle drafts live TTL_HOURS."""
        self.db = db
        self.vault = vault
        self.ttl = timedelta(hours=ttl_hours)
        # Drafts whose sent messages' ids are not stored yet, by chat.
        self._unsaved: dict[int, DraftState] = {}
        db.prefetchers["draft"] = _read_row

    def _state(self, chat_id: int, row: tuple[Any, ...]) -> DraftState:
        user_id, step, key, sealed, ids, report_id, created, updated, expires = row
        state = DraftState(
            chat_id=chat_id,
            user_id=user_id,
            step=step,
            answers=self.vault.open_json(sealed, context=draft_context(chat_id)),
            message_ids=[int(i) for i in json.loads(ids)],
            idempotency_key=key,
            report_id=report_id,
            created_at=created,
            updated_at=updated,
            expires_at=expires,
        )
        unsaved = self._unsaved.get(chat_id)
        if unsaved is not None:
            state.remember_messages(unsaved.message_ids)
        return state

    async def load(self, chat_id: int, *, now: datetime | None = None) -> Loaded:
        """The chat's draft; an expired one is deleted and reported as expired."""
        now = now or utcnow()
        found, row = take_prefetched("draft", chat_id)
        if not found:
            row = await self.db.run(lambda tx: _read_row(tx, chat_id))
        if row is None:
            return Loaded(None)
        if row[8] <= now:
            self._unsaved.pop(chat_id, None)
            await self.db.run(
                lambda tx: tx.run(DELETE_EXPIRED, {"chat_id": chat_id, "now": now}), write=True
            )
            return Loaded(None, expired=True)
        return Loaded(self._state(chat_id, row))

    async def get(self, chat_id: int, *, now: datetime | None = None) -> DraftState | None:
        """The chat's live draft, or None (expired drafts are deleted on the way)."""
        return (await self.load(chat_id, now=now)).draft

    async def save(self, state: DraftState, *, now: datetime | None = None) -> DraftState:
        """Write STATE as the chat's draft (replacing any other) and push its expiry back.

        The ids of messages sent since the chat's last write go with it.
        """
        now = now or utcnow()
        unsaved = self._unsaved.pop(state.chat_id, None)
        if unsaved is not None and unsaved is not state:
            state.remember_messages(unsaved.message_ids)
        values = {"chat_id": state.chat_id, "now": now, **self._columns(state, now)}
        try:
            rows = await self.db.run(lambda tx: tx.rows(UPSERT_DRAFT, values), write=True)
        except BaseException:
            if unsaved is not None:
                self._unsaved.setdefault(state.chat_id, unsaved)
            raise
        state.created_at = _time_of(rows[0][0])
        state.updated_at, state.expires_at = now, values["expires_at"]
        return state

    async def note_sent(self, state: DraftState, ids: list[int]) -> None:
        """Remember ids of messages sent for STATE; stored with the chat's next write.

        Chats that never come back must not hold memory for ever: past MAX_UNSAVED chats, the
        ones waiting longest are stored, FLUSH_BATCH of them in one write.
        """
        if not ids:
            return
        state.remember_messages(ids)
        self._unsaved.pop(state.chat_id, None)
        self._unsaved[state.chat_id] = state  # the newest last
        if len(self._unsaved) > MAX_UNSAVED:
            oldest = list(itertools.islice(self._unsaved, FLUSH_BATCH))
            await self._store_ids([self._unsaved.pop(chat_id) for chat_id in oldest])

    async def flush(self, chat_id: int, *, now: datetime | None = None) -> bool:
        """Store the chat's unsaved message ids now; False if there were none or it is gone."""
        state = self._unsaved.pop(chat_id, None)
        if state is None:
            return False
        return await self.save_messages(state, now=now)

    async def flush_all(self) -> int:
        """Store every chat's unsaved message ids (when the register closes); how many chats."""
        states = list(self._unsaved.values())
        self._unsaved.clear()
        stored = 0
        for start in range(0, len(states), FLUSH_BATCH):
            stored += await self._store_ids(states[start : start + FLUSH_BATCH])
        return stored

    def _columns(self, state: DraftState, now: datetime) -> dict[str, Any]:
        """STATE as the draft row's columns (answers sealed), its expiry counted from NOW."""
        return {
            "user_id": state.user_id,
            "step": state.step,
            "idempotency_key": state.idempotency_key,
            "sealed": self.vault.seal_json(state.answers, context=draft_context(state.chat_id)),
            "message_ids": json.dumps(state.message_ids),
            "report_id": state.report_id,
            "expires_at": now + self.ttl,
        }

    async def _save(self, session: AsyncSession, state: DraftState, now: datetime) -> None:
        values = {"updated_at": now, **self._columns(state, now)}
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
        """Store only STATE's message ids (and push its expiry back); False if it is gone.

        The ids are added to those stored (read and written in one transaction), so ids that
        another worker stored meanwhile are kept.
        """
        return bool(await self._store_ids([state], now=now))

    async def _store_ids(self, states: list[DraftState], *, now: datetime | None = None) -> int:
        """Add each of STATES' message ids to its stored draft, in one write; how many stored."""
        now = now or utcnow()
        lock = " FOR UPDATE" if not self.db.is_sqlite else ""

        def job(tx: Tx) -> int:
            stored = 0
            for state in states:
                rows = tx.rows(SELECT_IDS + lock, {"chat_id": state.chat_id})
                if not rows or rows[0][0] != state.idempotency_key:
                    continue
                merged = DraftState(state.chat_id, state.user_id, state.step)
                merged.message_ids = [int(i) for i in json.loads(rows[0][1])]
                merged.remember_messages(state.message_ids)
                values: dict[str, Any] = {
                    "chat_id": state.chat_id,
                    "idempotency_key": state.idempotency_key,
                    "message_ids": json.dumps(merged.message_ids),
                    "now": now,
                    "expires_at": now + self.ttl,
                }
                stored += bool(tx.run(UPDATE_IDS, values))
            return stored

        stored = await self.db.run(job, write=True) if states else 0
        for state in states:
            state.updated_at, state.expires_at = now, now + self.ttl
        return stored

    async def mark_filed(
        self, state: DraftState, report_id: int, *, subscribe: bool, now: datetime | None = None
    ) -> None:
        """Save STATE as filed as REPORT_ID and, for an own account, subscribe its chat.

        One transaction: the subscription (with the reminder it is owed) and the filed draft.
        """
        state.report_id = report_id
        now = now or utcnow()
        unsaved = self._unsaved.pop(state.chat_id, None)
        if unsaved is not None and unsaved is not state:
            state.remember_messages(unsaved.message_ids)
        async with self.db.write() as session:
            await self._save(session, state, now)
            if subscribe:
                await subscribe_in(session, report_id, state.chat_id, via="own_account", now=now)

    async def delete(self, chat_id: int) -> bool:
        """Forget the chat's draft; True if there was one."""
        self._unsaved.pop(chat_id, None)
        deleted = await self.db.run(
            lambda tx: tx.run(DELETE_DRAFT, {"chat_id": chat_id}), write=True
        )
        return bool(deleted)

    async def expire(self, *, now: datetime | None = None) -> int:
        """Delete every draft idle past its expiry; returns how many."""
        async with self.db.write() as session:
            expired = col(Draft.expires_at) <= (now or utcnow())
            result = await session.execute(delete(Draft).where(expired))
            return rowcount(result)


def _time_of(value: Any) -> datetime:
    """A timestamp returned by the upsert (text on SQLite, aware on PostgreSQL) as aware UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(value).replace(tzinfo=UTC)
