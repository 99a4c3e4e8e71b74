"""Staff search: a report by reference, IMEI, the victim's phone number, e-mail or name, or
the police's crime reference. Every search is audited (who, how, how many found) without the
personal data searched for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from models.errors import RegisterError
from models.sealing.vault import Vault
from models.services.audit import record
from models.services.reports import ReportStore, ReportView
from models.services.searchkeys import (
    EMAIL,
    NAME,
    NAME_WORD,
    email_key,
    name_key,
    name_word_key,
    name_words,
    normalise_email,
)
from models.storage.database import Database
from models.storage.tables import Report, ReportEvent, ReportKey
from models.values.crime import BadCrimeReference, normalise_crime_reference
from models.values.freetext import has_words
from models.values.imei import Imei, InvalidImei
from models.values.phone import InvalidPhone, PhoneNumber
from models.values.reference import InvalidReference, Reference

MAX_RESULTS = 50


class SearchBy(StrEnum):
    """How staff search."""

    REFERENCE = "reference"
    IMEI = "imei"
    PHONE = "phone"
    EMAIL = "email"
    NAME = "name"
    CRIME_REFERENCE = "crime_reference"


class BadQuery(RegisterError):
    """A search that cannot be understood (code `lookup_<how>_invalid` or `lookup_unrecognised`)."""


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed search: how, and the value in its canonical form."""

    by: SearchBy
    value: Any

    @property
    def audit_target(self) -> str | None:
        """What the audit trail may name: a reference, a masked IMEI, or nothing."""
        if self.by is SearchBy.REFERENCE:
            return str(self.value)
        if self.by is SearchBy.IMEI:
            imei: Imei = self.value
            return imei.masked
        return None


@dataclass(frozen=True, slots=True)
class EventEntry:
    """A change to a report that is not a status change, for its history."""

    at: datetime
    actor: str
    kind: str
    detail: str | None


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def parse_query(text: str, by: SearchBy | None = None, *, region: str = "GB") -> Query:
    """TEXT as a search, by BY or guessed: BadQuery says what is wrong."""
    text = text.strip()
    if not text:
        raise BadQuery("lookup_empty")
    chosen = by or guess_kind(text, region)
    try:
        if chosen is SearchBy.REFERENCE:
            return Query(chosen, Reference.parse(text))
        if chosen is SearchBy.IMEI:
            return Query(chosen, Imei.parse(text))
        if chosen is SearchBy.PHONE:
            return Query(chosen, PhoneNumber.parse(text, region))
        if chosen is SearchBy.EMAIL:
            address = normalise_email(text)
            if "@" not in address or address.startswith("@") or address.endswith("@"):
                raise BadQuery("lookup_email_invalid")
            return Query(chosen, address)
        if chosen is SearchBy.NAME:
            if not has_words(text) or not name_words(text):
                raise BadQuery("lookup_name_invalid")
            return Query(chosen, text)
        return Query(chosen, normalise_crime_reference(text))
    except (InvalidReference, InvalidImei, InvalidPhone, BadCrimeReference):
        raise BadQuery(f"lookup_{chosen.value}_invalid") from None


def guess_kind(text: str, region: str = "GB") -> SearchBy:
    """How TEXT is most likely meant: see docs/staff.md, "Finding a report"."""
    if "@" in text:
        return SearchBy.EMAIL
    if text.strip().upper().startswith("SPR"):
        return SearchBy.REFERENCE
    letters = any(ch.isalpha() for ch in text)
    if letters:
        try:
            Reference.parse(text)
        except InvalidReference:
            pass
        else:
            return SearchBy.REFERENCE
        if any(ch.isdigit() for ch in text):
            return SearchBy.CRIME_REFERENCE
        return SearchBy.NAME
    if "/" in text:
        return SearchBy.CRIME_REFERENCE
    if not text.startswith("+") and len(_digits(text)) in (14, 15, 16):
        return SearchBy.IMEI
    try:
        PhoneNumber.parse(text, region)
    except InvalidPhone:
        return SearchBy.CRIME_REFERENCE
    return SearchBy.PHONE


class StaffSearch:
    """Finds reports for staff, and records every search."""

    def __init__(self, db: Database, vault: Vault, reports: ReportStore) -> None:
        """Bind to the register's database, vault and reports."""
        self.db = db
        self.vault = vault
        self.reports = reports

    async def _references(self, session: AsyncSession, query: Query) -> list[str]:
        chosen = select(col(Report.reference))
        if query.by is SearchBy.PHONE:
            phone_hash = self.reports.phone_hash(query.value)
            chosen = chosen.where(
                or_(
                    col(Report.contact_phone_hash) == phone_hash,
                    col(Report.stolen_phone_hash) == phone_hash,
                )
            )
        elif query.by is SearchBy.CRIME_REFERENCE:
            chosen = chosen.where(Report.crime_reference == query.value)
        elif query.by is SearchBy.EMAIL:
            chosen = chosen.where(
                col(Report.id).in_(self._keyed(EMAIL, [email_key(self.vault, query.value)]))
            )
        else:
            exact = list(
                (
                    await session.execute(
                        select(col(Report.reference))
                        .where(
                            col(Report.id).in_(
                                self._keyed(NAME, [name_key(self.vault, query.value)])
                            )
                        )
                        .order_by(col(Report.created_at).desc())
                        .limit(MAX_RESULTS)
                    )
                ).scalars()
            )
            if exact:
                return exact
            words = [name_word_key(self.vault, word) for word in name_words(query.value)]
            # Every word of the query must be a word of the name, in any order.
            having_all = (
                select(col(ReportKey.report_id))
                .where(col(ReportKey.kind) == NAME_WORD, col(ReportKey.key_hash).in_(words))
                .group_by(col(ReportKey.report_id))
                .having(func.count(func.distinct(ReportKey.key_hash)) == len(words))
            )
            chosen = chosen.where(col(Report.id).in_(having_all))
        rows = await session.execute(
            chosen.order_by(col(Report.created_at).desc()).limit(MAX_RESULTS)
        )
        return list(rows.scalars())

    @staticmethod
    def _keyed(kind: str, hashes: list[str]) -> Any:
        return select(col(ReportKey.report_id)).where(
            col(ReportKey.kind) == kind, col(ReportKey.key_hash).in_(hashes)
        )

    async def find(
        self, query: Query, *, actor: str, channel: str, contact_shown: bool = False
    ) -> list[ReportView]:
        """The reports QUERY finds (newest first, at most MAX_RESULTS), audited as `lookup`."""
        if query.by is SearchBy.REFERENCE:
            found = await self.reports.get(query.value)
            reports = [found] if found else []
        elif query.by is SearchBy.IMEI:
            reports = (await self.reports.find_by_imei(query.value))[:MAX_RESULTS]
        else:
            async with self.db.read() as session:
                references = await self._references(session, query)
            reports = [view for ref in references if (view := await self.reports.get(ref))]
        async with self.db.write() as session:
            record(
                session,
                actor,
                "lookup",
                query.audit_target,
                {
                    "kind": query.by.value,
                    "found": len(reports),
                    "channel": channel,
                    "contact_shown": contact_shown and bool(reports),
                },
            )
        return reports

    async def events(self, report_id: int) -> list[EventEntry]:
        """A report's changes other than status changes, oldest first."""
        async with self.db.read() as session:
            rows = await session.execute(
                select(ReportEvent)
                .where(col(ReportEvent.report_id) == report_id)
                .order_by(col(ReportEvent.at), col(ReportEvent.id))
            )
            return [EventEntry(row.at, row.actor, row.kind, row.detail) for row in rows.scalars()]
