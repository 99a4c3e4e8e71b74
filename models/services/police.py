"""The police's references on a report: crime reference number and force, set by staff or by
the victim (through /status), each change kept in the report's history and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from models.services.audit import record
from models.services.followup import Change
from models.services.reports import locked_report
from models.storage.database import Database
from models.storage.tables import Report, ReportEvent
from models.values.crime import PoliceForce, normalise_crime_reference
from models.values.reference import Reference
from models.values.statuses import OPEN, Status

CRIME_REFERENCE = "crime_reference"
POLICE_FORCE = "police_force"


@dataclass(frozen=True, slots=True)
class PoliceDetails:
    """A report's crime reference and force after a change."""

    change: Change
    crime_reference: str | None = None
    police_force: str | None = None


class PoliceReferences:
    """Set a report's crime reference number and police force."""

    def __init__(self, db: Database) -> None:
        """Bind to the register's database."""
        self.db = db

    async def _set(
        self,
        reference: Reference | str,
        crime_reference: str | None,
        police_force: str | None,
        *,
        actor: str,
        actor_id: int | None,
        open_only: bool,
        channel: str,
    ) -> PoliceDetails:
        crime = normalise_crime_reference(crime_reference) if crime_reference else None
        force = PoliceForce.parse(police_force).code if police_force else None
        if crime is None and force is None:
            raise ValueError("give a crime reference, a police force, or both")
        async with self.db.write() as session:
            report = await locked_report(session, str(reference))
            if report is None:
                return PoliceDetails(Change.NOT_FOUND)
            if open_only and Status(report.status) not in OPEN:
                return PoliceDetails(Change.ENDED, report.crime_reference, report.police_force)
            changed = self._apply(session, report, crime, force, actor, actor_id)
            if changed:
                record(
                    session,
                    actor,
                    "police_reference",
                    report.reference,
                    {"set": sorted(changed), "channel": channel},
                )
        return PoliceDetails(
            Change.DONE if changed else Change.ALREADY, report.crime_reference, report.police_force
        )

    @staticmethod
    def _apply(
        session: AsyncSession,
        report: Report,
        crime: str | None,
        force: str | None,
        actor: str,
        actor_id: int | None,
    ) -> set[str]:
        changed: set[str] = set()
        assert report.id is not None
        for kind, value in ((CRIME_REFERENCE, crime), (POLICE_FORCE, force)):
            if value is None or getattr(report, kind) == value:
                continue
            setattr(report, kind, value)
            session.add(
                ReportEvent(
                    report_id=report.id, actor=actor, actor_id=actor_id, kind=kind, detail=value
                )
            )
            changed.add(kind)
        return changed

    async def set_by_staff(
        self,
        reference: Reference | str,
        *,
        crime_reference: str | None = None,
        police_force: str | None = None,
        actor: str,
        actor_id: int | None = None,
        channel: str,
    ) -> PoliceDetails:
        """Staff set (or correct) the crime reference and/or force, in any status; audited."""
        return await self._set(
            reference,
            crime_reference,
            police_force,
            actor=actor,
            actor_id=actor_id,
            open_only=False,
            channel=channel,
        )

    async def set_by_victim(
        self,
        reference: Reference | str,
        *,
        crime_reference: str | None = None,
        police_force: str | None = None,
    ) -> PoliceDetails:
        """The victim adds the crime reference and/or force from /status (open reports only).

        Call only after the access code was checked (FollowUp.check_access).
        """
        return await self._set(
            reference,
            crime_reference,
            police_force,
            actor="victim",
            actor_id=None,
            open_only=True,
            channel="telegram",
        )
