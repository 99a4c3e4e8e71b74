"""Bulk recoveries previewed in one request and confirmed, once, in a later one (the web console).

A preview is a dry run (audited like one) whose answer is kept in the register, not in a
process's memory, so that the confirmation may reach another console process behind the load
balancer. What is kept is what the preview showed: the reports to recover with the keyed hashes
of the seized IMEIs that each alone claims, never an IMEI. Confirming applies exactly that, with
the same checks under the write lock as any recovery (a report that moved meanwhile, or that
another report now shares an IMEI with, is held back). A preview is confirmed by the staff member
who made it, within `PREVIEW_TTL`, and once: the first confirmation marks it used in one
conditional update, and any other (a second tab, a double click, another process) is refused.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.errors import RegisterError
from models.services.audit import record
from models.services.recovery import AfterChunk, Recovery, RecoveryOutcome, plan_counts
from models.services.seized import SeizedFile
from models.storage.columns import utcnow
from models.storage.database import Database
from models.storage.once import forget_expired, use_once
from models.storage.tables import RecoveryPreview

PREVIEW_TTL = timedelta(minutes=30)


class PreviewError(RegisterError):
    """A confirmation that cannot apply: `recovery_preview_unknown`, `_used` or `_expired`."""


@dataclass(frozen=True, slots=True)
class Previewed:
    """A dry run kept for confirmation: its TOKEN (for the confirming form) and the OUTCOME."""

    token: str
    outcome: RecoveryOutcome
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Confirmed:
    """What confirming a preview did."""

    recovered: tuple[str, ...]
    held_back: tuple[str, ...]
    notifications: int
    counts: dict[str, int]


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class RecoveryPreviews:
    """Preview a seized file, and confirm a preview once."""

    def __init__(self, db: Database, recovery: Recovery, *, ttl: timedelta = PREVIEW_TTL) -> None:
        """Keep previews in DB and apply them through RECOVERY; a preview lives TTL."""
        self.db = db
        self.recovery = recovery
        self.ttl = ttl

    async def preview(
        self,
        seized: SeizedFile,
        *,
        staff_user_id: int,
        actor: str,
        channel: str,
        now: datetime | None = None,
    ) -> Previewed:
        """Match SEIZED (a dry run, audited) and keep its answer for one confirmation."""
        outcome = await self.recovery.run(seized, actor=actor, dry_run=True, channel=channel)
        token = secrets.token_urlsafe(24)
        created = now or utcnow()
        expires = created + self.ttl
        supports = self.recovery.support_hashes(outcome.plan)
        async with self.db.write() as session:
            # Previews nobody confirmed go when they can no longer be used.
            await forget_expired(session, RecoveryPreview, created)
            session.add(
                RecoveryPreview(
                    token_hash=_token_hash(token),
                    staff_user_id=staff_user_id,
                    created_at=created,
                    expires_at=expires,
                    supports=json.dumps({str(k): v for k, v in supports.items()}),
                    summary=json.dumps(plan_counts(outcome.plan)),
                )
            )
        return Previewed(token, outcome, expires)

    async def confirm(
        self,
        token: str,
        *,
        staff_user_id: int,
        actor: str,
        channel: str,
        now: datetime | None = None,
        after_chunk: AfterChunk | None = None,
    ) -> Confirmed:
        """Apply the preview TOKEN names, once (PreviewError otherwise); audited."""
        when = now or utcnow()
        token_hash = _token_hash(token)
        async with self.db.write() as session:
            row = await use_once(
                session,
                RecoveryPreview,
                token_hash,
                when,
                where=(col(RecoveryPreview.staff_user_id) == staff_user_id,),
                returning=("supports", "summary"),
            )
            if row is None:
                raise await self._refusal(session, token_hash, staff_user_id, when)
        supports = {int(k): list(v) for k, v in json.loads(row.supports).items()}
        counts: dict[str, Any] = json.loads(row.summary)
        recovered, held_back, notifications = await self.recovery.apply_supports(
            supports, actor=actor, actor_id=staff_user_id, after_chunk=after_chunk
        )
        async with self.db.write() as session:
            record(
                session,
                actor,
                "recovery",
                None,
                {
                    "channel": channel,
                    "dry_run": False,
                    **counts,
                    "recovered": len(recovered),
                    "references": list(recovered),
                    "held_back": list(held_back),
                    "notifications": notifications,
                },
            )
        return Confirmed(recovered, held_back, notifications, counts)

    async def _refusal(
        self, session: AsyncSession, token_hash: str, staff_user_id: int, when: datetime
    ) -> PreviewError:
        found = (
            await session.execute(
                select(col(RecoveryPreview.used_at), col(RecoveryPreview.expires_at)).where(
                    col(RecoveryPreview.token_hash) == token_hash,
                    col(RecoveryPreview.staff_user_id) == staff_user_id,
                )
            )
        ).first()
        if found is None:
            return PreviewError("recovery_preview_unknown")
        if found.used_at is not None:
            return PreviewError("recovery_preview_used")
        return PreviewError("recovery_preview_expired")
