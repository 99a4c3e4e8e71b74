"""Which chats receive a report's updates, and the reminder each new subscriber is owed."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.services.reports import LANGUAGE_LENGTH
from models.storage.columns import utcnow
from models.storage.database import Database, rowcount
from models.storage.tables import Notification, Report, Subscription
from models.values.statuses import OPEN, Status

VIA = frozenset({"own_account", "code", "deep_link"})
REMINDER_KIND = "reminder"
REMINDER_DELAY = timedelta(days=1)
# Queued rows a subscription's end makes pointless; "sending" rows are in flight and finish.
_UNSENT = "pending"


@dataclass(frozen=True, slots=True)
class Subscribed:
    """The outcome of subscribing a chat."""

    subscription_id: int
    changed: bool
    reminder_queued: bool


@dataclass(frozen=True, slots=True)
class ActiveSubscription:
    """A chat that currently receives a report's updates."""

    report_id: int
    chat_id: int
    via: str
    created_at: datetime
    language: str | None = None


def reminder_key(report_id: int, chat_id: int) -> str:
    """The outbox key of the one reminder a chat gets for a report."""
    return f"{REMINDER_KIND}:{report_id}:{chat_id}"


async def deactivate_chat_in(
    session: AsyncSession, chat_id: int, reason: str, now: datetime
) -> int:
    """Within SESSION: end every active subscription of CHAT_ID (e.g. it blocked the bot)."""
    result = await session.execute(
        update(Subscription)
        .where(col(Subscription.chat_id) == chat_id, col(Subscription.active).is_(True))
        .values(active=False, deactivated_at=now, deactivated_reason=reason[:64])
    )
    return rowcount(result)


def _check_language(language: str | None) -> None:
    if language is not None and not 1 <= len(language) <= LANGUAGE_LENGTH:
        raise ValueError("a language is a short code such as 'en'")


async def subscribe_in(
    session: AsyncSession,
    report_id: int,
    chat_id: int,
    *,
    via: str,
    now: datetime | None = None,
    language: str | None = None,
) -> Subscribed:
    """Within SESSION's transaction: subscribe CHAT_ID and queue the reminder it is owed.

    For callers that subscribe in the same transaction as another change (e.g. filing).
    LANGUAGE is the language the chat chose for the report's messages (None: the report's).
    """
    if via not in VIA:
        raise ValueError(f"unknown subscription channel {via!r}")
    _check_language(language)
    now = now or utcnow()
    report = (
        await session.execute(
            select(col(Report.status), col(Report.created_at)).where(col(Report.id) == report_id)
        )
    ).one_or_none()
    if report is None:
        raise LookupError(f"no report with id {report_id}")
    row = (
        await session.execute(
            select(Subscription).where(
                col(Subscription.report_id) == report_id, col(Subscription.chat_id) == chat_id
            )
        )
    ).scalar_one_or_none()
    changed = row is None or not row.active
    if row is None:
        row = Subscription(
            report_id=report_id, chat_id=chat_id, via=via, created_at=now, language=language
        )
        session.add(row)
    elif not row.active:
        row.active = True
        row.via = via
        row.deactivated_at = None
        row.deactivated_reason = None
    if language is not None:
        row.language = language
    await session.flush()
    queued = await _queue_reminder(
        session, report_id, chat_id, Status(report.status), report.created_at, now
    )
    assert row.id is not None
    return Subscribed(row.id, changed, queued)


async def _queue_reminder(
    session: AsyncSession,
    report_id: int,
    chat_id: int,
    status: Status,
    created_at: datetime,
    now: datetime,
) -> bool:
    due = created_at + REMINDER_DELAY
    # Subscribing after the reminder's day (or to an ended report) owes no reminder.
    if status not in OPEN or now >= due:
        return False
    key = reminder_key(report_id, chat_id)
    exists = (
        await session.execute(
            select(col(Notification.id)).where(col(Notification.event_key) == key)
        )
    ).first()
    if exists is not None:
        return False
    session.add(
        Notification(
            report_id=report_id,
            chat_id=chat_id,
            kind=REMINDER_KIND,
            event_key=key,
            created_at=now,
            not_before=due,
        )
    )
    return True


class SubscriptionStore:
    """Subscribe and unsubscribe chats; list who hears about a report."""

    def __init__(self, db: Database) -> None:
        """Bind the store to a database."""
        self.db = db

    async def subscribe(
        self,
        report_id: int,
        chat_id: int,
        *,
        via: str,
        now: datetime | None = None,
        language: str | None = None,
    ) -> Subscribed:
        """Subscribe CHAT_ID to the report (idempotent; reactivates an ended subscription).

        LANGUAGE, when given, is the language the chat chose for the report's messages.
        """
        now = now or utcnow()
        try:
            return await self._subscribe(report_id, chat_id, via, now, language)
        except IntegrityError:
            # A concurrent call inserted the same row first (PostgreSQL): now it exists.
            return await self._subscribe(report_id, chat_id, via, now, language)

    async def _subscribe(
        self, report_id: int, chat_id: int, via: str, now: datetime, language: str | None
    ) -> Subscribed:
        async with self.db.write() as session:
            return await subscribe_in(
                session, report_id, chat_id, via=via, now=now, language=language
            )

    async def choose_language(self, report_id: int, chat_id: int, language: str | None) -> bool:
        """The language CHAT_ID's messages about the report go out in (None: the report's own).

        False if the chat does not follow the report.
        """
        return report_id in await self.choose_language_of((report_id,), chat_id, language)

    async def choose_language_of(
        self, report_ids: Collection[int], chat_id: int, language: str | None
    ) -> set[int]:
        """CHAT_ID's choice of LANGUAGE for each of REPORT_IDS, in one write; those it follows."""
        _check_language(language)
        if not report_ids:
            return set()
        async with self.db.write() as session:
            result = await session.execute(
                update(Subscription)
                .where(
                    col(Subscription.report_id).in_(report_ids),
                    col(Subscription.chat_id) == chat_id,
                    col(Subscription.active).is_(True),
                )
                .values(language=language)
                .returning(col(Subscription.report_id))
            )
            return set(result.scalars())

    async def unsubscribe(
        self,
        report_id: int,
        chat_id: int,
        *,
        reason: str = "unsubscribed",
        now: datetime | None = None,
    ) -> bool:
        """End CHAT_ID's subscription and cancel its unsent messages; False if it had none."""
        now = now or utcnow()
        async with self.db.write() as session:
            result = await session.execute(
                update(Subscription)
                .where(
                    col(Subscription.report_id) == report_id,
                    col(Subscription.chat_id) == chat_id,
                    col(Subscription.active).is_(True),
                )
                .values(active=False, deactivated_at=now, deactivated_reason=reason[:64])
            )
            await session.execute(
                update(Notification)
                .where(
                    col(Notification.report_id) == report_id,
                    col(Notification.chat_id) == chat_id,
                    col(Notification.state) == _UNSENT,
                )
                .values(state="cancelled", last_error=reason[:200])
            )
            return bool(rowcount(result))

    async def is_subscribed(self, report_id: int, chat_id: int) -> bool:
        """Whether CHAT_ID currently receives the report's updates."""
        async with self.db.read() as session:
            found = await session.execute(
                select(col(Subscription.id)).where(
                    col(Subscription.report_id) == report_id,
                    col(Subscription.chat_id) == chat_id,
                    col(Subscription.active).is_(True),
                )
            )
            return found.first() is not None

    async def following(self, report_id: int, chat_id: int) -> ActiveSubscription | None:
        """CHAT_ID's active subscription to the report (with the language it chose), or None."""
        async with self.db.read() as session:
            found = await session.execute(
                select(Subscription).where(
                    col(Subscription.report_id) == report_id,
                    col(Subscription.chat_id) == chat_id,
                    col(Subscription.active).is_(True),
                )
            )
            row = found.scalars().first()
            if row is None:
                return None
            return ActiveSubscription(
                row.report_id, row.chat_id, row.via, row.created_at, row.language
            )

    async def active(self, report_id: int) -> list[ActiveSubscription]:
        """The chats that receive the report's updates, oldest subscription first."""
        async with self.db.read() as session:
            found = await session.execute(
                select(Subscription)
                .where(col(Subscription.report_id) == report_id, col(Subscription.active).is_(True))
                .order_by(col(Subscription.id))
            )
            return [
                ActiveSubscription(
                    row.report_id, row.chat_id, row.via, row.created_at, row.language
                )
                for row in found.scalars()
            ]

    async def deactivate_chat(
        self, chat_id: int, reason: str, *, now: datetime | None = None
    ) -> int:
        """End every active subscription of CHAT_ID; returns how many there were."""
        async with self.db.write() as session:
            return await deactivate_chat_in(session, chat_id, reason, now or utcnow())
