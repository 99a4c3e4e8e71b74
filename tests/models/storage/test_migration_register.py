"""The `register` migration gives reports filed before it what the new columns mean for them."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from sqlalchemy import select

from models.storage.database import Database, alembic_config
from models.storage.tables import Report
from tests.conftest import DatabaseFactory

TAKEN = datetime(2026, 3, 1, 18, 15, tzinfo=UTC)
# The shape of a sealed value (version, key id length, key id, nonce, tag): later migrations
# read the key id from it.
SEALED = bytes([1, 2]) + b"k1" + bytes(28)


async def _upgrade_to(database: Database, revision: str) -> None:
    def run(sync_connection: sa.Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = sync_connection
        command.upgrade(config, revision)

    async with database.write_engine.begin() as connection:
        await connection.run_sync(run)


async def test_old_reports_get_their_window_kind_and_point_source(
    databases: DatabaseFactory,
) -> None:
    database = await databases.create(migrate=False)
    await _upgrade_to(database, "0001")
    old = sa.table(
        "report",
        *(
            sa.column(name)
            for name in (
                "reference", "idempotency_key", "status", "created_at", "status_changed_at",
                "incident_at", "make", "platform", "theft_method", "imei_count",
                "incident_lat", "incident_lon", "tracked_lat", "tracked_lon", "own_account",
                "access_code_hash", "sealed",
            )
        ),
    )  # fmt: skip
    rows = [
        ("SPR-AAAA-A1", TAKEN, "force", 51.5, -0.1, None),
        ("SPR-AAAA-A2", None, "lost", None, None, 51.52),
        ("SPR-AAAA-A3", TAKEN, "snatched_moped", None, None, None),
        ("SPR-AAAA-A4", None, None, None, None, None),
    ]
    async with database.write_engine.begin() as connection:
        for reference, taken, method, lat, lon, tracked in rows:
            await connection.execute(
                old.insert().values(
                    reference=reference,
                    idempotency_key=reference,
                    status="submitted",
                    created_at=TAKEN.replace(tzinfo=None),
                    status_changed_at=TAKEN.replace(tzinfo=None),
                    incident_at=taken.replace(tzinfo=None) if taken else None,
                    make="apple",
                    platform="iphone",
                    theft_method=method,
                    imei_count=0,
                    incident_lat=lat,
                    incident_lon=lon,
                    tracked_lat=tracked,
                    tracked_lon=-0.1 if tracked else None,
                    own_account=False,
                    access_code_hash="x",
                    sealed=SEALED,
                )
            )

    await database.upgrade()

    async with database.read() as session:
        found = {
            report.reference: report for report in (await session.execute(select(Report))).scalars()
        }
    robbery, lost, snatched, unknown = (found[row[0]] for row in rows)
    assert (robbery.incident_from, robbery.incident_to) == (TAKEN, TAKEN)
    assert robbery.loss_kind == "robbery"
    assert (robbery.incident_point_source, robbery.incident_point_precision) == ("pin", "pin")
    assert robbery.tracked_point_source is None
    assert (lost.loss_kind, lost.incident_from, lost.incident_point_source) == ("lost", None, None)
    assert (lost.tracked_point_source, lost.tracked_point_precision) == ("pin", "pin")
    assert snatched.loss_kind == "theft_from_person"
    assert (unknown.loss_kind, unknown.incident_from, unknown.search_keys_version) == (
        None,
        None,
        0,
    )
