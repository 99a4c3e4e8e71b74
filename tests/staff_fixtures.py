"""Helpers and fixtures for the staff tools' tests: bulk reports, staff users, CLI settings."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from models.register import Register
from models.sealing.vault import KeyRing
from models.services.reports import report_context
from models.services.staff import Role
from models.storage.database import Database
from models.storage.tables import Report, ReportImei, StatusChange
from models.values.imei import Imei, luhn_check_digit
from models.values.reference import ALPHABET, PREFIX, Reference, check_character
from models.values.statuses import Status

BULK_TAC_PREFIX = "86"
ADMIN_ID = 5001
OFFICER_ID = 5002
VICTIM_ID = 5003


def bulk_imei(number: int, prefix: str = BULK_TAC_PREFIX) -> Imei:
    """The NUMBER-th IMEI of a bulk register: distinct, valid, never one the factories make."""
    body = f"{prefix}{number:012d}"
    return Imei(body + luhn_check_digit(body))


def bulk_reference(number: int) -> str:
    """The NUMBER-th reference of a bulk register (distinct for the first 28 million)."""
    chars = ""
    for _ in range(5):
        number, digit = divmod(number, len(ALPHABET))
        chars += ALPHABET[digit]
    return str(Reference(f"{PREFIX}-{chars[:4]}-{chars[4]}{check_character(chars)}"))


@dataclass(frozen=True, slots=True)
class BulkReport:
    """A report made by `bulk_reports`."""

    id: int
    reference: str
    imei: Imei


async def bulk_reports(
    register: Register,
    count: int,
    *,
    first: int = 0,
    created_at: datetime | None = None,
    status: Status = Status.SUBMITTED,
    batch: int = 5_000,
    history: bool = False,
) -> list[BulkReport]:
    """Insert COUNT sealed reports straight into the tables, fast (numbers FIRST.. onwards)."""
    created = created_at or datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    vault = register.vault
    store = register.reports
    made: list[BulkReport] = []
    for start in range(first, first + count, batch):
        numbers = range(start, min(start + batch, first + count))
        rows: list[dict[str, Any]] = []
        imeis: list[Imei] = []
        for number in numbers:
            reference = bulk_reference(number)
            imei = bulk_imei(number)
            imeis.append(imei)
            private = {
                "model": "Galaxy S23",
                "colour": "black",
                "imeis": [imei.digits],
                "stolen_number": "+447400123456",
                "network": "EE",
                "place": f"Bulk place {number}",
                "tracked_place": None,
                "contact_name": f"Bulk Person {number}",
                "contact_phone": "+447912345678",
                "contact_region": "GB",
                "contact_email": None,
                "preferred_channel": "telegram",
                "language": "en",
                "access_code": "AAAA-BBBB",
            }
            rows.append(
                {
                    "reference": reference,
                    "idempotency_key": f"bulk-{number}-{secrets.token_hex(4)}",
                    "status": status.value,
                    "created_at": created + timedelta(seconds=number),
                    "status_changed_at": created + timedelta(seconds=number),
                    "incident_at": None,
                    "make": "samsung",
                    "platform": "android",
                    "theft_method": "pickpocketed",
                    "imei_tac": imei.tac,
                    "imei_count": 1,
                    "incident_lat": 51.5,
                    "incident_lon": -0.12,
                    "tracked_lat": None,
                    "tracked_lon": None,
                    "tracked_at": None,
                    "own_account": False,
                    "contact_phone_hash": None,
                    "stolen_phone_hash": None,
                    "access_code_hash": "0" * 32,
                    "sealed": vault.seal_json(private, context=report_context(reference)),
                }
            )
        async with register.db.write() as session:
            # RETURNING without an order guarantee lets SQLAlchemy batch many rows a statement.
            returned = await session.execute(
                insert(Report.__table__).returning(
                    Report.__table__.c.reference, Report.__table__.c.id
                ),
                rows,
            )
            id_of = {reference: report_id for reference, report_id in returned}
            ids = [id_of[row["reference"]] for row in rows]
            await session.execute(
                insert(ReportImei.__table__),
                [
                    {"report_id": report_id, "slot": 1, "imei_hash": store.imei_hash(imei)}
                    for report_id, imei in zip(ids, imeis, strict=True)
                ],
            )
            if history:
                await session.execute(
                    insert(StatusChange.__table__),
                    [
                        {
                            "report_id": report_id,
                            "status": status.value,
                            "changed_at": created,
                            "actor": "victim",
                        }
                        for report_id in ids
                    ],
                )
        made += [
            BulkReport(report_id, row["reference"], imei)
            for report_id, row, imei in zip(ids, rows, imeis, strict=True)
        ]
    return made


@pytest.fixture
def cli_env(
    register: Register, ring: KeyRing, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> dict[str, str]:
    """Point the CLI's settings at the test's database and keys; returns the variables."""
    database: Database = register.db
    env = {
        "DATABASE_URL": database.url.render_as_string(hide_password=False),
        **ring.to_env(),
        "DATA_DIR": str(tmp_path / "cli-data"),
    }
    if database.schema:
        env["DATABASE_SCHEMA"] = database.schema
    else:
        monkeypatch.delenv("DATABASE_SCHEMA", raising=False)
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def staff_member(register: Register, make_user) -> Callable[..., Any]:
    """Make a user of the given role (or None for nobody) talking in a private chat or a group."""

    async def make(
        role: Role | None, *, user_id: int | None = None, chat_type: str = "private"
    ) -> Any:
        default = {Role.ADMIN: ADMIN_ID, Role.OFFICER: OFFICER_ID, None: VICTIM_ID}[role]
        uid = user_id or default
        if role is not None:
            await register.staff.add(uid, role, added_by="test")
        if chat_type == "private":
            return make_user(user_id=uid)
        return make_user(user_id=uid, chat_id=-100 - uid, chat_type=chat_type)

    return make
