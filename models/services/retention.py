"""Purging what the register no longer needs to keep."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlmodel import SQLModel, col

from models.services.audit import record
from models.storage.database import Database, rowcount
from models.storage.tables import CodeAttempt, Draft, ProcessedUpdate, Report
from models.values.statuses import Status

ENDED = (Status.CLOSED.value, Status.WITHDRAWN.value, Status.RETURNED.value)
PROCESSED_UPDATE_DAYS = 14
CODE_ATTEMPT_DAYS = 1


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """How many rows of each kind were (or, in a dry run, would be) deleted."""

    reports: int
    drafts: int
    processed_updates: int
    code_attempts: int


class Retention:
    """Delete ended reports after the retention period, and expired working data."""

    def __init__(self, db: Database, *, report_days: int) -> None:
        """Bind to a database with the report retention period in days."""
        self.db = db
        self.report_days = report_days

    def _rules(self, now: datetime) -> list[tuple[str, type[SQLModel], ColumnElement[bool]]]:
        return [
            (
                "reports",
                Report,
                (col(Report.status).in_(ENDED))
                & (col(Report.status_changed_at) < now - timedelta(days=self.report_days)),
            ),
            ("drafts", Draft, col(Draft.expires_at) < now),
            (
                "processed_updates",
                ProcessedUpdate,
                col(ProcessedUpdate.processed_at) < now - timedelta(days=PROCESSED_UPDATE_DAYS),
            ),
            (
                "code_attempts",
                CodeAttempt,
                col(CodeAttempt.at) < now - timedelta(days=CODE_ATTEMPT_DAYS),
            ),
        ]

    async def purge(
        self, now: datetime, *, dry_run: bool = False, actor: str = "system"
    ) -> PurgeResult:
        """Delete (or with DRY_RUN only count) what is past its time; audit records stay."""
        counts: dict[str, int] = {}
        async with self.db.write() as session:
            for name, table, condition in self._rules(now):
                if dry_run:
                    counts[name] = (
                        await session.execute(
                            select(func.count()).select_from(table).where(condition)
                        )
                    ).scalar_one()
                else:
                    result = await session.execute(delete(table).where(condition))
                    counts[name] = rowcount(result)
            result_row = PurgeResult(**counts)
            if not dry_run:
                record(session, actor, "purge", None, asdict(result_row))
        return result_row
