"""Filing, finding and moving reports: the register's core operations."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Result, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer
from sqlmodel import col

from models.errors import RegisterError
from models.sealing.vault import Vault
from models.services.alerts import FiledRow, StaffAlerts, short_place
from models.services.audit import record
from models.services.searchkeys import SEARCH_KEYS_VERSION, keys_of
from models.storage.columns import utcnow
from models.storage.database import Database, rowcount
from models.storage.jobs import Tx, typed
from models.storage.tables import (
    Notification,
    Report,
    ReportEvent,
    ReportImei,
    ReportKey,
    StatusChange,
    Subscription,
    attribute,
    new_row,
    stored,
    table_of,
)
from models.values.imei import Imei
from models.values.phone import PhoneNumber
from models.values.reference import Reference, generate_access_code, normalise_access_code
from models.values.statuses import NOTIFY_VICTIM, OPEN, Status, allowed_next

REPORT = table_of(Report)
STATUS_CHANGE = table_of(StatusChange)
REPORT_IMEI = table_of(ReportImei)
REPORT_KEY = table_of(ReportKey)
REPORT_EVENT = table_of(ReportEvent)
FIND_BY_HASH = (
    "SELECT * FROM report WHERE id IN "
    "(SELECT report_id FROM report_imei WHERE imei_hash = :hash) ORDER BY created_at DESC"
)
HISTORY_BY_HASH = (
    "SELECT * FROM status_change WHERE report_id IN "
    "(SELECT report_id FROM report_imei WHERE imei_hash = :hash) ORDER BY changed_at, id"
)
DUPLICATES_BY_HASH = (
    "SELECT DISTINCT mine.report_id, report.reference FROM report_imei AS found "
    "JOIN report_imei AS mine ON mine.report_id = found.report_id "
    "JOIN report_imei AS theirs ON theirs.imei_hash = mine.imei_hash "
    "AND theirs.report_id != mine.report_id "
    "JOIN report ON report.id = theirs.report_id "
    "WHERE found.imei_hash = :hash ORDER BY report.reference"
)

# NewReport's fields that go into the report's plain columns as they are.
AS_GIVEN = (
    "incident_at",
    "make",
    "theft_method",
    "incident_lat",
    "incident_lon",
    "tracked_lat",
    "tracked_lon",
    "tracked_at",
    "own_account",
    "language",
    "loss_kind",
    "incident_from",
    "incident_to",
    "crime_reference",
    "police_force",
    "tac_make",
    "tac_model",
    "tac_mismatch",
    "incident_point_source",
    "incident_point_precision",
    "tracked_point_source",
    "tracked_point_precision",
)
PLATFORM_OF_MAKE = {"apple": "iphone", "samsung": "android", "google": "android"}
MATCH_CHUNK = 500
LANGUAGE_LENGTH = 8  # the column's width: codes such as "en", "zh"
FILE_ATTEMPTS = 8
TAC_KEPT = "tac_make_kept"  # the history event: the victim kept their make against the TAC
TAC_DETAIL = 64  # the event column's width


class InvalidTransition(RegisterError):
    """A status change the rules do not allow; `allowed` lists the moves that are.

    Code `status_not_allowed` (current, wanted, allowed).
    """

    def __init__(self, current: Status, wanted: Status) -> None:
        """Remember the refused move."""
        self.current = current
        self.wanted = wanted
        self.allowed = allowed_next(current)
        names = ", ".join(status.value for status in self.allowed) or "-"
        super().__init__(
            "status_not_allowed", current=current.value, wanted=wanted.value, allowed=names
        )


class ReportNotFound(RegisterError, LookupError):
    """No report has that reference: code `report_not_found` (reference)."""

    def __init__(self, reference: str) -> None:
        """Remember which reference was not found."""
        super().__init__("report_not_found", reference=reference)


@dataclass(frozen=True, slots=True)
class NewReport:
    """Everything the victim told us, validated, ready to file."""

    make: str
    contact_name: str
    contact_phone: PhoneNumber
    model: str | None = None
    colour: str | None = None
    imeis: tuple[Imei, ...] = ()
    stolen_number: PhoneNumber | None = None
    network: str | None = None
    incident_at: datetime | None = None
    theft_method: str | None = None
    place: str | None = None
    incident_lat: float | None = None
    incident_lon: float | None = None
    tracked_place: str | None = None
    tracked_lat: float | None = None
    tracked_lon: float | None = None
    tracked_at: datetime | None = None
    contact_email: str | None = None
    preferred_channel: str | None = None
    own_account: bool = False
    language: str = "en"
    platform: str | None = None
    # What police record, and where each point came from (filled in at filing when left out).
    loss_kind: str | None = None
    incident_from: datetime | None = None
    incident_to: datetime | None = None
    crime_reference: str | None = None
    police_force: str | None = None
    incident_point_source: str | None = None
    incident_point_precision: str | None = None
    tracked_point_source: str | None = None
    tracked_point_precision: str | None = None
    tac_make: str | None = None
    tac_model: str | None = None
    tac_mismatch: bool | None = None
    # When the TAC's brand disagreed and the victim kept their make: what they were shown
    # (e.g. "Samsung Galaxy S21"); kept in the report's history for staff.
    tac_kept_against: str | None = None

    def __post_init__(self) -> None:
        """Refuse combinations the conversation should never produce."""
        if len(self.imeis) > 2:
            raise ValueError("a report holds at most two IMEIs")
        if len(self.imeis) == 2 and self.imeis[0] == self.imeis[1]:
            raise ValueError("the second IMEI must differ from the first")
        if not 1 <= len(self.language) <= LANGUAGE_LENGTH:
            raise ValueError("a language is a short code such as 'en'")


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One status change as staff and victims see it."""

    status: Status
    changed_at: datetime
    actor: str
    note: str | None


@dataclass(slots=True)
class ReportView:
    """A report with its personal data opened, for staff, export and the victim's status."""

    id: int
    reference: str
    status: Status
    created_at: datetime
    status_changed_at: datetime
    make: str
    platform: str
    imei_tac: str | None
    incident_at: datetime | None
    theft_method: str | None
    incident_lat: float | None
    incident_lon: float | None
    tracked_lat: float | None
    tracked_lon: float | None
    tracked_at: datetime | None
    own_account: bool
    private: dict[str, Any]
    history: list[HistoryEntry] = field(default_factory=list)
    # When a duplicate IMEI was flagged, and (in look-ups) the other reports holding one.
    duplicate_imei_at: datetime | None = None
    duplicates: list[str] = field(default_factory=list)
    language: str = "en"
    loss_kind: str | None = None
    incident_from: datetime | None = None
    incident_to: datetime | None = None
    crime_reference: str | None = None
    police_force: str | None = None
    tac_make: str | None = None
    tac_model: str | None = None
    tac_mismatch: bool | None = None
    incident_point_source: str | None = None
    incident_point_precision: str | None = None
    tracked_point_source: str | None = None
    tracked_point_precision: str | None = None

    @property
    def imeis(self) -> list[str]:
        """The report's IMEIs as 15-digit text."""
        return list(self.private.get("imeis", []))

    def get(self, name: str) -> Any:
        """A personal field (model, colour, place, contact_name, ...), or None."""
        return self.private.get(name)


@dataclass(frozen=True, slots=True)
class FiledReport:
    """The outcome of filing: what to show the victim."""

    report_id: int
    reference: str
    access_code: str
    created: bool
    duplicate_imei_references: tuple[str, ...] = ()
    filed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class StatusChanged:
    """The outcome of a status change."""

    reference: str
    previous: Status
    status: Status
    notifications: int


@dataclass(frozen=True, slots=True)
class Match:
    """A report that holds a given IMEI: enough to tell two such reports apart."""

    report_id: int
    reference: str
    status: Status
    make: str
    created_at: datetime


def report_context(reference: str) -> bytes:
    """The sealing context that binds a report's sealed data to that report."""
    return f"report:{reference}".encode()


def report_language(column: str | None, private: dict[str, Any]) -> str:
    """The language a report was filed in: its column, else its sealed answers, else English."""
    # Reports filed before the column existed hold it only among their sealed answers.
    return column or private.get("language") or "en"


def platform_of(make: str, platform: str | None = None) -> str:
    """The phone's platform (iphone, android, other) from its make."""
    if platform:
        return platform
    return PLATFORM_OF_MAKE.get(make, "other")


async def locked_report(session: AsyncSession, reference: str) -> Report | None:
    """The report with REFERENCE, locked for this transaction (PostgreSQL), or None."""
    found = await session.execute(
        select(Report).where(col(Report.reference) == reference).with_for_update()
    )
    return found.scalar_one_or_none()


class ReportStore:
    """File, look up, move and stream reports."""

    def __init__(self, db: Database, vault: Vault, alerts: StaffAlerts | None = None) -> None:
        """Bind the store to a database and a vault (and the staff alerts filing may raise)."""
        self.db = db
        self.vault = vault
        self.alerts = alerts or StaffAlerts(db, vault)
        # Completes a new report before it is stored (TAC check, geocoding): models.services.filing.
        self.enrich: Callable[[NewReport], Awaitable[NewReport]] | None = None

    def imei_hash(self, imei: Imei | str) -> str:
        """The keyed hash under which an IMEI is found."""
        return self.vault.blind_index("imei", str(imei))

    def phone_hash(self, phone: PhoneNumber) -> str:
        """The keyed hash under which a phone number is found."""
        return self.vault.blind_index("phone", phone.e164)

    def _code_hash(self, reference: str, code: str) -> str:
        return self.vault.blind_index("access", f"{reference}:{code}")

    def access_code_hash(self, reference: str, code: str) -> str:
        """The keyed hash an access code (canonical form) is checked against."""
        return self._code_hash(reference, code)

    async def file(self, new: NewReport, idempotency_key: str) -> FiledReport:
        """File NEW once per idempotency key, however often (or concurrently) it is called."""
        existing = await self._filed_with_key(idempotency_key)
        if existing is not None:
            return existing
        if self.enrich is not None:
            new = await self.enrich(new)
        for _ in range(FILE_ATTEMPTS):
            try:
                return await self._insert(new, idempotency_key)
            except IntegrityError:
                # Either a concurrent call filed this key first, or the reference collided.
                existing = await self._filed_with_key(idempotency_key)
                if existing is not None:
                    return existing
        raise RuntimeError("could not find a free reference")

    async def _filed_with_key(self, idempotency_key: str) -> FiledReport | None:
        async with self.db.read() as session:
            row = (
                await session.execute(
                    select(
                        col(Report.id),
                        col(Report.reference),
                        col(Report.sealed),
                        col(Report.created_at),
                    ).where(col(Report.idempotency_key) == idempotency_key)
                )
            ).first()
        if row is None:
            return None
        private = self.vault.open_json(row.sealed, context=report_context(row.reference))
        return FiledReport(
            row.id,
            row.reference,
            private["access_code"],
            created=False,
            filed_at=row.created_at,
        )

    async def _insert(self, new: NewReport, idempotency_key: str) -> FiledReport:
        reference = str(Reference.generate())
        code = generate_access_code()
        private = {
            "model": new.model,
            "colour": new.colour,
            "imeis": [imei.digits for imei in new.imeis],
            "stolen_number": new.stolen_number.e164 if new.stolen_number else None,
            "network": new.network,
            "place": new.place,
            "tracked_place": new.tracked_place,
            "contact_name": new.contact_name,
            "contact_phone": new.contact_phone.e164,
            "contact_region": new.contact_phone.region,
            "contact_email": new.contact_email,
            "preferred_channel": new.preferred_channel,
            "language": new.language,
            "access_code": code,
        }
        hashes = [self.imei_hash(imei) for imei in new.imeis]
        values = new_row(
            Report,
            **{name: getattr(new, name) for name in AS_GIVEN},
            reference=reference,
            idempotency_key=idempotency_key,
            status=Status.SUBMITTED.value,
            platform=platform_of(new.make, new.platform),
            imei_tac=new.imeis[0].tac if new.imeis else None,
            imei_count=len(new.imeis),
            contact_phone_hash=self.phone_hash(new.contact_phone),
            stolen_phone_hash=(self.phone_hash(new.stolen_number) if new.stolen_number else None),
            access_code_hash=self._code_hash(reference, code),
            sealed=self.vault.seal_json(private, context=report_context(reference)),
            search_keys_version=SEARCH_KEYS_VERSION,
        )
        # Core statements, one transaction: a filing builds no ORM object of its own.
        async with self.db.write() as session:
            report_id: int = (
                await session.execute(insert(REPORT).values(values).returning(REPORT.c.id))
            ).scalar_one()
            filed = FiledRow(report_id, reference, new.tracked_lat, new.tracked_lon, new.tracked_at)
            await self.alerts.lock_imeis_in(session, hashes)
            keys = keys_of(self.vault, private)
            if keys:
                await session.execute(
                    insert(REPORT_KEY),
                    [{"report_id": report_id, "kind": kind, "key_hash": key} for kind, key in keys],
                )
            duplicates = await self._open_reports_with(session, hashes, exclude=report_id)
            if hashes:
                await session.execute(
                    insert(REPORT_IMEI),
                    [
                        new_row(ReportImei, report_id=report_id, slot=slot, imei_hash=imei_hash)
                        for slot, imei_hash in enumerate(hashes, start=1)
                    ],
                )
            await session.execute(
                insert(STATUS_CHANGE).values(
                    new_row(
                        StatusChange,
                        report_id=report_id,
                        status=Status.SUBMITTED.value,
                        actor="victim",
                    )
                )
            )
            if new.tac_kept_against:
                await session.execute(
                    insert(REPORT_EVENT).values(
                        new_row(
                            ReportEvent,
                            report_id=report_id,
                            actor="victim",
                            kind=TAC_KEPT,
                            detail=new.tac_kept_against[:TAC_DETAIL],
                        )
                    )
                )
            if duplicates:
                record(session, "system", "duplicate_imei", reference, {"open": duplicates})
            await self._alert_in(session, filed, new, hashes)
        return FiledReport(
            report_id,
            reference,
            code,
            created=True,
            duplicate_imei_references=tuple(duplicates),
            filed_at=values["created_at"],
        )

    async def _alert_in(
        self, session: AsyncSession, report: FiledRow, new: NewReport, hashes: list[str]
    ) -> None:
        """Flag duplicate IMEIs and find a tracked cluster, alerting staff (same transaction)."""
        added = [
            (slot, imei.masked, imei_hash)
            for slot, (imei, imei_hash) in enumerate(zip(new.imeis, hashes, strict=True), start=1)
        ]
        place = short_place(new.place, new.incident_lat, new.incident_lon)
        await self.alerts.imeis_added_in(session, report, added, place=place)
        await self.alerts.tracked_location_in(session, report)

    async def _open_reports_with(
        self, session: AsyncSession, hashes: list[str], *, exclude: int
    ) -> list[str]:
        if not hashes:
            return []
        rows = await session.execute(
            select(col(Report.reference))
            .join(ReportImei, col(ReportImei.report_id) == col(Report.id))
            .where(
                col(ReportImei.imei_hash).in_(hashes),
                col(Report.id) != exclude,
                col(Report.status).in_([status.value for status in OPEN]),
            )
            .distinct()
        )
        return sorted(rows.scalars())

    def _view(
        self, report: Report, history: Iterable[StatusChange] = (), *, sealed: bool = True
    ) -> ReportView:
        private = (
            self.vault.open_json(report.sealed, context=report_context(report.reference))
            if sealed
            else {}
        )
        assert report.id is not None
        return ReportView(
            id=report.id,
            reference=report.reference,
            status=Status(report.status),
            created_at=report.created_at,
            status_changed_at=report.status_changed_at,
            make=report.make,
            platform=report.platform,
            imei_tac=report.imei_tac,
            incident_at=report.incident_at,
            theft_method=report.theft_method,
            incident_lat=report.incident_lat,
            incident_lon=report.incident_lon,
            tracked_lat=report.tracked_lat,
            tracked_lon=report.tracked_lon,
            tracked_at=report.tracked_at,
            own_account=report.own_account,
            private=private,
            history=[self._history_entry(change) for change in history],
            duplicate_imei_at=report.duplicate_imei_at,
            language=report_language(report.language, private),
            loss_kind=report.loss_kind,
            incident_from=report.incident_from,
            incident_to=report.incident_to,
            crime_reference=report.crime_reference,
            police_force=report.police_force,
            tac_make=report.tac_make,
            tac_model=report.tac_model,
            tac_mismatch=report.tac_mismatch,
            incident_point_source=report.incident_point_source,
            incident_point_precision=report.incident_point_precision,
            tracked_point_source=report.tracked_point_source,
            tracked_point_precision=report.tracked_point_precision,
        )

    def view_without_personal_data(self, report: Report) -> ReportView:
        """REPORT's plain columns as a view; nothing sealed is opened (lists, maps)."""
        return self._view(report, sealed=False)

    def _history_entry(self, change: StatusChange) -> HistoryEntry:
        note = None
        if change.note_sealed is not None:
            note = self.vault.open(
                change.note_sealed, context=f"note:{change.report_id}".encode()
            ).decode()
        return HistoryEntry(Status(change.status), change.changed_at, change.actor, note)

    async def _with_history(self, session: AsyncSession, reports: list[Report]) -> list[ReportView]:
        if not reports:
            return []
        ids = [report.id for report in reports]
        changes = (
            await session.execute(
                select(StatusChange)
                .where(col(StatusChange.report_id).in_(ids))
                .order_by(col(StatusChange.changed_at), col(StatusChange.id))
            )
        ).scalars()
        by_report: dict[int, list[StatusChange]] = {}
        for change in changes:
            by_report.setdefault(change.report_id, []).append(change)
        views = [self._view(report, by_report.get(stored(report.id), [])) for report in reports]
        await self._with_duplicates(session, views)
        return views

    @staticmethod
    async def _with_duplicates(session: AsyncSession, views: list[ReportView]) -> None:
        """Fill in, for flagged reports, the other reports that hold one of their IMEIs."""
        flagged = [view.id for view in views if view.duplicate_imei_at is not None]
        if not flagged:
            return
        mine = table_of(ReportImei).alias("mine")
        theirs = table_of(ReportImei).alias("theirs")
        rows: Result[int, str] = await session.execute(
            select(mine.c.report_id, col(Report.reference))
            .join(theirs, theirs.c.imei_hash == mine.c.imei_hash)
            .join(Report, col(Report.id) == theirs.c.report_id)
            .where(mine.c.report_id.in_(flagged), theirs.c.report_id != mine.c.report_id)
            .distinct()
            .order_by(col(Report.reference))
        )
        found: dict[int, list[str]] = {}
        for report_id, reference in rows:
            found.setdefault(report_id, []).append(reference)
        for view in views:
            view.duplicates = found.get(view.id, [])

    async def get(self, reference: Reference | str) -> ReportView | None:
        """The report with REFERENCE, with its history, or None."""
        async with self.db.read() as session:
            report = (
                await session.execute(select(Report).where(col(Report.reference) == str(reference)))
            ).scalar_one_or_none()
            views = await self._with_history(session, [report] if report else [])
        return views[0] if views else None

    async def find_by_imei(self, imei: Imei) -> list[ReportView]:
        """Every report that holds IMEI in either slot, newest first."""
        params = {"hash": self.imei_hash(imei)}

        def job(tx: Tx) -> tuple[list[Any], list[Any], list[tuple[Any, ...]]]:
            # One transaction, one trip to the database's thread on SQLite (a staff look-up).
            reports = [typed(tx, REPORT, row) for row in tx.dicts(FIND_BY_HASH, params)]
            changes = [typed(tx, STATUS_CHANGE, row) for row in tx.dicts(HISTORY_BY_HASH, params)]
            flagged = any(report.duplicate_imei_at is not None for report in reports)
            duplicates = tx.rows(DUPLICATES_BY_HASH, params) if flagged else []
            return reports, changes, duplicates

        reports, changes, duplicates = await self.db.run(job)
        by_report: dict[int, list[Any]] = {}
        for change in changes:
            by_report.setdefault(change.report_id, []).append(change)
        views = [self._view(report, by_report.get(report.id, [])) for report in reports]
        found: dict[int, list[str]] = {}
        for report_id, reference in duplicates:
            found.setdefault(report_id, []).append(reference)
        for view in views:
            if view.duplicate_imei_at is not None:
                view.duplicates = found.get(view.id, [])
        return views

    async def verify_access(self, reference: Reference | str, code: str) -> ReportView | None:
        """The report if CODE is its access code; None for any mismatch (never says which)."""
        try:
            canonical = normalise_access_code(code)
        except ValueError:
            return None
        report = await self.get(reference)
        if report is None:
            return None
        async with self.db.read() as session:
            stored = (
                await session.execute(
                    select(col(Report.access_code_hash)).where(col(Report.id) == report.id)
                )
            ).scalar_one()
        if not hmac.compare_digest(stored, self._code_hash(report.reference, canonical)):
            return None
        return report

    async def change_status(
        self,
        reference: Reference | str,
        status: Status,
        *,
        actor: str,
        actor_id: int | None = None,
        note: str | None = None,
    ) -> StatusChanged:
        """Move a report, keep the history, and queue the victim's notifications, atomically."""
        async with self.db.write() as session:
            report = await locked_report(session, str(reference))
            if report is None:
                raise ReportNotFound(str(reference))
            previous = Status(report.status)
            if status not in allowed_next(previous):
                raise InvalidTransition(previous, status)
            queued = await self.apply_status(
                session, report, status, actor=actor, actor_id=actor_id, note=note
            )
            record(
                session,
                actor,
                "status_change",
                report.reference,
                {"from": previous.value, "to": status.value},
            )
        return StatusChanged(report.reference, previous, status, queued)

    async def apply_status(
        self,
        session: AsyncSession,
        report: Report,
        status: Status,
        *,
        actor: str,
        actor_id: int | None = None,
        note: str | None = None,
    ) -> int:
        """Within SESSION's transaction: set the status, add history, queue notifications."""
        return await self.apply_status_many(
            session, [report], status, actor=actor, actor_id=actor_id, note=note
        )

    async def apply_status_many(
        self,
        session: AsyncSession,
        reports: list[Report],
        status: Status,
        *,
        actor: str,
        actor_id: int | None = None,
        note: str | None = None,
    ) -> int:
        """Like apply_status for many reports at once, in a few batched statements."""
        if not reports:
            return 0
        now = utcnow()
        changes = []
        for report in reports:
            assert report.id is not None
            report.status = status.value
            report.status_changed_at = now
            changes.append(
                StatusChange(
                    report_id=report.id,
                    status=status.value,
                    changed_at=now,
                    actor=actor,
                    actor_id=actor_id,
                    note_sealed=(
                        self.vault.seal(note.encode(), context=f"note:{report.id}".encode())
                        if note
                        else None
                    ),
                )
            )
        session.add_all(changes)
        await session.flush()
        if status not in NOTIFY_VICTIM:
            return 0
        change_of = {change.report_id: change.id for change in changes}
        subscribers = await session.execute(
            select(col(Subscription.report_id), col(Subscription.chat_id)).where(
                col(Subscription.report_id).in_(list(change_of)), col(Subscription.active).is_(True)
            )
        )
        notifications = [
            Notification(
                report_id=report_id,
                chat_id=chat_id,
                kind=f"status:{status.value}",
                event_key=f"status:{change_of[report_id]}:{chat_id}",
            )
            for report_id, chat_id in subscribers
        ]
        session.add_all(notifications)
        return len(notifications)

    async def stream(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        status: Status | None = None,
        batch: int = 500,
        located: bool = False,
        sealed: bool = True,
        where: Iterable[ColumnElement[bool]] = (),
    ) -> AsyncIterator[ReportView]:
        """Yield matching reports oldest first, in constant memory (keyset pages).

        LOCATED keeps only reports with a theft or tracked point; without SEALED the personal
        data is neither read nor opened (the views' private part is empty); WHERE adds
        conditions on `report` (see models.services.listing.ReportFilter).
        """
        last_id = 0
        conditions = list(where)
        while True:
            query = select(Report).where(col(Report.id) > last_id, *conditions)
            if located:
                query = query.where(
                    or_(col(Report.incident_lat).is_not(None), col(Report.tracked_lat).is_not(None))
                )
            if not sealed:
                query = query.options(defer(attribute(Report.sealed)))
            if since is not None:
                query = query.where(col(Report.created_at) >= since)
            if until is not None:
                query = query.where(col(Report.created_at) < until)
            if status is not None:
                query = query.where(col(Report.status) == status.value)
            async with self.db.read() as session:
                page = list(
                    (await session.execute(query.order_by(col(Report.id)).limit(batch))).scalars()
                )
            if not page:
                return
            for report in page:
                yield self._view(report, sealed=sealed)
            last_id = stored(page[-1].id)

    async def match(self, imeis: Iterable[Imei]) -> dict[str, list[Match]]:
        """For each IMEI (15 digits) the reports that hold it; unknown IMEIs are absent."""
        by_hash = {self.imei_hash(imei): imei.digits for imei in imeis}
        found: dict[str, list[Match]] = {}
        hashes = list(by_hash)
        async with self.db.read() as session:
            for start in range(0, len(hashes), MATCH_CHUNK):
                rows = await session.execute(
                    select(
                        col(ReportImei.imei_hash),
                        col(Report.id),
                        col(Report.reference),
                        col(Report.status),
                        col(Report.make),
                        col(Report.created_at),
                    )
                    .join(Report, col(Report.id) == col(ReportImei.report_id))
                    .where(col(ReportImei.imei_hash).in_(hashes[start : start + MATCH_CHUNK]))
                )
                for imei_hash, report_id, reference, status, make, created_at in rows:
                    found.setdefault(by_hash[imei_hash], []).append(
                        Match(stored(report_id), reference, Status(status), make, created_at)
                    )
        return found

    async def holders_in(
        self, session: AsyncSession, imei_hashes: list[str], statuses: Iterable[Status]
    ) -> dict[str, set[int]]:
        """Within SESSION: for each IMEI hash, the ids of the reports in STATUSES that hold it."""
        wanted = {status.value for status in statuses}
        holders: dict[str, set[int]] = {}
        for start in range(0, len(imei_hashes), MATCH_CHUNK):
            # The status is checked here, not in SQL: with a status condition and many hashes,
            # SQLite's planner walks the status index (most of the register) instead of the
            # hash index (measured: 2.5 s instead of milliseconds on a million reports).
            rows = await session.execute(
                select(col(ReportImei.imei_hash), col(Report.id), col(Report.status))
                .join(Report, col(Report.id) == col(ReportImei.report_id))
                .where(col(ReportImei.imei_hash).in_(imei_hashes[start : start + MATCH_CHUNK]))
            )
            for imei_hash, report_id, status in rows:
                if status in wanted:
                    holders.setdefault(imei_hash, set()).add(stored(report_id))
        return holders

    async def count(self) -> int:
        """How many reports the register holds."""
        async with self.db.read() as session:
            return (await session.execute(select(func.count()).select_from(Report))).scalar_one()

    async def delete(self, report_ids: list[int]) -> int:
        """Delete reports (and, by cascade, their IMEIs, history, subscriptions, outbox)."""
        if not report_ids:
            return 0
        async with self.db.write() as session:
            result = await session.execute(delete(Report).where(col(Report.id).in_(report_ids)))
            return rowcount(result)
