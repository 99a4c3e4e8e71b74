"""Staff alerts: a duplicate IMEI at filing, and reports' phones tracked to one place.

Staff who turned alerts on (`StaffMember.alerts`) get them in their private chat through the
outbox, queued in the same transaction as the filing (or the added IMEI or tracked location)
that caused them, and delivered like every notification. An alert's parameters are sealed in
the notification row; they hold no personal data beyond references, a masked IMEI and a place.

A **tracked cluster** is RULE.min_reports or more reports (withdrawn ones aside) whose phones were
tracked within RULE.radius_metres of a new sighting, seen within RULE.window of it (before or
after). It is alerted once when it appears. A later sighting whose cluster lies within twice the
radius of a known cluster that was seen within the window belongs to it: it grows the cluster
without a new alert, until it has twice as many reports as when it was last alerted (3, 6, 12,
...), when staff are told again that it grew. See docs/alerts.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import Select, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped
from sqlmodel import col

from models.errors import RegisterError
from models.sealing.vault import Vault
from models.services.audit import record
from models.storage.columns import utcnow
from models.storage.database import Database
from models.storage.tables import (
    Notification,
    Report,
    ReportImei,
    StaffMember,
    TrackedCluster,
    stored,
)
from models.values.earth import degree_span, haversine_metres
from models.values.statuses import OPEN, Status

ALERT_PREFIX = "alert:"
DUPLICATE_IMEI = "alert:duplicate_imei"
CLUSTER = "alert:cluster"
CLUSTER_GREW = "alert:cluster_grew"
KINDS = (DUPLICATE_IMEI, CLUSTER, CLUSTER_GREW)
# References listed in one alert; the rest are counted.
MAX_REFERENCES = 10
MAX_PLACE = 80
GROWTH = 2
T = TypeVar("T")
# Serialise cluster checks between workers on PostgreSQL (SQLite's write lock already does).
CLUSTER_LOCK = "SELECT pg_advisory_xact_lock(hashtext('reportbot.clusters:' || current_schema()))"
IMEI_LOCK = "SELECT pg_advisory_xact_lock(hashtext('reportbot.imei:' || current_schema() || :h))"


class NotStaff(RegisterError):
    """The user is not a staff member, so cannot get alerts."""

    def __init__(self, user_id: int) -> None:
        """Name the user."""
        super().__init__("not_staff", user_id=user_id)


class ReportRow(Protocol):
    """What an alert needs of a report: a stored `Report`, or the row filing just inserted."""

    @property
    def id(self) -> int | None:
        """The report's id."""
        ...

    @property
    def reference(self) -> str:
        """The report's reference."""
        ...

    @property
    def tracked_lat(self) -> float | None:
        """Where the phone was tracked: latitude."""
        ...

    @property
    def tracked_lon(self) -> float | None:
        """Where the phone was tracked: longitude."""
        ...

    @property
    def tracked_at(self) -> datetime | None:
        """When the phone was tracked there."""
        ...


@dataclass(frozen=True, slots=True)
class FiledRow:
    """A report just inserted by Core statements, as the alerts read it."""

    id: int
    reference: str
    tracked_lat: float | None
    tracked_lon: float | None
    tracked_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClusterRule:
    """When tracked locations make a cluster (operator settings)."""

    min_reports: int = 3
    radius_metres: float = 200.0
    window: timedelta = timedelta(hours=72)

    def __post_init__(self) -> None:
        """Refuse rules that would alert on every sighting or never."""
        if self.min_reports < 2:
            raise ValueError("a cluster needs at least two reports")
        if not 1 <= self.radius_metres <= 50_000:
            raise ValueError("the cluster radius must be 1 m to 50 km")
        if self.window <= timedelta(0):
            raise ValueError("the cluster window must be positive")


@dataclass(frozen=True, slots=True)
class AlertSetting:
    """A staff member's alert subscription after a change."""

    user_id: int
    on: bool
    changed: bool


@dataclass(frozen=True, slots=True)
class ClusterFound:
    """A tracked cluster a sighting made or grew, and whether staff were alerted."""

    cluster_id: int
    reports: int
    centre: tuple[float, float]
    kind: str | None  # CLUSTER, CLUSTER_GREW, or None when no alert was due
    alerts: int


def alert_context(event_key: str) -> bytes:
    """The sealing context that binds an alert's parameters to its notification."""
    return f"alert:{event_key}".encode()


def is_alert(kind: str) -> bool:
    """Whether a notification KIND is a staff alert (not a message to a victim)."""
    return kind.startswith(ALERT_PREFIX)


def short_place(place: str | None, lat: float | None, lon: float | None) -> str:
    """Where, for an alert: the typed place (cut short), else the coordinates, else ''."""
    if place:
        cleaned = " ".join(place.split())
        return cleaned if len(cleaned) <= MAX_PLACE else cleaned[: MAX_PLACE - 1] + "…"
    if lat is not None and lon is not None:
        return f"{lat:.5f}, {lon:.5f}"
    return ""


def listed(references: Sequence[str]) -> str:
    """References for an alert: the first MAX_REFERENCES, then how many more."""
    shown = ", ".join(references[:MAX_REFERENCES])
    more = len(references) - MAX_REFERENCES
    return f"{shown} (+{more})" if more > 0 else shown


def open_holders(column: Mapped[T], imei_hash: str, *, other_than: int) -> Select[T]:
    """COLUMN of every open report but OTHER_THAN that holds the IMEI with IMEI_HASH."""
    return (
        select(column)
        .join(ReportImei, col(ReportImei.report_id) == col(Report.id))
        .where(
            col(ReportImei.imei_hash) == imei_hash,
            col(Report.id) != other_than,
            col(Report.status).in_([status.value for status in OPEN]),
        )
        .distinct()
    )


class StaffAlerts:
    """Who gets alerts, and queueing them with the change that causes them."""

    def __init__(self, db: Database, vault: Vault, rule: ClusterRule | None = None) -> None:
        """Alert through DB's outbox, sealing parameters with VAULT; clusters by RULE."""
        self.db = db
        self.vault = vault
        self.rule = rule or ClusterRule()

    # --- subscriptions ----------------------------------------------------------------

    async def subscribe(self, user_id: int, on: bool, *, actor: str) -> AlertSetting:
        """Turn USER_ID's alerts ON or off (audited); NotStaff if they are not staff."""
        async with self.db.write() as session:
            member = await session.get(StaffMember, user_id)
            if member is None:
                raise NotStaff(user_id)
            changed = bool(member.alerts) != on
            member.alerts = on
            record(session, actor, "staff_alerts", str(user_id), {"alerts": on})
        return AlertSetting(user_id, on, changed)

    async def subscribed(self, user_id: int) -> bool | None:
        """Whether USER_ID gets alerts; None if they are not staff."""
        async with self.db.read() as session:
            member = await session.get(StaffMember, user_id)
        return None if member is None else bool(member.alerts)

    @staticmethod
    async def subscribers_in(session: AsyncSession) -> list[int]:
        """Within SESSION: the user ids of staff who get alerts."""
        rows = await session.execute(
            select(col(StaffMember.user_id))
            .where(col(StaffMember.alerts).is_(True))
            .order_by(col(StaffMember.user_id))
        )
        return list(rows.scalars())

    async def _queue_in(
        self, session: AsyncSession, report_id: int, kind: str, key: str, params: dict[str, Any]
    ) -> int:
        staff = await self.subscribers_in(session)
        for user_id in staff:
            event_key = f"{key}:{user_id}"
            session.add(
                Notification(
                    report_id=report_id,
                    chat_id=user_id,
                    kind=kind,
                    event_key=event_key,
                    payload=self.vault.seal_json(params, context=alert_context(event_key)),
                )
            )
        return len(staff)

    # --- duplicate IMEIs --------------------------------------------------------------

    async def lock_imeis_in(self, session: AsyncSession, imei_hashes: Sequence[str]) -> None:
        """Within SESSION: wait for other filings of the same IMEIs to commit (PostgreSQL).

        Taken before looking for duplicates, so two reports of one IMEI filed at the same
        moment on two workers still see each other.
        """
        if self.db.is_sqlite:
            return
        for imei_hash in sorted(set(imei_hashes)):
            await session.execute(text(IMEI_LOCK), {"h": imei_hash})

    async def imeis_added_in(
        self,
        session: AsyncSession,
        report: ReportRow,
        imeis: Sequence[tuple[int, str, str]],
        *,
        place: str,
    ) -> int:
        """Within SESSION: for each (slot, masked IMEI, hash) just added to REPORT, flag and
        alert when other open reports hold it. Returns how many alerts were queued."""
        queued = 0
        for slot, masked, imei_hash in imeis:
            holders = open_holders(col(Report.id), imei_hash, other_than=stored(report.id))
            others = list((await session.execute(holders.order_by(col(Report.id)))).scalars())
            queued += await self.duplicate_imei_in(
                session,
                report,
                masked_imei=masked,
                place=place,
                others=[stored(other) for other in others],
                slot=slot,
            )
        return queued

    async def duplicate_imei_in(
        self,
        session: AsyncSession,
        report: ReportRow,
        *,
        masked_imei: str,
        place: str,
        others: Sequence[int],
        slot: int,
        now: datetime | None = None,
    ) -> int:
        """Within SESSION: flag REPORT and the OTHERS holding its IMEI; alert staff.

        Returns how many alerts were queued.
        """
        if not others:
            return 0
        assert report.id is not None
        now = now or utcnow()
        await session.execute(
            update(Report)
            .where(
                col(Report.id).in_([report.id, *others]), col(Report.duplicate_imei_at).is_(None)
            )
            .values(duplicate_imei_at=now)
        )
        references = (
            await session.execute(
                select(col(Report.reference))
                .where(col(Report.id).in_(list(others)))
                .order_by(col(Report.id))
            )
        ).scalars()
        params = {
            "reference": report.reference,
            "imei": masked_imei,
            "others": listed(list(references)),
            "place": place,
        }
        return await self._queue_in(
            session, report.id, DUPLICATE_IMEI, f"alert:dup:{report.id}:{slot}", params
        )

    # --- tracked clusters -------------------------------------------------------------

    async def tracked_location_in(
        self, session: AsyncSession, report: ReportRow, *, now: datetime | None = None
    ) -> ClusterFound | None:
        """Within SESSION: after REPORT's tracked location is stored, find its cluster.

        Returns the cluster the sighting is part of (None if too few reports are near).
        """
        lat, lon, seen = report.tracked_lat, report.tracked_lon, report.tracked_at
        if lat is None or lon is None or report.id is None:
            return None
        seen = seen or now or utcnow()
        if not self.db.is_sqlite:
            await session.execute(text(CLUSTER_LOCK))
        members = await self._near(session, lat, lon, seen)
        if report.id not in {member[0] for member in members}:
            members.append((report.id, report.reference, lat, lon, seen))
        if len(members) < self.rule.min_reports:
            return None
        centre = (
            sum(member[2] for member in members) / len(members),
            sum(member[3] for member in members) / len(members),
        )
        first = min(member[4] for member in members)
        last = max(member[4] for member in members)
        cluster = await self._known_cluster(session, centre, first, last)
        now = now or utcnow()
        kind: str | None
        if cluster is None:
            cluster = TrackedCluster(
                centre_lat=centre[0],
                centre_lon=centre[1],
                first_seen_at=first,
                last_seen_at=last,
                reports=len(members),
                alerted_reports=len(members),
                created_at=now,
                updated_at=now,
            )
            session.add(cluster)
            await session.flush()
            kind = CLUSTER
        else:
            grown = len(members) >= GROWTH * cluster.alerted_reports
            cluster.reports = max(cluster.reports, len(members))
            cluster.centre_lat, cluster.centre_lon = centre
            cluster.first_seen_at = min(cluster.first_seen_at, first)
            cluster.last_seen_at = max(cluster.last_seen_at, last)
            cluster.updated_at = now
            kind = CLUSTER_GREW if grown else None
            if grown:
                cluster.alerted_reports = len(members)
        assert cluster.id is not None
        alerts = 0
        if kind is not None:
            references = sorted(member[1] for member in members)
            params = {
                "reports": len(members),
                "radius": f"{self.rule.radius_metres:.0f}",
                "hours": f"{self.rule.window.total_seconds() / 3600:g}",
                "place": f"{centre[0]:.5f}, {centre[1]:.5f}",
                "references": listed(references),
                "reference": report.reference,
            }
            key = f"alert:cl:{cluster.id}:{len(members)}"
            alerts = await self._queue_in(session, report.id, kind, key, params)
            record(
                session,
                "system",
                "tracked_cluster",
                report.reference,
                {"cluster": cluster.id, "reports": len(members), "alerts": alerts, "kind": kind},
            )
        return ClusterFound(cluster.id, len(members), centre, kind, alerts)

    async def _near(
        self, session: AsyncSession, lat: float, lon: float, seen: datetime
    ) -> list[tuple[int, str, float, float, datetime]]:
        """Reports tracked within the radius of (LAT, LON) and the window around SEEN."""
        radius = self.rule.radius_metres
        dlat, dlon = degree_span(radius, lat)
        rows = await session.execute(
            select(
                col(Report.id),
                col(Report.reference),
                col(Report.tracked_lat),
                col(Report.tracked_lon),
                col(Report.tracked_at),
            ).where(
                col(Report.tracked_at) >= seen - self.rule.window,
                col(Report.tracked_at) <= seen + self.rule.window,
                col(Report.tracked_lat).between(lat - dlat, lat + dlat),
                col(Report.tracked_lon).between(lon - dlon, lon + dlon),
                col(Report.status) != Status.WITHDRAWN.value,
            )
        )
        # The filter leaves no NULL in the tracked columns.
        found = [
            (stored(report_id), reference, stored(at_lat), stored(at_lon), stored(at))
            for report_id, reference, at_lat, at_lon, at in rows
        ]
        return [row for row in found if haversine_metres(lat, lon, row[2], row[3]) <= radius]

    async def _known_cluster(
        self, session: AsyncSession, centre: tuple[float, float], first: datetime, last: datetime
    ) -> TrackedCluster | None:
        """The known cluster this one continues: near its centre and seen within the window."""
        reach = GROWTH * self.rule.radius_metres
        dlat, dlon = degree_span(reach, centre[0])
        candidates = (
            await session.execute(
                select(TrackedCluster).where(
                    col(TrackedCluster.last_seen_at) >= first - self.rule.window,
                    col(TrackedCluster.first_seen_at) <= last + self.rule.window,
                    col(TrackedCluster.centre_lat).between(centre[0] - dlat, centre[0] + dlat),
                    col(TrackedCluster.centre_lon).between(centre[1] - dlon, centre[1] + dlon),
                )
            )
        ).scalars()
        best: tuple[float, TrackedCluster] | None = None
        for cluster in candidates:
            distance = haversine_metres(*centre, cluster.centre_lat, cluster.centre_lon)
            if distance <= reach and (best is None or distance < best[0]):
                best = (distance, cluster)
        return best[1] if best else None
