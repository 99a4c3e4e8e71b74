"""Register statistics: per day (UTC), by status, by method, shares."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from models.register import Register
from models.values.statuses import Status
from tests.factories import imei, new_report, set_report_columns

NOW = datetime(2026, 3, 31, 10, 0, tzinfo=UTC)


async def file_at(register: Register, key: str, created: datetime, **overrides) -> str:
    filed = await register.reports.file(new_report(**overrides), key)
    await set_report_columns(register.db, filed.reference, created_at=created)
    return filed.reference


async def test_empty_register(register: Register) -> None:
    stats = await register.stats.compute(NOW)

    assert stats.total == 0
    assert len(stats.per_day) == 30
    assert stats.per_day[0] == (date(2026, 3, 2), 0)
    assert stats.per_day[-1] == (date(2026, 3, 31), 0)
    assert dict(stats.by_status) == {status.value: 0 for status in Status}
    assert stats.by_method == []
    assert (stats.imei_share, stats.tracked_share) == (0.0, 0.0)


async def test_counts_per_day_status_method_and_shares(register: Register) -> None:
    late_evening = datetime(2026, 3, 30, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    await file_at(register, "a", datetime(2026, 3, 31, 0, 5, tzinfo=UTC))
    await file_at(register, "b", late_evening)  # 04:30 UTC on the 31st
    await file_at(register, "c", datetime(2026, 3, 2, 0, 0, tzinfo=UTC), theft_method=None)
    old = await file_at(register, "d", datetime(2026, 3, 1, 23, 59, tzinfo=UTC), imeis=())
    tracked = await file_at(
        register,
        "e",
        datetime(2026, 3, 15, 12, tzinfo=UTC),
        imeis=(imei(),),
        theft_method="pickpocketed",
        tracked_lat=51.5,
        tracked_lon=-0.1,
        tracked_at=datetime(2026, 3, 15, 13, tzinfo=UTC),
    )
    await register.reports.change_status(old, Status.CLOSED, actor="t")
    await register.reports.change_status(tracked, Status.LOCATED, actor="t")

    stats = await register.stats.compute(NOW)

    per_day = dict(stats.per_day)
    assert per_day[date(2026, 3, 31)] == 2
    assert per_day[date(2026, 3, 15)] == 1
    assert per_day[date(2026, 3, 2)] == 1
    assert date(2026, 3, 1) not in per_day  # 31 days ago: outside the window
    assert stats.last_days_total == 4
    assert stats.total == 5
    assert dict(stats.by_status) == {
        "submitted": 3,
        "under_review": 0,
        "located": 1,
        "recovered": 0,
        "returned": 0,
        "closed": 1,
        "withdrawn": 0,
    }
    assert stats.by_method == [("snatched_moped", 3), ("pickpocketed", 1), (None, 1)]
    assert stats.with_imei == 4
    assert stats.imei_share == 80.0
    assert stats.with_tracked == 1
    assert stats.tracked_share == 20.0


async def test_a_period_counts_only_its_own_reports(register: Register) -> None:
    await file_at(register, "before", datetime(2026, 3, 9, 23, 59, tzinfo=UTC))
    await file_at(register, "first", datetime(2026, 3, 10, 0, 0, tzinfo=UTC), imeis=())
    await file_at(register, "last", datetime(2026, 3, 12, 23, 59, tzinfo=UTC), theft_method=None)
    await file_at(register, "after", datetime(2026, 3, 13, 0, 0, tzinfo=UTC))

    stats = await register.stats.for_period(date(2026, 3, 10), date(2026, 3, 12))

    assert stats.per_day == [(date(2026, 3, 10), 1), (date(2026, 3, 11), 0), (date(2026, 3, 12), 1)]
    assert stats.total == 2
    assert dict(stats.by_status)["submitted"] == 2
    assert stats.by_method == [("snatched_moped", 1), (None, 1)]
    assert (stats.with_imei, stats.imei_share) == (1, 50.0)
