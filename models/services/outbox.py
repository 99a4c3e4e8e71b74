"""The outbox: claiming queued notifications for a worker, and recording what became of them.

A notification is `pending` until a worker claims it (`sending`, with a lease), then ends
`delivered`, `failed` (never retried) or `cancelled` (no longer wanted), or goes back to
`pending` with a later `not_before` to be retried. One whose report's sealed data cannot be
opened (a key is missing, or the value is damaged) is set aside as `unreadable` when claimed,
so that it never holds up the rest; `reportbot keys rotate` queues it again once it opens. A
lease that runs out (the worker died) makes the row claimable again. See docs/delivery.md.

Claims respect each chat: a chat's status messages go out one at a time, oldest first, never
while another worker holds one of the chat's rows, and not within `per_chat_interval` of the last
delivery to it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Result, and_, exists, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.sealing.vault import CryptoError, UnknownKey, Vault
from models.services.alerts import alert_context, is_alert
from models.services.reports import report_context, report_language
from models.services.subscriptions import REMINDER_KIND, deactivate_chat_in
from models.storage.database import Database, rowcount
from models.storage.tables import (
    DeliveryAttempt,
    Notification,
    Report,
    StaffMember,
    Subscription,
    new_row,
    stored,
    table_of,
)
from models.values.statuses import OPEN, Status

PENDING = "pending"
SENDING = "sending"
DELIVERED = "delivered"
FAILED = "failed"
CANCELLED = "cancelled"
UNREADABLE = "unreadable"
STATES = (PENDING, SENDING, DELIVERED, FAILED, CANCELLED, UNREADABLE)
MAX_DETAIL = 200
ATTEMPT = table_of(DeliveryAttempt)
NOTIFICATION = table_of(Notification)
DEFAULT_MAX_ATTEMPTS = 25
# One lock per schema, so that separate registers on one server do not wait for each other.
CLAIM_LOCK = "SELECT pg_advisory_xact_lock(hashtext('reportbot.outbox:' || current_schema()))"
ANYTHING_DUE = (
    "SELECT id FROM notification WHERE (state = :pending AND not_before <= :now) "
    "OR (state = :sending AND claimed_until < :now) LIMIT 1"
)


def _clip(detail: str | None) -> str | None:
    return None if detail is None else detail[:MAX_DETAIL]


def _unreadable(vault: Vault, sealed: bytes, error: CryptoError) -> str:
    """Why a report cannot be opened, without anything it holds (the key id at most)."""
    if isinstance(error, UnknownKey):
        key_id = vault.key_id_of(sealed)
        return f"set aside: its report is sealed with key {key_id!r}, not in DATA_KEYS"
    return "set aside: its report's sealed data is damaged"


@dataclass(frozen=True, slots=True)
class Claimed:
    """A notification this worker now holds, with what it takes to write the message."""

    id: int
    report_id: int
    chat_id: int
    kind: str
    reference: str
    language: str
    attempts: int
    claimed_until: datetime
    make: str = "other"
    platform: str = "other"
    # A staff alert's parameters (models.services.alerts); empty for a victim's message.
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SetAside:
    """A notification set aside as unreadable: its report's sealed data cannot be opened."""

    id: int
    report_id: int
    reason: str


class ClaimedBatch(list[Claimed]):
    """The notifications a claim took, and those it set aside as unreadable on the way."""

    def __init__(self, claimed: Sequence[Claimed] = (), set_aside: Sequence[SetAside] = ()):
        """Hold CLAIMED as the list, SET_ASIDE beside it."""
        super().__init__(claimed)
        self.set_aside = list(set_aside)


@dataclass(frozen=True, slots=True)
class NotificationState:
    """Where one notification stands, for staff."""

    id: int
    kind: str
    chat_id: int
    state: str
    attempts: int
    created_at: datetime
    not_before: datetime
    delivered_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class DeliverySummary:
    """A report's notifications and subscriptions, for staff (/lookup)."""

    report_id: int
    notifications: list[NotificationState] = field(default_factory=list)
    active_subscriptions: int = 0
    ended_subscriptions: int = 0

    @property
    def counts(self) -> dict[str, int]:
        """How many notifications are in each state (only states that occur)."""
        return dict(Counter(item.state for item in self.notifications))


class Outbox:
    """Claim, deliver, retry and fail the notifications in the outbox."""

    def __init__(self, db: Database, vault: Vault, *, max_attempts: int = DEFAULT_MAX_ATTEMPTS):
        """Bind to a database; the vault opens the language of reports filed before its column."""
        self.db = db
        self.vault = vault
        self.max_attempts = max_attempts

    async def claim(
        self,
        worker: str,
        now: datetime,
        *,
        limit: int,
        lease: timedelta,
        per_chat_interval: timedelta = timedelta(seconds=1),
    ) -> ClaimedBatch:
        """Claim up to LIMIT due notifications for WORKER (one per chat at a time) until now+LEASE.

        Rows that are no longer wanted (the chat unsubscribed; a reminder for an ended report)
        are cancelled instead of returned; rows whose report cannot be opened are set aside as
        `unreadable` (listed in the result's `set_aside`), and the rest are claimed all the same.
        """
        if not await self._anything_due(now):
            return ClaimedBatch()  # the usual case: no write lock taken
        async with self.db.write() as session:
            if not self.db.is_sqlite:
                # Serialise claims between workers (SQLite's write lock already does), so two
                # workers never own the same chat; SKIP LOCKED keeps them from waiting on rows
                # whose outcome another transaction is still writing.
                await session.execute(text(CLAIM_LOCK))
            rows = (await session.execute(self._claimable(now, limit, per_chat_interval))).all()
            if not rows:
                return ClaimedBatch()
            expired = [row for row in rows if row.state == SENDING]
            if expired:
                await session.execute(
                    insert(ATTEMPT),
                    [
                        new_row(
                            DeliveryAttempt,
                            notification_id=row.id,
                            attempted_at=now,
                            outcome="lease_expired",
                            detail=_clip(f"claimed by {row.claimed_by}; it may have been sent"),
                        )
                        for row in expired
                    ],
                )
                await session.execute(
                    update(NOTIFICATION)
                    .where(col(Notification.id).in_([row.id for row in expired]))
                    .values(attempts=Notification.attempts + 1)
                )
            details = await self._details(session, [row.id for row in rows])
            until = now + lease
            claimed: list[Claimed] = []
            cancelled: dict[str, list[int]] = {}
            set_aside: list[SetAside] = []
            for row in rows:
                detail = details[row.id]
                if "unreadable" in detail:
                    set_aside.append(SetAside(row.id, detail["report_id"], detail["unreadable"]))
                    continue
                reason = self._unwanted(row.kind, detail)
                if reason is not None:
                    cancelled.setdefault(reason, []).append(row.id)
                    continue
                attempts = row.attempts + (1 if row.state == SENDING else 0)
                claimed.append(
                    Claimed(
                        row.id,
                        detail["report_id"],
                        row.chat_id,
                        row.kind,
                        detail["reference"],
                        detail["language"],
                        attempts,
                        until,
                        make=detail["make"],
                        platform=detail["platform"],
                        params=detail["params"],
                    )
                )
            for reason, ids in cancelled.items():
                await session.execute(
                    update(NOTIFICATION)
                    .where(col(Notification.id).in_(ids))
                    .values(state=CANCELLED, last_error=_clip(reason), claimed_until=None)
                )
            for item in set_aside:
                await session.execute(
                    update(NOTIFICATION)
                    .where(col(Notification.id) == item.id)
                    .values(state=UNREADABLE, last_error=_clip(item.reason), claimed_until=None)
                )
            if claimed:
                await session.execute(
                    update(NOTIFICATION)
                    .where(col(Notification.id).in_([item.id for item in claimed]))
                    .values(state=SENDING, claimed_by=worker[:64], claimed_until=until)
                )
            return ClaimedBatch(claimed, set_aside)

    async def _anything_due(self, now: datetime) -> bool:
        # Polled by every worker every second: one plain statement (one trip on SQLite).
        params = {"pending": PENDING, "sending": SENDING, "now": now}
        return await self.db.run(lambda tx: bool(tx.rows(ANYTHING_DUE, params)))

    def _claimable(self, now: datetime, limit: int, per_chat_interval: timedelta) -> Any:
        n = table_of(Notification).alias("n")
        other = table_of(Notification).alias("other")
        due = or_(
            and_(n.c.state == PENDING, n.c.not_before <= now),
            and_(n.c.state == SENDING, n.c.claimed_until < now),
        )
        chat_busy = exists().where(
            other.c.chat_id == n.c.chat_id,
            other.c.id != n.c.id,
            or_(
                # Another row of the chat is in flight (this worker's or another's).
                and_(other.c.state == SENDING, other.c.claimed_until >= now),
                # The chat got a message less than per_chat_interval ago.
                and_(other.c.state == DELIVERED, other.c.delivered_at > now - per_chat_interval),
                # An older row of the chat goes first: it is due, retrying, or orphaned.
                # (Reminders are scheduled on their own and neither wait nor hold others.)
                and_(
                    other.c.id < n.c.id,
                    other.c.kind != REMINDER_KIND,
                    n.c.kind != REMINDER_KIND,
                    or_(
                        and_(
                            other.c.state == PENDING,
                            or_(other.c.not_before <= now, other.c.attempts > 0),
                        ),
                        other.c.state == SENDING,
                    ),
                ),
            ),
        )
        return (
            select(n.c.id, n.c.chat_id, n.c.kind, n.c.state, n.c.attempts, n.c.claimed_by)
            .where(due, ~chat_busy)
            .order_by(n.c.not_before, n.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=n)
        )

    async def _details(self, session: AsyncSession, ids: list[int]) -> dict[int, dict[str, Any]]:
        # More columns than select() types one by one: rows are read by name.
        found: Result[*tuple[Any, ...]] = await session.execute(
            select(
                col(Notification.id),
                col(Report.id).label("report_id"),
                col(Report.reference),
                col(Report.status),
                col(Report.sealed),
                col(Report.make),
                col(Report.platform),
                col(Report.language),
                col(Subscription.active),
                col(Subscription.deactivated_reason),
                col(Subscription.language).label("chosen_language"),
                col(Notification.kind),
                col(Notification.event_key),
                col(Notification.payload),
                col(StaffMember.alerts).label("staff_alerts"),
            )
            .join(Report, col(Report.id) == col(Notification.report_id))
            .outerjoin(StaffMember, col(StaffMember.user_id) == col(Notification.chat_id))
            .outerjoin(
                Subscription,
                and_(
                    col(Subscription.report_id) == col(Notification.report_id),
                    col(Subscription.chat_id) == col(Notification.chat_id),
                ),
            )
            .where(col(Notification.id).in_(ids))
        )
        details: dict[int, dict[str, Any]] = {}
        for row in found:
            if is_alert(row.kind):
                details[row.id] = self._alert_details(row)
                continue
            language = row.chosen_language or row.language
            if language is None:
                # Filed before the language column: it is among the sealed answers.
                try:
                    private = self.vault.open_json(
                        row.sealed, context=report_context(row.reference)
                    )
                except CryptoError as error:
                    details[row.id] = {
                        "report_id": row.report_id,
                        "unreadable": _unreadable(self.vault, row.sealed, error),
                    }
                    continue
                language = report_language(None, private)
            details[row.id] = {
                "report_id": row.report_id,
                "reference": row.reference,
                "status": Status(row.status),
                "language": language,
                "make": row.make,
                "platform": row.platform,
                "subscribed": bool(row.active),
                "ended_because": row.deactivated_reason,
                "params": {},
            }
        return details

    def _alert_details(self, row: Any) -> dict[str, Any]:
        """A staff alert's details: English, its own sealed parameters, wanted while the staff
        member still has alerts on (the victim's sealed data is not opened)."""
        try:
            params = (
                self.vault.open_json(row.payload, context=alert_context(row.event_key))
                if row.payload is not None
                else {}
            )
        except CryptoError as error:
            return {
                "report_id": row.report_id,
                "unreadable": _unreadable(self.vault, row.payload, error),
            }
        return {
            "report_id": row.report_id,
            "reference": row.reference,
            "status": Status(row.status),
            "language": "en",
            "make": row.make,
            "platform": row.platform,
            "subscribed": bool(row.staff_alerts),
            "ended_because": "staff alerts off",
            "params": params,
        }

    @staticmethod
    def _unwanted(kind: str, detail: dict[str, Any]) -> str | None:
        if not detail["subscribed"]:
            return f"not sent: subscription ended ({detail['ended_because'] or 'none'})"
        if kind == REMINDER_KIND and detail["status"] not in OPEN:
            return f"not sent: the report is {detail['status'].value}"
        return None

    async def _finish(
        self,
        session: AsyncSession,
        item: Claimed,
        worker: str,
        at: datetime,
        outcome: str,
        detail: str | None,
        values: dict[str, Any],
    ) -> bool:
        """Store the attempt, then update the row if WORKER still holds it."""
        await session.execute(
            insert(ATTEMPT).values(
                notification_id=item.id, attempted_at=at, outcome=outcome, detail=_clip(detail)
            )
        )
        result = await session.execute(
            update(NOTIFICATION)
            .where(
                col(Notification.id) == item.id,
                col(Notification.state) == SENDING,
                col(Notification.claimed_by) == worker[:64],
            )
            .values(attempts=Notification.attempts + 1, **values)
        )
        return bool(rowcount(result))

    async def delivered(
        self, item: Claimed, worker: str, *, at: datetime, message_id: int | None
    ) -> bool:
        """Record that Telegram accepted ITEM; False if WORKER had lost its claim meanwhile."""
        async with self.db.write() as session:
            return await self._finish(
                session,
                item,
                worker,
                at,
                "delivered",
                f"message {message_id}",
                {
                    "state": DELIVERED,
                    "delivered_at": at,
                    "telegram_message_id": message_id,
                    "claimed_until": None,
                    "last_error": None,
                },
            )

    async def retry(
        self,
        item: Claimed,
        worker: str,
        *,
        at: datetime,
        not_before: datetime,
        outcome: str,
        detail: str,
        counts: bool = True,
    ) -> str:
        """Record a failed try and queue ITEM again from NOT_BEFORE; returns its new state.

        After max_attempts tries that COUNT, the notification fails instead (its reason kept).
        """
        gave_up = counts and item.attempts + 1 >= self.max_attempts
        values: dict[str, Any]
        if gave_up:
            reason = f"gave up after {item.attempts + 1} attempts: {detail}"
            values = {"state": FAILED, "last_error": _clip(reason), "claimed_until": None}
        else:
            values = {
                "state": PENDING,
                "not_before": not_before,
                "last_error": _clip(detail),
                "claimed_by": None,
                "claimed_until": None,
            }
        async with self.db.write() as session:
            await self._finish(session, item, worker, at, outcome, detail, values)
        state: str = values["state"]
        return state

    async def fail(
        self,
        item: Claimed,
        worker: str,
        *,
        at: datetime,
        outcome: str,
        detail: str,
        end_chat: str | None = None,
    ) -> None:
        """Record that ITEM can never be sent; with END_CHAT, the chat is gone for every report.

        END_CHAT (a reason such as "blocked the bot") ends all the chat's subscriptions and
        fails its other unsent notifications, so none of them is tried again.
        """
        async with self.db.write() as session:
            await self._finish(
                session,
                item,
                worker,
                at,
                outcome,
                detail,
                {"state": FAILED, "last_error": _clip(detail), "claimed_until": None},
            )
            if end_chat is None:
                return
            await deactivate_chat_in(session, item.chat_id, end_chat, at)
            await session.execute(
                update(NOTIFICATION)
                .where(
                    col(Notification.chat_id) == item.chat_id, col(Notification.state) == PENDING
                )
                .values(state=FAILED, last_error=_clip(f"not sent: {end_chat}"))
            )

    async def release(
        self, items: Sequence[Claimed], worker: str, *, not_before: datetime | None = None
    ) -> None:
        """Give back claimed but unsent ITEMS (no attempt was made), due again at NOT_BEFORE."""
        if not items:
            return
        values: dict[str, Any] = {"state": PENDING, "claimed_by": None, "claimed_until": None}
        if not_before is not None:
            values["not_before"] = not_before
        async with self.db.write() as session:
            await session.execute(
                update(NOTIFICATION)
                .where(
                    col(Notification.id).in_([item.id for item in items]),
                    col(Notification.state) == SENDING,
                    col(Notification.claimed_by) == worker[:64],
                )
                .values(**values)
            )

    async def next_times(self) -> tuple[datetime | None, datetime | None]:
        """(when the next pending row is due, when the first lease runs out): None if none."""
        async with self.db.read() as session:
            pending = (
                await session.execute(
                    select(func.min(col(Notification.not_before))).where(
                        col(Notification.state) == PENDING
                    )
                )
            ).scalar_one()
            leased = (
                await session.execute(
                    select(func.min(Notification.claimed_until)).where(
                        col(Notification.state) == SENDING
                    )
                )
            ).scalar_one()
        return pending, leased

    async def unreadable(self) -> int:
        """How many notifications are set aside because their report cannot be opened."""
        async with self.db.read() as session:
            return (
                await session.execute(
                    select(func.count())
                    .select_from(Notification)
                    .where(col(Notification.state) == UNREADABLE)
                )
            ).scalar_one()

    async def unfinished(self) -> int:
        """How many notifications are pending or being sent."""
        async with self.db.read() as session:
            return (
                await session.execute(
                    select(func.count())
                    .select_from(Notification)
                    .where(col(Notification.state).in_([PENDING, SENDING]))
                )
            ).scalar_one()

    async def delivery_summary(self, report_id: int) -> DeliverySummary:
        """Every notification of a report with its state and reason, oldest first, for staff."""
        async with self.db.read() as session:
            found = await session.execute(
                select(Notification)
                .where(col(Notification.report_id) == report_id)
                .order_by(col(Notification.created_at), col(Notification.id))
            )
            notifications = [
                NotificationState(
                    id=stored(row.id),
                    kind=row.kind,
                    chat_id=row.chat_id,
                    state=row.state,
                    attempts=row.attempts,
                    created_at=row.created_at,
                    not_before=row.not_before,
                    delivered_at=row.delivered_at,
                    last_error=row.last_error,
                )
                for row in found.scalars()
            ]
            subscriptions = Counter(
                (
                    await session.execute(
                        select(col(Subscription.active)).where(
                            col(Subscription.report_id) == report_id
                        )
                    )
                ).scalars()
            )
        return DeliverySummary(
            report_id,
            notifications,
            active_subscriptions=subscriptions[True],
            ended_subscriptions=subscriptions[False],
        )
