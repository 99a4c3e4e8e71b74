"""What a victim can do later with the reference and access code: see, complete, withdraw.

Access is checked per chat with a limit on wrong codes (CodeAttempt rows), and the answer for
an unknown reference is the same as for a wrong code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlmodel import col

from models.sealing.vault import Vault
from models.services.alerts import open_holders, short_place
from models.services.audit import record
from models.services.reports import (
    InvalidTransition,
    ReportStore,
    ReportView,
    locked_report,
    report_context,
)
from models.storage.columns import utcnow
from models.storage.database import Database
from models.storage.tables import CodeAttempt, Report, ReportImei, stored
from models.values.coordinates import Point, PointSource, Precision, check_point
from models.values.imei import Imei
from models.values.reference import Reference
from models.values.statuses import OPEN, Status

WRONG_CODE_LIMIT = 5
WRONG_CODE_WINDOW = timedelta(hours=1)
MAX_IMEIS = 2
MAX_TRACKED_HISTORY = 20


@dataclass(frozen=True, slots=True)
class Granted:
    """The code is right: here is the report."""

    report: ReportView


@dataclass(frozen=True, slots=True)
class Denied:
    """Unknown reference or wrong code (never which); TRIES_LEFT before the chat is limited."""

    tries_left: int


@dataclass(frozen=True, slots=True)
class Limited:
    """Too many wrong codes from this chat: nothing is checked until RETRY_AT."""

    retry_at: datetime


Access = Granted | Denied | Limited


class Change(StrEnum):
    """The outcome of a victim's change to their report."""

    DONE = "done"
    ALREADY = "already"
    FULL = "full"
    ENDED = "ended"
    NOT_FOUND = "not_found"


@dataclass(frozen=True, slots=True)
class ImeiAdded:
    """The outcome of adding an IMEI, and other open reports that hold the same IMEI."""

    change: Change
    duplicate_references: tuple[str, ...] = ()


class PlaceFinder(Protocol):
    """Puts a typed place on the map (models.services.geocoding.Geocoder)."""

    async def locate(self, text: str) -> Point | None:
        """The point for TEXT, or None."""
        ...


class FollowUp:
    """The victim's side of a filed report."""

    # Set by the register: typed tracked places are put on the map with it.
    geocoder: PlaceFinder | None = None

    def __init__(
        self,
        db: Database,
        vault: Vault,
        reports: ReportStore,
        *,
        wrong_code_limit: int = WRONG_CODE_LIMIT,
        wrong_code_window: timedelta = WRONG_CODE_WINDOW,
    ) -> None:
        """Bind to the register's database, vault and reports."""
        self.db = db
        self.vault = vault
        self.reports = reports
        self.wrong_code_limit = wrong_code_limit
        self.wrong_code_window = wrong_code_window

    async def check_access(
        self, chat_id: int, reference: Reference | str, code: str, *, now: datetime | None = None
    ) -> Access:
        """Verify REFERENCE and CODE for CHAT_ID, counting wrong codes against the chat."""
        now = now or utcnow()
        since = now - self.wrong_code_window
        async with self.db.read() as session:
            count, oldest = (
                await session.execute(
                    select(func.count(), func.min(CodeAttempt.at)).where(
                        col(CodeAttempt.chat_id) == chat_id, col(CodeAttempt.at) > since
                    )
                )
            ).one()
        if count >= self.wrong_code_limit:
            return Limited(oldest + self.wrong_code_window)
        report = await self.reports.verify_access(reference, code)
        if report is not None:
            return Granted(report)
        async with self.db.write() as session:
            session.add(CodeAttempt(chat_id=chat_id, at=now))
        return Denied(max(0, self.wrong_code_limit - count - 1))

    def _open(self, report: Report) -> dict[str, Any]:
        private: dict[str, Any] = self.vault.open_json(
            report.sealed, context=report_context(report.reference)
        )
        return private

    def _seal(self, report: Report, private: dict[str, Any]) -> None:
        report.sealed = self.vault.seal_json(private, context=report_context(report.reference))

    async def add_imei(self, reference: Reference | str, imei: Imei) -> ImeiAdded:
        """Add IMEI to an open report that has room for it; flag other open reports with it."""
        imei_hash = self.reports.imei_hash(imei)
        async with self.db.write() as session:
            report = await locked_report(session, str(reference))
            if report is None:
                return ImeiAdded(Change.NOT_FOUND)
            if Status(report.status) not in OPEN:
                return ImeiAdded(Change.ENDED)
            private = self._open(report)
            imeis = list(private.get("imeis") or [])
            if imei.digits in imeis:
                return ImeiAdded(Change.ALREADY)
            if len(imeis) >= MAX_IMEIS:
                return ImeiAdded(Change.FULL)
            assert report.id is not None
            slots = (
                await session.execute(
                    select(col(ReportImei.slot)).where(col(ReportImei.report_id) == report.id)
                )
            ).scalars()
            slot = max(slots, default=0) + 1
            await self.reports.alerts.lock_imeis_in(session, [imei_hash])
            session.add(ReportImei(report_id=report.id, slot=slot, imei_hash=imei_hash))
            private["imeis"] = [*imeis, imei.digits]
            self._seal(report, private)
            report.imei_count = len(private["imeis"])
            if report.imei_tac is None:
                report.imei_tac = imei.tac
            holders = open_holders(col(Report.reference), imei_hash, other_than=stored(report.id))
            duplicates = sorted((await session.execute(holders)).scalars())
            record(session, "victim", "add_imei", report.reference, {"slot": slot})
            if duplicates:
                record(session, "system", "duplicate_imei", report.reference, {"open": duplicates})
                place = short_place(private.get("place"), report.incident_lat, report.incident_lon)
                await self.reports.alerts.imeis_added_in(
                    session, report, [(slot, imei.masked, imei_hash)], place=place
                )
        return ImeiAdded(Change.DONE, tuple(duplicates))

    async def add_tracked_location(
        self,
        reference: Reference | str,
        *,
        seen_at: datetime,
        latitude: float | None = None,
        longitude: float | None = None,
        place: str | None = None,
    ) -> Change:
        """Record where the phone showed (a pin, a typed place, or both) and when.

        Raises BadCoordinates for a pin that cannot be a place.
        """
        if (latitude is None) != (longitude is None) or (latitude is None and not place):
            raise ValueError("a tracked location needs coordinates, a place, or both")
        source = precision = None
        if latitude is not None and longitude is not None:
            checked = check_point(latitude, longitude)  # BadCoordinates: off the map, or 0,0
            latitude, longitude = checked.lat, checked.lon
            source, precision = PointSource.PIN.value, Precision.PIN.value
        elif place and self.geocoder is not None:
            found = await self.geocoder.locate(place)
            if found is not None:
                latitude, longitude = found.lat, found.lon
                source, precision = found.source.value, found.precision.value
        async with self.db.write() as session:
            report = await locked_report(session, str(reference))
            if report is None:
                return Change.NOT_FOUND
            if Status(report.status) not in OPEN:
                return Change.ENDED
            private = self._open(report)
            history = list(private.get("tracked_history") or [])
            history.append(
                {"lat": latitude, "lon": longitude, "place": place, "at": seen_at.isoformat()}
            )
            private["tracked_history"] = history[-MAX_TRACKED_HISTORY:]
            private["tracked_place"] = place
            self._seal(report, private)
            # The newest sighting is what staff see and map.
            report.tracked_lat = latitude
            report.tracked_lon = longitude
            report.tracked_at = seen_at
            await self.reports.alerts.tracked_location_in(session, report)
            report.tracked_point_source = source
            report.tracked_point_precision = precision
            record(
                session,
                "victim",
                "add_tracked_location",
                report.reference,
                {"pin": source == PointSource.PIN.value, "place": bool(place)},
            )
        return Change.DONE

    async def withdraw(self, reference: Reference | str) -> Change:
        """Withdraw the report at the victim's request (history and audit kept)."""
        try:
            await self.reports.change_status(reference, Status.WITHDRAWN, actor="victim")
        except InvalidTransition:
            return Change.ENDED
        except LookupError:
            return Change.NOT_FOUND
        return Change.DONE
