"""Reissuing a victim's access code: the old one stops working, the new one is shown once."""

from __future__ import annotations

from models.sealing.vault import Vault
from models.services.audit import record
from models.services.reports import ReportStore, locked_report, report_context
from models.storage.database import Database
from models.storage.tables import ReportEvent
from models.values.reference import Reference, generate_access_code

REISSUED = "access_code_reissued"


class AccessCodes:
    """Staff's side of access codes."""

    def __init__(self, db: Database, vault: Vault, reports: ReportStore) -> None:
        """Bind to the register's database, vault and reports."""
        self.db = db
        self.vault = vault
        self.reports = reports

    async def reissue(
        self,
        reference: Reference | str,
        *,
        actor: str,
        actor_id: int | None = None,
        channel: str,
    ) -> str | None:
        """A new access code for the report (None if there is no such report).

        The old code stops working at once; chats that already follow the report keep
        following it. The new code is returned once, to be passed to the victim, and is
        kept only sealed and as a keyed hash; the audit trail and the history say that a
        code was reissued, by whom, never the code.
        """
        code = generate_access_code()
        async with self.db.write() as session:
            report = await locked_report(session, str(reference))
            if report is None:
                return None
            assert report.id is not None
            context = report_context(report.reference)
            private = self.vault.open_json(report.sealed, context=context)
            private["access_code"] = code
            report.sealed = self.vault.seal_json(private, context=context)
            report.access_code_hash = self.reports.access_code_hash(report.reference, code)
            session.add(
                ReportEvent(report_id=report.id, actor=actor, actor_id=actor_id, kind=REISSUED)
            )
            record(session, actor, "access_code_reissue", report.reference, {"channel": channel})
        return code
