"""Builders for test data: valid IMEIs, phone numbers, new reports and updates."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from typing import Any

from sqlalchemy import select, update
from telegram import Bot, Update

from models.services.reports import NewReport
from models.storage.database import Database
from models.storage.tables import AuditEvent, Report, Subscription
from models.values.imei import Imei, luhn_check_digit
from models.values.phone import PhoneNumber

_counter = itertools.count(1)


def text_update(
    text: str, bot: Bot | None = None, *, language_code: str | None = None, **message: Any
) -> Update:
    """User 1's text message in their private chat, as Telegram delivers it (MESSAGE: more)."""
    user: dict[str, Any] = {"id": 1, "is_bot": False, "first_name": "A"}
    if language_code:
        user["language_code"] = language_code
    return Update.de_json(
        {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": 1, "type": "private"},
                "from": user,
                "text": text,
                **message,
            },
        },
        bot,
    )


def imei(seed: int | None = None) -> Imei:
    """A valid, distinct IMEI (deterministic for a given seed)."""
    rng = random.Random(seed if seed is not None else next(_counter) * 7919)
    body = "35" + "".join(rng.choice("0123456789") for _ in range(12))
    return Imei.parse(body + luhn_check_digit(body))


def new_report(**overrides: Any) -> NewReport:
    """A complete report as the conversation would build it."""
    base = NewReport(
        make="apple",
        model="iPhone 15",
        colour="blue, cracked corner",
        imeis=(imei(),),
        stolen_number=PhoneNumber.parse("07400 123456"),
        network="Vodafone",
        theft_method="snatched_moped",
        place="Oxford Street by Bond Street station",
        incident_lat=51.5142,
        incident_lon=-0.1494,
        contact_name="Alex Example",
        contact_phone=PhoneNumber.parse("07912 345678"),
        contact_email="alex@example.org",
        preferred_channel="email",
    )
    return replace(base, **overrides)


async def set_report_columns(db: Database, reference: str, **columns: Any) -> None:
    """Overwrite a report's plain columns directly (to backdate it, or set its status)."""
    async with db.write() as session:
        await session.execute(update(Report).where(Report.reference == reference).values(**columns))


async def subscribe(db: Database, report_id: int, chat_id: int, *, active: bool = True) -> None:
    """Subscribe CHAT_ID to a report's updates, as /status or the filing chat would."""
    async with db.write() as session:
        session.add(Subscription(report_id=report_id, chat_id=chat_id, via="test", active=active))


async def rows(db: Database, table: type, *conditions: Any) -> list[Any]:
    """Every row of TABLE (matching CONDITIONS), by primary key."""
    async with db.read() as session:
        query = select(table).where(*conditions)
        for column in table.__table__.primary_key.columns:
            query = query.order_by(column)
        return list((await session.execute(query)).scalars())


async def audit_events(db: Database, action: str | None = None) -> list[AuditEvent]:
    """The audit trail (of one ACTION when given), oldest first."""
    conditions = [AuditEvent.action == action] if action else []
    return await rows(db, AuditEvent, *conditions)


def database_environment(db: Database) -> dict[str, str]:
    """The DATABASE_URL (and DATABASE_SCHEMA) that make the settings open DB."""
    environment = {"DATABASE_URL": db.url.render_as_string(hide_password=False)}
    if db.schema:
        environment["DATABASE_SCHEMA"] = db.schema
    return environment
