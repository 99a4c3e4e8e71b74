"""The register's tables.

Personal data (names, numbers, e-mail, every free text the victim typed, IMEIs) lives only in
`sealed` columns, encrypted per row; IMEIs and phone numbers are found through keyed hashes.
Plain columns hold what staff filter and count on: status, times, make, method, coordinates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic_core import PydanticUndefined
from sqlalchemy import (
    BigInteger,
    Index,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import QueryableAttribute
from sqlmodel import Field, SQLModel

from models.storage.columns import UTCDateTime, sealed_key_id_column, utcnow

HASH_LENGTH = 32
T = TypeVar("T")


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a table model (for aliases and Core-only statements)."""
    table = sa_inspect(model).local_table
    assert isinstance(table, Table)
    return table


def attribute(field: object) -> QueryableAttribute[Any]:
    """A table model's field as the ORM attribute it is at run time (for loader options)."""
    assert isinstance(field, QueryableAttribute)
    return field


def stored(value: T | None) -> T:
    """A value the database guarantees is set: a saved row's id, a column the query filtered on."""
    assert value is not None
    return value


_defaults: dict[type[SQLModel], list[tuple[str, Any, Any]]] = {}


def new_row(model: type[SQLModel], **values: Any) -> dict[str, Any]:
    """VALUES for a Core insert into MODEL's table, with the model's defaults filled in.

    Core statements do not run SQLModel's defaults (they live on the model, not the column):
    a field left out gets its `default_factory()` or a default other than None; the rest stay
    out of the statement (NULL, or what the database computes).
    """
    defaults = _defaults.get(model)
    if defaults is None:
        defaults = _defaults[model] = [
            (name, field.default_factory, field.default)
            for name, field in model.model_fields.items()
            if field.default_factory is not None or field.default not in (None, PydanticUndefined)
        ]
    for name, factory, default in defaults:
        if name not in values:
            values[name] = factory() if factory is not None else default
    return values


def _report_id(*, index: bool = True) -> Any:
    """A row's report: deleted with it."""
    return Field(foreign_key="report.id", ondelete="CASCADE", index=index)


# Columns are declared through SQLModel's own Field arguments (type from the annotation,
# nullability from `| None`, max_length, index, unique, foreign_key, sa_type for what Python's
# types do not say: BigInteger for Telegram ids, UTCDateTime, Text). sa_column is kept only for
# the sealed values' key-id columns, which the database computes itself (Computed), something
# Field cannot express.
_NO_AUTOINCREMENT = {"autoincrement": False}


class Report(SQLModel, table=True):
    """One filed report of a stolen phone."""

    __tablename__ = "report"
    __table_args__ = (
        Index("ix_report_status_created", "status", "created_at"),
        Index("ix_report_status_changed", "status", "status_changed_at"),
        # Tracked-location cluster alerts look at the sightings of a time window.
        Index("ix_report_tracked_at", "tracked_at"),
        # Staff's filtered list, newest first: every column it filters on, so a page and its
        # count read this index and not the reports (models.services.listing).
        Index(
            "ix_report_listing",
            "status",
            "id",
            "created_at",
            "theft_method",
            "imei_count",
            "tracked_lat",
            "tracked_at",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=16, unique=True)
    idempotency_key: str = Field(max_length=64, unique=True)
    status: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    status_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    incident_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    make: str = Field(max_length=16)
    platform: str = Field(max_length=16)
    theft_method: str | None = Field(default=None, max_length=24)
    imei_tac: str | None = Field(default=None, max_length=8)
    imei_count: int = 0
    incident_lat: float | None = None
    incident_lon: float | None = None
    tracked_lat: float | None = None
    tracked_lon: float | None = None
    tracked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    own_account: bool = False
    # The language the report was filed in; NULL (filed before languages were kept) is English.
    language: str | None = Field(default=None, max_length=8)
    contact_phone_hash: str | None = Field(default=None, max_length=HASH_LENGTH, index=True)
    stolen_phone_hash: str | None = Field(default=None, max_length=HASH_LENGTH, index=True)
    access_code_hash: str = Field(max_length=HASH_LENGTH)
    sealed: bytes
    # Set when another open report held one of this report's IMEIs (models.services.alerts).
    duplicate_imei_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # What police record: lost / theft from the person / robbery, the earliest and latest
    # possible time, their crime reference and force (models.values.loss, window, crime).
    loss_kind: str | None = Field(default=None, max_length=20)
    incident_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    incident_to: datetime | None = Field(default=None, sa_type=UTCDateTime)
    crime_reference: str | None = Field(default=None, max_length=32, index=True)
    police_force: str | None = Field(default=None, max_length=24)
    # The IMEI's TAC as an imported TAC table names it, and whether it disagrees with `make`.
    tac_make: str | None = Field(default=None, max_length=64)
    tac_model: str | None = Field(default=None, max_length=128)
    tac_mismatch: bool | None = None
    # Where each stored point came from and how precise it is (models.values.coordinates).
    incident_point_source: str | None = Field(default=None, max_length=16)
    incident_point_precision: str | None = Field(default=None, max_length=20)
    tracked_point_source: str | None = Field(default=None, max_length=16)
    tracked_point_precision: str | None = Field(default=None, max_length=20)
    # Which version of the staff search keys (report_key) this report has; see reindex.
    search_keys_version: int = Field(
        default=0, index=True, sa_column_kwargs={"server_default": "0"}
    )

    # Kept by the database from `sealed`: which key a report needs (see SEALED_COLUMNS).
    key_id: str | None = Field(default=None, sa_column=sealed_key_id_column("sealed"))


class ReportImei(SQLModel, table=True):
    """An IMEI of a report (one or two), found through its keyed hash."""

    __tablename__ = "report_imei"
    __table_args__ = (UniqueConstraint("report_id", "slot", name="uq_report_imei_slot"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = _report_id(index=False)
    slot: int
    imei_hash: str = Field(max_length=HASH_LENGTH, index=True)
    # When the IMEI joined the report (filing, or added later): the block-list feed's delta.
    added_at: datetime | None = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StatusChange(SQLModel, table=True):
    """One step in a report's history: who moved it to which status, when, and why."""

    __tablename__ = "status_change"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = _report_id()
    status: str = Field(max_length=20)
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=32)
    actor_id: int | None = Field(default=None, sa_type=BigInteger)
    note_sealed: bytes | None = None
    note_key_id: str | None = Field(default=None, sa_column=sealed_key_id_column("note_sealed"))


class Draft(SQLModel, table=True):
    """The conversation's memory: one unfinished (or just filed) report per private chat."""

    __tablename__ = "draft"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger, unique=True)
    user_id: int = Field(sa_type=BigInteger)
    step: str = Field(max_length=32)
    idempotency_key: str = Field(max_length=64)
    sealed: bytes
    key_id: str | None = Field(default=None, sa_column=sealed_key_id_column("sealed"))
    message_ids: str = Field(default="[]", sa_type=Text)
    report_id: int | None = Field(default=None, foreign_key="report.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class Subscription(SQLModel, table=True):
    """A chat that receives a report's updates."""

    __tablename__ = "subscription"
    __table_args__ = (UniqueConstraint("report_id", "chat_id", name="uq_subscription_chat"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = _report_id()
    chat_id: int = Field(sa_type=BigInteger, index=True)
    via: str = Field(max_length=16)
    # The language this chat chose for the report's updates; NULL: the report's own.
    language: str | None = Field(default=None, max_length=8)
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    deactivated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    deactivated_reason: str | None = Field(default=None, max_length=64)


class Notification(SQLModel, table=True):
    """The outbox: one message to one chat, queued with the change that caused it."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_state_due", "state", "not_before"),
        # Claiming checks the chat's other rows (in flight, sent, older): models.services.outbox.
        Index("ix_notification_chat_state", "chat_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = _report_id()
    chat_id: int = Field(sa_type=BigInteger)
    kind: str = Field(max_length=24)
    event_key: str = Field(max_length=96, unique=True)
    state: str = Field(default="pending", max_length=12)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    not_before: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    telegram_message_id: int | None = Field(default=None, sa_type=BigInteger)
    last_error: str | None = Field(default=None, max_length=200)
    # A staff alert's parameters, sealed (models.services.alerts); None for victims' messages.
    payload: bytes | None = None
    payload_key_id: str | None = Field(default=None, sa_column=sealed_key_id_column("payload"))


class DeliveryAttempt(SQLModel, table=True):
    """One try at sending a notification, and what Telegram answered."""

    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notification.id", ondelete="CASCADE", index=True)
    attempted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    outcome: str = Field(max_length=24)
    detail: str | None = Field(default=None, max_length=200)


class StaffMember(SQLModel, table=True):
    """A Telegram user allowed to work the register."""

    __tablename__ = "staff_member"

    user_id: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs=_NO_AUTOINCREMENT)
    role: str = Field(max_length=16)
    added_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    added_by: str = Field(max_length=64)
    # Whether they get staff alerts (duplicate IMEIs, tracked clusters) in their private chat.
    alerts: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class RecoveryPreview(SQLModel, table=True):
    """A bulk recovery previewed in the web console, waiting for its one confirmation.

    It keeps what the preview showed, never an IMEI: the reports to recover with the keyed hashes
    of their seized IMEIs, and the preview's counts. Confirming sets `used_at` in one conditional
    update, so of two confirmations (two tabs, two console processes) exactly one applies it.
    """

    __tablename__ = "recovery_preview"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    staff_user_id: int = Field(sa_type=BigInteger)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # {report id: [keyed IMEI hash, ...]}: the reports each seized IMEI alone claims.
    supports: str = Field(sa_type=Text)
    # The preview's counts, as the audit trail records them.
    summary: str = Field(sa_type=Text)


class TrackedCluster(SQLModel, table=True):
    """A place where several reports' phones were tracked: alerted once, again as it grows."""

    __tablename__ = "tracked_cluster"

    id: int | None = Field(default=None, primary_key=True)
    centre_lat: float
    centre_lon: float
    first_seen_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime, index=True)
    reports: int
    alerted_reports: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AuditEvent(SQLModel, table=True):
    """Who did what to the register, when; never purged with the reports it mentions."""

    __tablename__ = "audit_event"
    # A report's page lists who looked at it: its events, newest first.
    __table_args__ = (Index("ix_audit_event_target_id", "target", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    actor: str = Field(max_length=64)
    action: str = Field(max_length=32, index=True)
    target: str | None = Field(default=None, max_length=64)
    details: str = Field(default="{}", sa_type=Text)


class ProcessedUpdate(SQLModel, table=True):
    """A Telegram update whose effect is stored; a redelivery is acknowledged and skipped."""

    __tablename__ = "processed_update"

    update_id: int = Field(primary_key=True, sa_type=BigInteger, sa_column_kwargs=_NO_AUTOINCREMENT)
    processed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class CodeAttempt(SQLModel, table=True):
    """A wrong access code tried from a chat, for rate limiting."""

    __tablename__ = "code_attempt"
    __table_args__ = (Index("ix_code_attempt_chat_at", "chat_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_type=BigInteger)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StaffToken(SQLModel):
    """What a web console link and session share: a token's hash, whose it is, its lifetime."""

    token_hash: str = Field(max_length=64, primary_key=True)
    user_id: int = Field(
        sa_type=BigInteger, foreign_key="staff_member.user_id", ondelete="CASCADE", index=True
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)


class WebSignInLink(StaffToken, table=True):
    """A one-time sign-in link to the web console: only the token's hash is kept."""

    __tablename__ = "web_sign_in_link"

    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebSession(StaffToken, table=True):
    """A signed-in web console session; removing the staff member removes it."""

    __tablename__ = "web_session"

    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class WebSignInFailure(SQLModel, table=True):
    """A sign-in with an unknown, used or expired link, for rate limiting by source."""

    __tablename__ = "web_sign_in_failure"
    __table_args__ = (Index("ix_web_sign_in_failure_source_at", "source_hash", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    source_hash: str = Field(max_length=HASH_LENGTH)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class KeyCheck(SQLModel, table=True):
    """A fingerprint of the keys the register was sealed with, to refuse the wrong keys."""

    __tablename__ = "key_check"

    id: int = Field(default=1, primary_key=True, sa_column_kwargs=_NO_AUTOINCREMENT)
    index_check: str = Field(max_length=HASH_LENGTH)
    sealed: bytes


class ReportKey(SQLModel, table=True):
    """A keyed hash under which staff find a report: e-mail, name, name word (no plain text)."""

    __tablename__ = "report_key"
    __table_args__ = (UniqueConstraint("report_id", "kind", "key_hash", name="uq_report_key"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = _report_id()
    kind: str = Field(max_length=12)
    key_hash: str = Field(max_length=HASH_LENGTH, index=True)


class ReportEvent(SQLModel, table=True):
    """A change to a report that is not a status change (crime reference, force, access code)."""

    __tablename__ = "report_event"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = _report_id()
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actor: str = Field(max_length=64)
    actor_id: int | None = Field(default=None, sa_type=BigInteger)
    kind: str = Field(max_length=32)
    # Never personal data: a crime reference, a force code, or nothing.
    detail: str | None = Field(default=None, max_length=64)


class Dataset(SQLModel, table=True):
    """An imported reference table (TAC table, gazetteer) and the generation now in use."""

    __tablename__ = "dataset"

    name: str = Field(max_length=16, primary_key=True, sa_column_kwargs=_NO_AUTOINCREMENT)
    generation: int
    rows: int = 0
    format: str = Field(max_length=24)
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    imported_by: str = Field(max_length=64)


class TacEntry(SQLModel, table=True):
    """One Type Allocation Code of an imported TAC table: the brand and model it names."""

    __tablename__ = "tac_entry"
    __table_args__ = (PrimaryKeyConstraint("generation", "tac", name="pk_tac_entry"),)

    generation: int = Field(sa_column_kwargs=_NO_AUTOINCREMENT)
    tac: str = Field(max_length=8)
    brand: str = Field(max_length=64)
    model: str = Field(max_length=128)
    brand_key: str = Field(max_length=32)


class PlaceName(SQLModel, table=True):
    """A name or postcode of an imported gazetteer, its point, source and precision."""

    __tablename__ = "place_name"
    __table_args__ = (Index("ix_place_name_generation_key", "generation", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    generation: int
    key: str = Field(max_length=128)
    name: str = Field(max_length=128)
    lat: float
    lon: float
    precision: str = Field(max_length=20)
    source: str = Field(max_length=16)
    # Lower is preferred among places of the same name (a city before a hamlet).
    rank: int = Field(default=50, sa_type=SmallInteger)
    # A postcode's district (outward code), from which partial postcodes get their centroid.
    district: str | None = Field(default=None, max_length=8)


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
