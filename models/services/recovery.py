"""Bulk recovery: match seized handsets' IMEIs against the register, then mark them recovered.

A seized handset belongs to the reports that hold its IMEI and may still claim it: the open ones
(`submitted`, `under_review`, `located`) and the ones already `recovered`. A seized IMEI with
exactly one such report, an open one, marks it recovered. One with several (the same IMEI filed
twice, or a report already recovered with this handset) marks none of them: it is listed as
ambiguous, for a person to choose. Reports returned, closed or withdrawn do not claim a handset
(a phone returned to its owner can be stolen again), and nothing already past `located` moves.

Applying commits in chunks of `APPLY_CHUNK` reports, each its own short write transaction (the
status, the history row and the victims' notifications together), so that a big recovery never
holds the write lock for long. On SQLite it then leaves the lock free for `SQLITE_GAP_S`: a writer
in another process waiting for the lock does not queue, it retries every 100 ms at most (SQLite's
busy handler), so chunks committed back to back would starve it. Each chunk re-reads its reports
and their IMEIs' claims under the lock, so a recovery that stopped half-way is finished by running
the same file again: what it already marked now claims its handset, and nothing is marked,
recorded or notified twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import col

from models.services.audit import record
from models.services.reports import Match, ReportStore
from models.services.seized import MalformedLine, ReadLimits, SeizedFile, SeizedImei
from models.storage.database import Database
from models.storage.tables import Report
from models.values.imei import Imei
from models.values.statuses import OPEN, Status

APPLY_CHUNK = 200
# Longer than the longest pause (100 ms) between two tries of SQLite's busy handler.
SQLITE_GAP_S = 0.15
# The reports that may claim a seized handset holding their IMEI.
CLAIMING = frozenset(OPEN | {Status.RECOVERED})
RECOVERY_NOTE = "Matched in a bulk recovery of seized handsets"


@dataclass(frozen=True, slots=True)
class MatchedHandset:
    """A seized IMEI that the register knows, with the reports that hold it."""

    line: int
    imei: Imei
    reports: tuple[Match, ...]

    @property
    def claimants(self) -> tuple[Match, ...]:
        """The reports holding this IMEI that may claim the handset (open or recovered)."""
        return tuple(match for match in self.reports if match.status in CLAIMING)

    @property
    def ambiguous(self) -> bool:
        """Whether several reports claim this handset, one still open (a person must choose)."""
        claimants = self.claimants
        return len(claimants) > 1 and any(match.status in OPEN for match in claimants)

    @property
    def recovers(self) -> Match | None:
        """The one open report this handset recovers, if it is the handset's only claimant."""
        claimants = self.claimants
        if len(claimants) == 1 and claimants[0].status in OPEN:
            return claimants[0]
        return None


@dataclass(slots=True)
class RecoveryPlan:
    """The matching of a seized file against the register (what a dry run shows)."""

    seized: SeizedFile
    matched: list[MatchedHandset]
    unknown: list[SeizedImei]

    @property
    def ambiguous(self) -> list[MatchedHandset]:
        """Seized IMEIs claimed by several reports: none of those is marked for them."""
        return [handset for handset in self.matched if handset.ambiguous]

    def supports(self) -> dict[int, list[Imei]]:
        """Each report to recover, by id, with the seized IMEIs of which it is the only claimant."""
        found: dict[int, list[Imei]] = {}
        for handset in self.matched:
            report = handset.recovers
            if report is not None:
                found.setdefault(report.report_id, []).append(handset.imei)
        return found

    def _reports(self) -> dict[int, Match]:
        found: dict[int, Match] = {}
        for handset in self.matched:
            for match in handset.reports:
                found.setdefault(match.report_id, match)
        return found

    @property
    def to_recover(self) -> list[Match]:
        """Open reports that are a seized IMEI's only claimant: these become `recovered`."""
        reports = self._reports()
        return sorted((reports[i] for i in self.supports()), key=lambda m: m.reference)

    @property
    def left_alone(self) -> list[Match]:
        """Matched reports already past `located` (recovered, returned, closed, withdrawn)."""
        reports = self._reports().values()
        return sorted((m for m in reports if m.status not in OPEN), key=lambda m: m.reference)


@dataclass(frozen=True, slots=True)
class RecoveryOutcome:
    """What a recovery run did (or, in a dry run, would do)."""

    plan: RecoveryPlan
    dry_run: bool
    recovered: tuple[str, ...]
    notifications: int
    held_back: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChunkDone:
    """Progress of an apply, after a chunk committed (the write lock is free again)."""

    number: int
    chunks: int
    recovered: int
    seconds: float  # how long the chunk held the write lock


AfterChunk = Callable[[ChunkDone], Awaitable[None]]


class Recovery:
    """Match seized handsets against the register and mark the matches recovered."""

    def __init__(
        self,
        db: Database,
        reports: ReportStore,
        *,
        limits: ReadLimits | None = None,
        chunk: int = APPLY_CHUNK,
        gap: float | None = None,
    ) -> None:
        """Work on DB through REPORTS' operations; files are read within LIMITS.

        Applying commits CHUNK reports at a time and then leaves the write lock free for GAP
        seconds (by default `SQLITE_GAP_S` on SQLite, none on PostgreSQL).
        """
        self.db = db
        self.reports = reports
        self.limits = limits or ReadLimits()
        self.chunk = chunk
        self.gap = (SQLITE_GAP_S if db.is_sqlite else 0.0) if gap is None else gap

    async def plan(self, seized: SeizedFile) -> RecoveryPlan:
        """Which seized IMEIs the register knows (and in which reports), and which it does not."""
        found = await self.reports.match(item.imei for item in seized.imeis)
        matched: list[MatchedHandset] = []
        unknown: list[SeizedImei] = []
        for item in seized.imeis:
            reports = found.get(item.imei.digits)
            if reports:
                ordered = tuple(sorted(reports, key=lambda m: m.reference))
                matched.append(MatchedHandset(item.line, item.imei, ordered))
            else:
                unknown.append(item)
        return RecoveryPlan(seized, matched, unknown)

    async def run(
        self,
        seized: SeizedFile,
        *,
        actor: str,
        actor_id: int | None = None,
        dry_run: bool,
        channel: str,
        after_chunk: AfterChunk | None = None,
    ) -> RecoveryOutcome:
        """Plan, and unless DRY_RUN mark the plan's reports recovered, chunk by chunk; audited.

        AFTER_CHUNK is awaited after each chunk has committed, while no lock is held.
        """
        plan = await self.plan(seized)
        if dry_run:
            references = tuple(match.reference for match in plan.to_recover)
            outcome = RecoveryOutcome(plan, True, references, notifications=0)
        else:
            outcome = await self._apply(plan, actor, actor_id, after_chunk)
        async with self.db.write() as session:
            record(session, actor, "recovery", None, _audit_details(outcome, channel))
        return outcome

    def support_hashes(self, plan: RecoveryPlan) -> dict[int, list[str]]:
        """PLAN's reports to recover, by id, with the keyed hashes of the IMEIs they alone claim."""
        return {
            report_id: [self.reports.imei_hash(imei) for imei in imeis]
            for report_id, imeis in plan.supports().items()
        }

    async def _apply(
        self, plan: RecoveryPlan, actor: str, actor_id: int | None, after_chunk: AfterChunk | None
    ) -> RecoveryOutcome:
        recovered, held_back, notifications = await self.apply_supports(
            self.support_hashes(plan), actor=actor, actor_id=actor_id, after_chunk=after_chunk
        )
        return RecoveryOutcome(plan, False, recovered, notifications, held_back)

    async def apply_supports(
        self,
        supports: dict[int, list[str]],
        *,
        actor: str,
        actor_id: int | None = None,
        after_chunk: AfterChunk | None = None,
    ) -> tuple[tuple[str, ...], tuple[str, ...], int]:
        """Mark recovered each report of SUPPORTS (id: its seized IMEIs' keyed hashes) that is
        still open and still their only claimant: (recovered, held back, notifications queued)."""
        ids = sorted(supports)
        recovered: list[str] = []
        held_back: list[str] = []
        notifications = 0
        chunks = -(-len(ids) // self.chunk)
        for number, start in enumerate(range(0, len(ids), self.chunk), start=1):
            part = ids[start : start + self.chunk]
            hashes = {i: supports[i] for i in part}
            async with self.db.write() as session:
                await session.connection()  # the write lock is taken here (BEGIN IMMEDIATE)
                started = time.perf_counter()
                # Re-read under the write lock: a report may have moved since the plan, and
                # another report with the same IMEI may have been filed or recovered since.
                # By id only: with a status condition too, SQLite's planner walks the status
                # index (most of the register) instead of the primary key.
                found = await session.execute(
                    select(Report)
                    .where(col(Report.id).in_(part))
                    .order_by(col(Report.id))
                    .with_for_update()
                )
                batch = [report for report in found.scalars() if Status(report.status) in OPEN]
                holders = await self.reports.holders_in(
                    session, [h for i in part for h in hashes[i]], CLAIMING
                )
                alone = [report for report in batch if _alone(report, hashes, holders)]
                notifications += await self.reports.apply_status_many(
                    session,
                    alone,
                    Status.RECOVERED,
                    actor=actor,
                    actor_id=actor_id,
                    note=RECOVERY_NOTE,
                )
            seconds = time.perf_counter() - started  # the lock held, up to its commit
            recovered.extend(report.reference for report in alone)
            applied = {report.id for report in alone}
            held_back.extend(report.reference for report in batch if report.id not in applied)
            if after_chunk is not None:
                await after_chunk(ChunkDone(number, chunks, len(recovered), seconds))
            if self.gap and number < chunks:
                await asyncio.sleep(self.gap)
        return tuple(sorted(recovered)), tuple(sorted(held_back)), notifications


def _alone(report: Report, hashes: dict[int, list[str]], holders: dict[str, set[int]]) -> bool:
    """Whether REPORT is (still) the only claimant of one of its seized IMEIs."""
    assert report.id is not None
    return any(holders.get(imei_hash) == {report.id} for imei_hash in hashes[report.id])


def plan_counts(plan: RecoveryPlan) -> dict[str, int]:
    """How many values PLAN's file gave, and what they matched: counts only, never an IMEI."""
    return {
        "values": plan.seized.values,
        "matched": len(plan.matched),
        "unknown": len(plan.unknown),
        "ambiguous": len(plan.ambiguous),
        "malformed": len(plan.seized.malformed),
        "duplicates": len(plan.seized.duplicates),
        "left_alone": len(plan.left_alone),
    }


def _audit_details(outcome: RecoveryOutcome, channel: str) -> dict:
    """Counts and references only: never an IMEI."""
    plan = outcome.plan
    return {
        "channel": channel,
        "dry_run": outcome.dry_run,
        **plan_counts(plan),
        "recovered": len(outcome.recovered),
        "references": list(outcome.recovered),
        "held_back": list(outcome.held_back),
        "notifications": outcome.notifications,
    }


RESULT_COLUMNS = ("line", "value", "result", "references", "detail")
MATCHED = "matched"
UNKNOWN = "not in the register"
AMBIGUOUS = "ambiguous"
MALFORMED = "malformed"
REPEATED = "repeated"


def describe_candidate(match: Match) -> str:
    """One of several reports holding a seized IMEI, as a person choosing between them needs it."""
    return (
        f"{match.reference} ({match.status.value}, {match.make}, filed {match.created_at:%Y-%m-%d})"
    )


def result_rows(
    plan: RecoveryPlan, reason_of: Callable[[MalformedLine], str] | None = None
) -> list[tuple[int, str, str, str, str]]:
    """Every value of the file with what it matched, by line: the full answer to a recovery.

    REASON_OF puts a malformed line's reason into words (by default its `reason` as it is).
    """
    reason_of = reason_of or (lambda bad: bad.reason)
    rows: list[tuple[int, str, str, str, str]] = []
    for handset in plan.matched:
        references = " ".join(match.reference for match in handset.reports)
        if handset.ambiguous:
            detail = "; ".join(describe_candidate(match) for match in handset.reports)
            rows.append((handset.line, handset.imei.digits, AMBIGUOUS, references, detail))
            continue
        statuses = " ".join(match.status.value for match in handset.reports)
        rows.append((handset.line, handset.imei.digits, MATCHED, references, statuses))
    for item in plan.unknown:
        rows.append((item.line, item.imei.digits, UNKNOWN, "", ""))
    for line in plan.seized.malformed:
        rows.append((line.line, line.text, MALFORMED, "", reason_of(line)))
    for repeat in plan.seized.duplicates:
        rows.append(
            (repeat.line, repeat.imei.digits, REPEATED, "", f"first on line {repeat.first_line}")
        )
    return sorted(rows, key=lambda row: (row[0], row[1]))
