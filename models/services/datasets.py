"""Importing a reference table (TAC table, gazetteer) from an operator's file, safely.

A file is read as a stream, line by line, in bounded memory: a size cap, a cap on the length of
a line, text only (a NUL byte refuses the file), UTF-8 or, failing that, Windows-1252. Each line
becomes rows or is rejected with a reason; the import refuses the whole file when nothing, or
mostly nothing, was accepted. Rows go in under a new *generation* in batches; the generation in
use switches in one small transaction at the end, so readers see the old table or the new one,
never a mixture, and a failed or interrupted import changes nothing.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import delete, func, insert, select, text

from models.errors import RegisterError
from models.services.audit import record
from models.storage.columns import utcnow
from models.storage.database import Database
from models.storage.tables import Dataset

MAX_LINE = 8192
BATCH = 2000
SNIFF_BYTES = 64 * 1024
HEAD_LINES = 3
MAX_LISTED = 1000
# A file with more rejected lines than this, and more rejected than accepted, is not that format.
REJECT_TOLERANCE = 1000


class ImportRefused(RegisterError):
    """The file as a whole cannot be imported (too large, not text, not the format, empty)."""


class RowRejected(Exception):
    """One line of a file that cannot be used; REASON is a short code, DETAIL what was seen."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        """Keep the reason code and the detail (never more than a few characters of the line)."""
        super().__init__(reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Rejected:
    """A rejected line: where it is (`12`, or `file.csv:12`), why, and what was seen."""

    line: str
    reason: str
    detail: str | None = None


@dataclass(slots=True)
class ImportResult:
    """What an import did."""

    dataset: str
    format: str
    rows: int = 0
    lines: int = 0
    rejected_total: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    previous_rows: int = 0
    generation: int = 0

    def reject(self, line: str, reason: str, detail: str | None = None) -> None:
        """Count a rejected line, and keep it for the listing while there is room."""
        self.rejected_total += 1
        if len(self.rejected) < MAX_LISTED:
            self.rejected.append(Rejected(line, reason, detail))


class _CappedReader(io.RawIOBase):
    """A binary reader that refuses to go past MAX_BYTES (a file that grows while read)."""

    def __init__(self, raw: IO[bytes], max_bytes: int) -> None:
        """Read from RAW, at most MAX_BYTES in all."""
        self._raw = raw
        self._limit = max_bytes
        self._left = max_bytes

    def readable(self) -> bool:
        """Always: this is a reader."""
        return True

    def readinto(self, buffer: Any) -> int:
        """Fill BUFFER from the file; ImportRefused once past the cap."""
        data = self._raw.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise ImportRefused("import_too_large", limit=self._limit)
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


def open_text(path: Path, *, max_bytes: int) -> tuple[IO[str], list[str]]:
    """PATH opened as text (UTF-8, else Windows-1252) after the size and binary checks.

    Also returns the file's first lines, for telling its format.
    """
    raw = Path(path).open("rb")  # noqa: SIM115 - closed with the text wrapper handed back
    try:
        size = raw.seek(0, io.SEEK_END)
        raw.seek(0)
        if size > max_bytes:
            raise ImportRefused("import_too_large", limit=max_bytes)
        if size == 0:
            raise ImportRefused("import_empty")
        sample = raw.read(SNIFF_BYTES)
        raw.seek(0)
        if b"\x00" in sample:
            raise ImportRefused("import_not_text")
        encoding = "utf-8-sig"
        try:
            # The sample may end inside a character: drop an incomplete tail before deciding.
            sample.decode("utf-8", errors="strict")
        except UnicodeDecodeError as exc:
            if exc.start < len(sample) - 4:
                encoding = "cp1252"
        capped = io.BufferedReader(_CappedReader(raw, max_bytes))
        text = io.TextIOWrapper(capped, encoding=encoding, errors="replace", newline="")
        head = sample.decode(encoding, errors="replace").splitlines()[:HEAD_LINES]
        return text, head
    except BaseException:
        raw.close()
        raise


# (line number, the line without its end, or why it cannot be read)
Lines = Iterator[tuple[int, str | RowRejected]]


def lines_of(text: IO[str]) -> Lines:
    """Each line that is not blank, without its end; RowRejected for a line over MAX_LINE."""
    number = 0
    while True:
        line = text.readline(MAX_LINE + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE and not line.endswith("\n"):
            # Skip the rest of the over-long line without holding it.
            while True:
                rest = text.readline(MAX_LINE)
                if not rest or rest.endswith("\n"):
                    break
            yield number, RowRejected("line_too_long")
            continue
        if line.strip():
            yield number, line.rstrip("\r\n")


def fields_of(line: str, delimiter: str = ",") -> list[str]:
    """One line split as CSV (quotes honoured); RowRejected for a malformed one."""
    if "\ufffd" in line:
        raise RowRejected("bad_encoding")
    try:
        rows = list(csv.reader([line], delimiter=delimiter, strict=True))
    except csv.Error:
        raise RowRejected("malformed_csv") from None
    return [value.strip() for value in rows[0]] if rows else []


def clip(value: str, limit: int = 24) -> str:
    """A short, printable excerpt of VALUE for a rejection's detail."""
    shown = "".join(ch if ch.isprintable() else "?" for ch in value[:limit])
    return shown + ("…" if len(value) > limit else "")


# (where the line is, its rows or why it was rejected); a blank line yields nothing.
Parsed = Iterable[tuple[str, list[dict[str, Any]] | RowRejected]]
Finisher = Callable[[Any, int], Awaitable[int]]


class DatasetStore:
    """Generations of one reference table: import a new one, switch to it, drop the old."""

    def __init__(self, db: Database, name: str, table: Any) -> None:
        """Manage the dataset NAME whose rows live in TABLE (with a `generation` column)."""
        self.db = db
        self.name = name
        self.table = table

    async def current(self) -> Dataset | None:
        """The dataset's row (generation in use, size, when imported), or None before any."""
        async with self.db.read() as session:
            return await session.get(Dataset, self.name)

    async def _next_generation(self) -> int:
        async with self.db.read() as session:
            highest: int | None = (
                await session.execute(select(func.max(self.table.generation)))
            ).scalar_one()
            row = await session.get(Dataset, self.name)
        return max(highest or 0, row.generation if row else 0) + 1

    async def _drop_generations(self, keep: int | None) -> None:
        """Delete every generation but KEEP, in bounded transactions."""
        async with self.db.read() as session:
            generations: list[int] = list(
                (await session.execute(select(self.table.generation).distinct())).scalars()
            )
        for generation in generations:
            if generation == keep:
                continue
            async with self.db.write() as session:
                await session.execute(delete(self.table).where(self.table.generation == generation))

    async def replace(
        self,
        parsed: Parsed,
        *,
        format_name: str,
        actor: str,
        prepare: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None,
        finish: Finisher | None = None,
    ) -> ImportResult:
        """Load PARSED as a new generation and switch to it; nothing changes if it fails."""
        result = ImportResult(self.name, format_name)
        current = await self.current()
        await self._drop_generations(current.generation if current else None)
        generation = await self._next_generation()
        result.generation = generation
        try:
            batch: list[dict[str, Any]] = []
            for where, outcome in parsed:
                result.lines += 1
                if isinstance(outcome, RowRejected):
                    result.reject(where, outcome.reason, outcome.detail)
                    if (
                        result.rejected_total > REJECT_TOLERANCE
                        and result.rejected_total > result.rows + len(batch)
                    ):
                        raise ImportRefused("import_mostly_rejected", format=format_name)
                    continue
                batch.extend(outcome)
                if len(batch) >= BATCH:
                    result.rows += await self._write(batch, generation, prepare)
                    batch = []
            if batch:
                result.rows += await self._write(batch, generation, prepare)
            if result.rows == 0:
                raise ImportRefused("import_no_rows", format=format_name)
            async with self.db.write() as session:
                if finish is not None:
                    result.rows += await finish(session, generation)
                row = await session.get(Dataset, self.name, with_for_update=True)
                result.previous_rows = row.rows if row else 0
                if row is None:
                    row = Dataset(
                        name=self.name, generation=generation, format=format_name, imported_by=actor
                    )
                    session.add(row)
                row.generation = generation
                row.rows = result.rows
                row.format = format_name
                row.imported_at = utcnow()
                row.imported_by = actor
                record(
                    session,
                    actor,
                    f"{self.name}_import",
                    None,
                    {
                        "format": format_name,
                        "rows": result.rows,
                        "rejected": result.rejected_total,
                        "previous_rows": result.previous_rows,
                    },
                )
        except BaseException:
            with contextlib.suppress(Exception):
                await self._drop_generations(current.generation if current else None)
            raise
        await self._drop_generations(generation)
        await self._analyze()
        return result

    async def _analyze(self) -> None:
        """Refresh the planner's statistics after a bulk load (PostgreSQL; SQLite needs none)."""
        if self.db.is_sqlite:
            return
        async with self.db.write() as session:
            await session.execute(text(f'ANALYZE "{self.table.__tablename__}"'))

    async def _write(
        self,
        batch: list[dict[str, Any]],
        generation: int,
        prepare: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None,
    ) -> int:
        rows = prepare(batch) if prepare is not None else batch
        for row in rows:
            row["generation"] = generation
        if not rows:
            return 0
        async with self.db.write() as session:
            # Core, not ORM: one executemany for the batch instead of a statement a row.
            await session.execute(insert(self.table.__table__), rows)
        return len(rows)
