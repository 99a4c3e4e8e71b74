"""The register's tables.

Personal data (names, numbers, e-mail, every free text the victim typed, IMEIs) lives only in
`sealed` columns, encrypted per row; IMEIs and phone numbers are found through keyed hashes.
Plain columns hold what staff filter and count on: status, times, make, method, coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from models.storage.columns import UTCDateTime, sealed_key_id_column, utcnow

HASH_LENGTH = 32


def _when(*, index: bool = False, nullable: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)


def _report_fk(*, index: bool = True) -> Column:
    return Column(Integer, ForeignKey("report.id", ondelete="CASCADE"), nullable=False, index=index)


class Report(SQLModel, table=True):
    """One filed report of a stolen phone."""

    __tablename__ = "report"
    __table_args__ = (
        Index("ix_report_status_created", "status", "created_at"),
        Index("ix_report_status_changed", "status", "status_changed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(sa_column=Column(String(16), nullable=False, unique=True))
    idempotency_key: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    status: str = Field(sa_column=Column(String(20), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when(index=True))
    status_changed_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    incident_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    make: str = Field(sa_column=Column(String(16), nullable=False))
    platform: str = Field(sa_column=Column(String(16), nullable=False))
    theft_method: str | None = Field(default=None, sa_column=Column(String(24)))
    imei_tac: str | None = Field(default=None, sa_column=Column(String(8)))
    imei_count: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    incident_lat: float | None = None
    incident_lon: float | None = None
    tracked_lat: float | None = None
    tracked_lon: float | None = None
    tracked_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    own_account: bool = False
    # The language the report was filed in; NULL (filed before languages were kept) is English.
    language: str | None = Field(default=None, sa_column=Column(String(8)))
    contact_phone_hash: str | None = Field(
        default=None, sa_column=Column(String(HASH_LENGTH), index=True)
    )
    stolen_phone_hash: str | None = Field(
        default=None, sa_column=Column(String(HASH_LENGTH), index=True)
    )
    access_code_hash: str = Field(sa_column=Column(String(HASH_LENGTH), nullable=False))
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # Kept by the database from `sealed`: which key a report needs (see SEALED_COLUMNS).
    key_id: str | None = Field(default=None, sa_column=sealed_key_id_column("sealed"))


class ReportImei(SQLModel, table=True):
    """An IMEI of a report (one or two), found through its keyed hash."""

    __tablename__ = "report_imei"
    __table_args__ = (UniqueConstraint("report_id", "slot", name="uq_report_imei_slot"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(sa_column=_report_fk(index=False))
    slot: int = Field(sa_column=Column(Integer, nullable=False))
    imei_hash: str = Field(sa_column=Column(String(HASH_LENGTH), nullable=False, index=True))


class StatusChange(SQLModel, table=True):
    """One step in a report's history: who moved it to which status, when, and why."""

    __tablename__ = "status_change"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(sa_column=_report_fk())
    status: str = Field(sa_column=Column(String(20), nullable=False))
    changed_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    actor: str = Field(sa_column=Column(String(32), nullable=False))
    actor_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    note_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    note_key_id: str | None = Field(default=None, sa_column=sealed_key_id_column("note_sealed"))


class Draft(SQLModel, table=True):
    """The conversation's memory: one unfinished (or just filed) report per private chat."""

    __tablename__ = "draft"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False, unique=True))
    user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    step: str = Field(sa_column=Column(String(32), nullable=False))
    idempotency_key: str = Field(sa_column=Column(String(64), nullable=False))
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_id: str | None = Field(default=None, sa_column=sealed_key_id_column("sealed"))
    message_ids: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    report_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("report.id", ondelete="SET NULL")),
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    expires_at: datetime = Field(sa_column=_when(index=True))


class Subscription(SQLModel, table=True):
    """A chat that receives a report's updates."""

    __tablename__ = "subscription"
    __table_args__ = (UniqueConstraint("report_id", "chat_id", name="uq_subscription_chat"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(sa_column=_report_fk())
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))
    via: str = Field(sa_column=Column(String(16), nullable=False))
    # The language this chat chose for the report's updates; NULL: the report's own.
    language: str | None = Field(default=None, sa_column=Column(String(8)))
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    deactivated_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    deactivated_reason: str | None = Field(default=None, sa_column=Column(String(64)))


class Notification(SQLModel, table=True):
    """The outbox: one message to one chat, queued with the change that caused it."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_state_due", "state", "not_before"),
        # Claiming checks the chat's other rows (in flight, sent, older): models.services.outbox.
        Index("ix_notification_chat_state", "chat_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(sa_column=_report_fk())
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    kind: str = Field(sa_column=Column(String(24), nullable=False))
    event_key: str = Field(sa_column=Column(String(96), nullable=False, unique=True))
    state: str = Field(default="pending", sa_column=Column(String(12), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    not_before: datetime = Field(default_factory=utcnow, sa_column=_when())
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    claimed_by: str | None = Field(default=None, sa_column=Column(String(64)))
    claimed_until: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    delivered_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    telegram_message_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    last_error: str | None = Field(default=None, sa_column=Column(String(200)))


class DeliveryAttempt(SQLModel, table=True):
    """One try at sending a notification, and what Telegram answered."""

    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("notification.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    attempted_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    outcome: str = Field(sa_column=Column(String(24), nullable=False))
    detail: str | None = Field(default=None, sa_column=Column(String(200)))


class StaffMember(SQLModel, table=True):
    """A Telegram user allowed to work the register."""

    __tablename__ = "staff_member"

    user_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    role: str = Field(sa_column=Column(String(16), nullable=False))
    added_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    added_by: str = Field(sa_column=Column(String(64), nullable=False))


class AuditEvent(SQLModel, table=True):
    """Who did what to the register, when; never purged with the reports it mentions."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_column=_when(index=True))
    actor: str = Field(sa_column=Column(String(64), nullable=False))
    action: str = Field(sa_column=Column(String(32), nullable=False, index=True))
    target: str | None = Field(default=None, sa_column=Column(String(64)))
    details: str = Field(default="{}", sa_column=Column(Text, nullable=False))


class ProcessedUpdate(SQLModel, table=True):
    """A Telegram update whose effect is stored; a redelivery is acknowledged and skipped."""

    __tablename__ = "processed_update"

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    processed_at: datetime = Field(default_factory=utcnow, sa_column=_when(index=True))


class CodeAttempt(SQLModel, table=True):
    """A wrong access code tried from a chat, for rate limiting."""

    __tablename__ = "code_attempt"
    __table_args__ = (Index("ix_code_attempt_chat_at", "chat_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_column=_when())


class KeyCheck(SQLModel, table=True):
    """A fingerprint of the keys the register was sealed with, to refuse the wrong keys."""

    __tablename__ = "key_check"

    id: int = Field(default=1, sa_column=Column(Integer, primary_key=True, autoincrement=False))
    index_check: str = Field(sa_column=Column(String(HASH_LENGTH), nullable=False))
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


@dataclass(frozen=True, slots=True)
class SealedColumn:
    """A column of sealed values and the key-id column the database derives from it."""

    table: type[SQLModel]
    sealed: str
    key_id: str

    @property
    def name(self) -> str:
        """The table's name, as reports and messages show it."""
        return str(self.table.__tablename__)


# Every sealed column but the key check's own canary. A new sealed column gets a key-id column
# (sealed_key_id_column) and an entry here, so that the start-up check and key rotation see it.
SEALED_COLUMNS = (
    SealedColumn(Report, "sealed", "key_id"),
    SealedColumn(StatusChange, "note_sealed", "note_key_id"),
    SealedColumn(Draft, "sealed", "key_id"),
)
