"""Bringing reports filed earlier up to date: staff search keys and the TAC check.

Reports filed before the search keys existed (or before their shape changed) have none; reports
filed before a TAC table was imported have no TAC make. `reportbot reindex` fixes both in
batches of its own transactions, so it can be stopped at any moment and run again: it carries
on where it stopped, and a report done once is not done again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlmodel import col

from models.sealing.vault import Vault
from models.services.reports import report_context
from models.services.searchkeys import SEARCH_KEYS_VERSION, key_rows
from models.services.tac import TacTable, disagrees
from models.storage.database import Database
from models.storage.tables import Report, ReportKey, stored

BATCH = 500


@dataclass(slots=True)
class ReindexResult:
    """How many reports got search keys, and how many a TAC make."""

    search_keys: int = 0
    tac_checked: int = 0


class Reindexer:
    """Fills in what reports filed earlier lack."""

    def __init__(self, db: Database, vault: Vault, tac: TacTable) -> None:
        """Bind to the register's database, vault and TAC table."""
        self.db = db
        self.vault = vault
        self.tac = tac

    async def pending(self) -> int:
        """How many reports still lack current search keys."""
        async with self.db.read() as session:
            return (
                await session.execute(
                    select(func.count())
                    .select_from(Report)
                    .where(col(Report.search_keys_version) < SEARCH_KEYS_VERSION)
                )
            ).scalar_one()

    async def run(
        self, *, batch: int = BATCH, progress: Callable[[ReindexResult], None] | None = None
    ) -> ReindexResult:
        """Reindex every report that needs it, one committed batch at a time."""
        result = ReindexResult()
        while done := await self._search_keys_batch(batch):
            result.search_keys += done
            if progress is not None:
                progress(result)
        last_id = 0
        while True:
            last_id, done = await self._tac_batch(last_id, batch)
            if last_id == 0:
                break
            result.tac_checked += done
        return result

    async def _search_keys_batch(self, batch: int) -> int:
        async with self.db.read() as session:
            rows = list(
                await session.execute(
                    select(col(Report.id), col(Report.reference), col(Report.sealed))
                    .where(col(Report.search_keys_version) < SEARCH_KEYS_VERSION)
                    .order_by(col(Report.id))
                    .limit(batch)
                )
            )
        if not rows:
            return 0
        keys = []
        for report_id, reference, sealed in rows:
            report_id = stored(report_id)
            private = self.vault.open_json(sealed, context=report_context(reference))
            keys.extend(key_rows(self.vault, report_id, private))
        ids = [row.id for row in rows]
        async with self.db.write() as session:
            await session.execute(delete(ReportKey).where(col(ReportKey.report_id).in_(ids)))
            session.add_all(keys)
            await session.execute(
                update(Report)
                .where(col(Report.id).in_(ids))
                .values(search_keys_version=SEARCH_KEYS_VERSION)
            )
        return len(ids)

    async def _tac_batch(self, after: int, batch: int) -> tuple[int, int]:
        """Check the TAC of reports after id AFTER that have none yet; (last id seen, checked)."""
        async with self.db.read() as session:
            rows = list(
                await session.execute(
                    select(col(Report.id), col(Report.imei_tac), col(Report.make))
                    .where(
                        col(Report.id) > after,
                        col(Report.imei_tac).is_not(None),
                        col(Report.tac_make).is_(None),
                    )
                    .order_by(col(Report.id))
                    .limit(batch)
                )
            )
        if not rows:
            return 0, 0
        checked = 0
        for report_id, tac, make in rows:
            found = await self.tac.lookup(stored(tac))
            if found is None:
                continue
            async with self.db.write() as session:
                await session.execute(
                    update(Report)
                    .where(col(Report.id) == report_id, col(Report.tac_make).is_(None))
                    .values(
                        tac_make=found.brand,
                        tac_model=found.model,
                        tac_mismatch=disagrees(make, found.brand_key),
                    )
                )
            checked += 1
        return rows[-1].id, checked
