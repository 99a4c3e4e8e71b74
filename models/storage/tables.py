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
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
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
        # Tracked-location cluster alerts look at the sightings of a time window.
        Index("ix_report_tracked_at", "tracked_at"),
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
    # Set when another open report held one of this report's IMEIs (models.services.alerts).
    duplicate_imei_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    # What police record: lost / theft from the person / robbery, the earliest and latest
    # possible time, their crime reference and force (models.values.loss, window, crime).
    loss_kind: str | None = Field(default=None, sa_column=Column(String(20)))
    incident_from: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    incident_to: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    crime_reference: str | None = Field(default=None, sa_column=Column(String(32), index=True))
    police_force: str | None = Field(default=None, sa_column=Column(String(24)))
    # The IMEI's TAC as an imported TAC table names it, and whether it disagrees with `make`.
    tac_make: str | None = Field(default=None, sa_column=Column(String(64)))
    tac_model: str | None = Field(default=None, sa_column=Column(String(128)))
    tac_mismatch: bool | None = Field(default=None, sa_column=Column(Boolean))
    # Where each stored point came from and how precise it is (models.values.coordinates).
    incident_point_source: str | None = Field(default=None, sa_column=Column(String(16)))
    incident_point_precision: str | None = Field(default=None, sa_column=Column(String(20)))
    tracked_point_source: str | None = Field(default=None, sa_column=Column(String(16)))
    tracked_point_precision: str | None = Field(default=None, sa_column=Column(String(20)))
    # Which version of the staff search keys (report_key) this report has; see reindex.
    search_keys_version: int = Field(
        default=0, sa_column=Column(Integer, nullable=False, server_default="0", index=True)
    )

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
    # When the IMEI joined the report (filing, or added later): the block-list feed's delta.
    added_at: datetime | None = Field(default_factory=utcnow, sa_column=_when(nullable=True))


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
    # A staff alert's parameters, sealed (models.services.alerts); None for victims' messages.
    payload: bytes | None = Field(default=None, sa_column=Column(LargeBinary))
    payload_key_id: str | None = Field(default=None, sa_column=sealed_key_id_column("payload"))


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
    # Whether they get staff alerts (duplicate IMEIs, tracked clusters) in their private chat.
    alerts: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )


class RecoveryPreview(SQLModel, table=True):
    """A bulk recovery previewed in the web console, waiting for its one confirmation.

    It keeps what the preview showed, never an IMEI: the reports to recover with the keyed hashes
    of their seized IMEIs, and the preview's counts. Confirming sets `used_at` in one conditional
    update, so of two confirmations (two tabs, two console processes) exactly one applies it.
    """

    __tablename__ = "recovery_preview"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), nullable=False, unique=True))
    staff_user_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    expires_at: datetime = Field(sa_column=_when(index=True))
    used_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))
    # {report id: [keyed IMEI hash, ...]}: the reports each seized IMEI alone claims.
    supports: str = Field(sa_column=Column(Text, nullable=False))
    # The preview's counts, as the audit trail records them.
    summary: str = Field(sa_column=Column(Text, nullable=False))


class TrackedCluster(SQLModel, table=True):
    """A place where several reports' phones were tracked: alerted once, again as it grows."""

    __tablename__ = "tracked_cluster"

    id: int | None = Field(default=None, primary_key=True)
    centre_lat: float = Field(sa_column=Column(Float, nullable=False))
    centre_lon: float = Field(sa_column=Column(Float, nullable=False))
    first_seen_at: datetime = Field(sa_column=_when())
    last_seen_at: datetime = Field(sa_column=_when(index=True))
    reports: int = Field(sa_column=Column(Integer, nullable=False))
    alerted_reports: int = Field(sa_column=Column(Integer, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_when())


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


class WebSignInLink(SQLModel, table=True):
    """A one-time sign-in link to the web console: only the token's hash is kept."""

    __tablename__ = "web_sign_in_link"

    token_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    user_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("staff_member.user_id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    expires_at: datetime = Field(sa_column=_when(index=True))
    used_at: datetime | None = Field(default=None, sa_column=_when(nullable=True))


class WebSession(SQLModel, table=True):
    """A signed-in web console session; removing the staff member removes it."""

    __tablename__ = "web_session"

    token_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    user_id: int = Field(
        sa_column=Column(
            BigInteger,
            ForeignKey("staff_member.user_id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    expires_at: datetime = Field(sa_column=_when(index=True))


class WebSignInFailure(SQLModel, table=True):
    """A sign-in with an unknown, used or expired link, for rate limiting by source."""

    __tablename__ = "web_sign_in_failure"
    __table_args__ = (Index("ix_web_sign_in_failure_source_at", "source_hash", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    source_hash: str = Field(sa_column=Column(String(HASH_LENGTH), nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_column=_when())


class KeyCheck(SQLModel, table=True):
    """A fingerprint of the keys the register was sealed with, to refuse the wrong keys."""

    __tablename__ = "key_check"

    id: int = Field(default=1, sa_column=Column(Integer, primary_key=True, autoincrement=False))
    index_check: str = Field(sa_column=Column(String(HASH_LENGTH), nullable=False))
    sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class ReportKey(SQLModel, table=True):
    """A keyed hash under which staff find a report: e-mail, name, name word (no plain text)."""

    __tablename__ = "report_key"
    __table_args__ = (UniqueConstraint("report_id", "kind", "key_hash", name="uq_report_key"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(sa_column=_report_fk())
    kind: str = Field(sa_column=Column(String(12), nullable=False))
    key_hash: str = Field(sa_column=Column(String(HASH_LENGTH), nullable=False, index=True))


class ReportEvent(SQLModel, table=True):
    """A change to a report that is not a status change (crime reference, force, access code)."""

    __tablename__ = "report_event"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(sa_column=_report_fk())
    at: datetime = Field(default_factory=utcnow, sa_column=_when())
    actor: str = Field(sa_column=Column(String(64), nullable=False))
    actor_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    kind: str = Field(sa_column=Column(String(32), nullable=False))
    # Never personal data: a crime reference, a force code, or nothing.
    detail: str | None = Field(default=None, sa_column=Column(String(64)))


class Dataset(SQLModel, table=True):
    """An imported reference table (TAC table, gazetteer) and the generation now in use."""

    __tablename__ = "dataset"

    name: str = Field(sa_column=Column(String(16), primary_key=True, autoincrement=False))
    generation: int = Field(sa_column=Column(Integer, nullable=False))
    rows: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    format: str = Field(sa_column=Column(String(24), nullable=False))
    imported_at: datetime = Field(default_factory=utcnow, sa_column=_when())
    imported_by: str = Field(sa_column=Column(String(64), nullable=False))


class TacEntry(SQLModel, table=True):
    """One Type Allocation Code of an imported TAC table: the brand and model it names."""

    __tablename__ = "tac_entry"
    __table_args__ = (PrimaryKeyConstraint("generation", "tac", name="pk_tac_entry"),)

    generation: int = Field(sa_column=Column(Integer, nullable=False, autoincrement=False))
    tac: str = Field(sa_column=Column(String(8), nullable=False))
    brand: str = Field(sa_column=Column(String(64), nullable=False))
    model: str = Field(sa_column=Column(String(128), nullable=False))
    brand_key: str = Field(sa_column=Column(String(32), nullable=False))


class PlaceName(SQLModel, table=True):
    """A name or postcode of an imported gazetteer, its point, source and precision."""

    __tablename__ = "place_name"
    __table_args__ = (Index("ix_place_name_generation_key", "generation", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    generation: int = Field(sa_column=Column(Integer, nullable=False))
    key: str = Field(sa_column=Column(String(128), nullable=False))
    name: str = Field(sa_column=Column(String(128), nullable=False))
    lat: float = Field(sa_column=Column(Float, nullable=False))
    lon: float = Field(sa_column=Column(Float, nullable=False))
    precision: str = Field(sa_column=Column(String(20), nullable=False))
    source: str = Field(sa_column=Column(String(16), nullable=False))
    # Lower is preferred among places of the same name (a city before a hamlet).
    rank: int = Field(default=50, sa_column=Column(SmallInteger, nullable=False))
    # A postcode's district (outward code), from which partial postcodes get their centroid.
    district: str | None = Field(default=None, sa_column=Column(String(8)))


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
    SealedColumn(Notification, "payload", "payload_key_id"),
)
