"""Bulk recovery: match a file of seized handsets' IMEIs against the register, then mark them.

The file is a CSV with a column headed like "IMEI" (every such column is read), or one IMEI a
line; any form `Imei.parse` accepts (14, 15 or 16 digits, spaces, dashes, dots). Applying marks
the matched reports that are still open as `recovered` and queues their victims' notifications,
all in one transaction; reports already recovered, returned or closed are left alone, so the
same file applied twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from sqlalchemy import select

from models.services.audit import record
from models.services.reports import MATCH_CHUNK, Match, ReportStore
from models.storage.database import Database
from models.storage.tables import Report
from models.values.imei import Imei, InvalidImei
from models.values.statuses import OPEN, Status

MAX_IMEIS = 100_000
MAX_SHOWN_TEXT = 40
DELIMITERS = ",;\t"
RECOVERY_NOTE = "Matched in a bulk recovery of seized handsets"
_SCIENTIFIC = re.compile(r"\d(\.\d+)?[eE]\+?\d+")


class RecoveryFileError(ValueError):
    """The file cannot be read as a list of IMEIs; str(exc) says why, in one line."""


@dataclass(frozen=True, slots=True)
class SeizedImei:
    """A well-formed IMEI read from the file, with the line it came from."""

    line: int
    imei: Imei


@dataclass(frozen=True, slots=True)
class MalformedLine:
    """A value that is not an IMEI, and why (`error`, when the IMEI's own check refused it)."""

    line: int
    text: str
    reason: str
    error: InvalidImei | None = None


@dataclass(frozen=True, slots=True)
class DuplicateLine:
    """An IMEI the file already gave on an earlier line (only the first one counts)."""

    line: int
    first_line: int
    imei: Imei


@dataclass(slots=True)
class SeizedFile:
    """What a file of seized handsets holds."""

    imeis: list[SeizedImei] = field(default_factory=list)
    malformed: list[MalformedLine] = field(default_factory=list)
    duplicates: list[DuplicateLine] = field(default_factory=list)

    @property
    def values(self) -> int:
        """How many values the file gave (well-formed, malformed and repeated)."""
        return len(self.imeis) + len(self.malformed) + len(self.duplicates)


@dataclass(frozen=True, slots=True)
class MatchedHandset:
    """A seized IMEI that the register knows, with the reports that hold it."""

    line: int
    imei: Imei
    reports: tuple[Match, ...]


@dataclass(slots=True)
class RecoveryPlan:
    """The matching of a seized file against the register (what a dry run shows)."""

    seized: SeizedFile
    matched: list[MatchedHandset]
    unknown: list[SeizedImei]

    def _reports(self) -> dict[int, Match]:
        found: dict[int, Match] = {}
        for handset in self.matched:
            for match in handset.reports:
                found.setdefault(match.report_id, match)
        return found

    @property
    def to_recover(self) -> list[Match]:
        """Matched reports still open: these become `recovered`, by reference."""
        reports = self._reports().values()
        return sorted((m for m in reports if m.status in OPEN), key=lambda m: m.reference)

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


def decode(content: bytes) -> str:
    """The file's text: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        return content.decode("utf-16")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("cp1252", errors="replace")


def _is_imei_header(cell: str) -> bool:
    return "imei" in re.sub(r"[^a-z0-9]", "", cell.lower())


def _delimiter(text: str) -> str | None:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {delimiter: first.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else None


def _rows(text: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank row."""
    delimiter = _delimiter(text)
    if delimiter is None:
        return [
            (number, [line]) for number, line in enumerate(text.splitlines(), 1) if line.strip()
        ]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    for cells in reader:
        if any(cell.strip() for cell in cells):
            rows.append((reader.line_num, cells))
    return rows


def _values(rows: list[tuple[int, list[str]]]) -> list[tuple[int, str]]:
    """(line number, cell) of every value to read as an IMEI."""
    if not rows:
        return []
    first_cells = rows[0][1]
    columns = [index for index, cell in enumerate(first_cells) if _is_imei_header(cell)]
    if columns:
        return [
            (number, cells[column])
            for number, cells in rows[1:]
            for column in columns
            if column < len(cells) and cells[column].strip()
        ]
    values = []
    for number, cells in rows:
        filled = [cell for cell in cells if cell.strip()]
        values.append((number, filled[0] if len(filled) == 1 else ",".join(cells)))
    return values


def _reason(text: str, error: InvalidImei, columns: int) -> str:
    if _SCIENTIFIC.fullmatch(text.strip()):
        return "a spreadsheet turned this IMEI into a rounded number; save the column as text"
    if columns > 1:
        return "several values on one line: give the file a column headed IMEI"
    return str(error)


def parse_seized(content: bytes | str) -> SeizedFile:
    """Read a file of seized IMEIs; RecoveryFileError if it holds none or far too many."""
    text = decode(content) if isinstance(content, bytes) else content.removeprefix("\ufeff")
    rows = _rows(text)
    values = _values(rows)
    if not values:
        raise RecoveryFileError("the file holds no IMEIs")
    if len(values) > MAX_IMEIS:
        raise RecoveryFileError(f"the file holds {len(values)} values; at most {MAX_IMEIS}")
    seized = SeizedFile()
    first_seen: dict[str, int] = {}
    for number, raw in values:
        # A leading apostrophe is how spreadsheets mark a cell as text.
        cell = raw.strip().removeprefix("'")
        try:
            imei = Imei.parse(cell)
        except InvalidImei as exc:
            reason = _reason(cell, exc, raw.count(",") + 1)
            error = exc if reason == exc.code else None
            seized.malformed.append(MalformedLine(number, cell[:MAX_SHOWN_TEXT], reason, error))
            continue
        if imei.digits in first_seen:
            seized.duplicates.append(DuplicateLine(number, first_seen[imei.digits], imei))
            continue
        first_seen[imei.digits] = number
        seized.imeis.append(SeizedImei(number, imei))
    return seized


class Recovery:
    """Match seized handsets against the register and mark the matches recovered."""

    def __init__(self, db: Database, reports: ReportStore) -> None:
        """Work on DB through REPORTS' operations."""
        self.db = db
        self.reports = reports

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
    ) -> RecoveryOutcome:
        """Plan, and unless DRY_RUN mark open matches recovered in one transaction; audited."""
        plan = await self.plan(seized)
        if dry_run:
            outcome = RecoveryOutcome(
                plan, True, tuple(m.reference for m in plan.to_recover), notifications=0
            )
            async with self.db.write() as session:
                record(session, actor, "recovery", None, _audit_details(outcome, channel))
            return outcome
        ids = [match.report_id for match in plan.to_recover]
        recovered: list[str] = []
        notifications = 0
        async with self.db.write() as session:
            for start in range(0, len(ids), MATCH_CHUNK):
                # Re-read under the write lock: a report may have moved since the plan.
                reports = (
                    await session.execute(
                        select(Report)
                        .where(
                            Report.id.in_(ids[start : start + MATCH_CHUNK]),
                            Report.status.in_([status.value for status in OPEN]),
                        )
                        .order_by(Report.id)
                        .with_for_update()
                    )
                ).scalars()
                batch = list(reports)
                notifications += await self.reports.apply_status_many(
                    session,
                    batch,
                    Status.RECOVERED,
                    actor=actor,
                    actor_id=actor_id,
                    note=RECOVERY_NOTE,
                )
                recovered.extend(report.reference for report in batch)
            outcome = RecoveryOutcome(plan, False, tuple(sorted(recovered)), notifications)
            record(session, actor, "recovery", None, _audit_details(outcome, channel))
        return outcome


def _audit_details(outcome: RecoveryOutcome, channel: str) -> dict:
    """Counts and references only: never an IMEI."""
    plan = outcome.plan
    return {
        "channel": channel,
        "dry_run": outcome.dry_run,
        "values": plan.seized.values,
        "matched": len(plan.matched),
        "unknown": len(plan.unknown),
        "malformed": len(plan.seized.malformed),
        "duplicates": len(plan.seized.duplicates),
        "recovered": len(outcome.recovered),
        "references": list(outcome.recovered),
        "left_alone": len(plan.left_alone),
        "notifications": outcome.notifications,
    }


RESULT_COLUMNS = ("line", "value", "result", "references", "detail")


def result_rows(plan: RecoveryPlan) -> list[tuple[int, str, str, str, str]]:
    """Every value of the file with what it matched, by line: the full answer to a recovery."""
    rows: list[tuple[int, str, str, str, str]] = []
    for handset in plan.matched:
        references = " ".join(match.reference for match in handset.reports)
        statuses = " ".join(match.status.value for match in handset.reports)
        rows.append((handset.line, handset.imei.digits, "matched", references, statuses))
    for item in plan.unknown:
        rows.append((item.line, item.imei.digits, "not in the register", "", ""))
    for line in plan.seized.malformed:
        rows.append((line.line, line.text, "malformed", "", line.reason))
    for repeat in plan.seized.duplicates:
        rows.append(
            (repeat.line, repeat.imei.digits, "repeated", "", f"first on line {repeat.first_line}")
        )
    return sorted(rows, key=lambda row: (row[0], row[1]))
