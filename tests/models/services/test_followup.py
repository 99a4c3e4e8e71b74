"""The victim's operations on a filed report: access with a wrong-code limit, IMEI, location."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models.register import Register
from models.services.followup import Change, Denied, Granted, Limited
from models.values.coordinates import BadCoordinates
from models.values.reference import Reference
from models.values.statuses import Status
from tests.factories import imei
from tests.followup_fixtures import file_report

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_access_is_granted_denied_then_limited(register: Register) -> None:
    filed = await file_report(register)
    followup = register.followup
    granted = await followup.check_access(1, filed.reference, filed.access_code.lower(), now=NOW)
    assert isinstance(granted, Granted) and granted.report.reference == filed.reference
    results = [
        await followup.check_access(1, filed.reference, "ZZZZ-ZZZZ", now=NOW + timedelta(minutes=i))
        for i in range(5)
    ]
    assert [r.tries_left for r in results if isinstance(r, Denied)] == [4, 3, 2, 1, 0]
    limited = await followup.check_access(1, filed.reference, filed.access_code, now=NOW)
    assert limited == Limited(NOW + timedelta(hours=1))
    # Nonsense codes and unknown references are checked the same way, per chat.
    unknown = await followup.check_access(2, Reference.generate(), "not a code", now=NOW)
    assert unknown == Denied(4)
    later = await followup.check_access(
        1, filed.reference, filed.access_code, now=NOW + timedelta(hours=1)
    )
    assert isinstance(later, Granted)


async def test_add_imei_respects_room_and_status(register: Register) -> None:
    first = imei()
    filed = await file_report(register, imeis=(first,))
    second = imei()
    assert (await register.followup.add_imei(filed.reference, first)).change is Change.ALREADY
    assert (await register.followup.add_imei(filed.reference, second)).change is Change.DONE
    assert (await register.followup.add_imei(filed.reference, imei())).change is Change.FULL
    report = await register.reports.get(filed.reference)
    assert report is not None and report.imeis == [first.digits, second.digits]
    [found] = await register.reports.find_by_imei(second)
    assert found.reference == filed.reference
    missing = await register.followup.add_imei(str(Reference.generate()), imei())
    assert missing.change is Change.NOT_FOUND
    ended = await file_report(register, imeis=())
    await register.reports.change_status(ended.reference, Status.RECOVERED, actor="officer")
    assert (await register.followup.add_imei(ended.reference, imei())).change is Change.ENDED


async def test_first_imei_sets_the_tac_and_flags_duplicates(register: Register) -> None:
    shared = imei()
    other = await file_report(register, imeis=(shared,))
    filed = await file_report(register, imeis=())
    added = await register.followup.add_imei(filed.reference, shared)
    assert added.change is Change.DONE and added.duplicate_references == (other.reference,)
    report = await register.reports.get(filed.reference)
    assert report is not None and report.imei_tac == shared.tac


async def test_tracked_locations_keep_the_newest_and_a_history(register: Register) -> None:
    filed = await file_report(register)
    followup = register.followup
    pin = await followup.add_tracked_location(
        filed.reference, seen_at=NOW, latitude=51.5, longitude=-0.1
    )
    place = await followup.add_tracked_location(
        filed.reference, seen_at=NOW + timedelta(hours=1), place="Camden market"
    )
    assert pin is place is Change.DONE
    report = await register.reports.get(filed.reference)
    assert report is not None
    assert report.tracked_at == NOW + timedelta(hours=1) and report.tracked_lat is None
    assert report.get("tracked_place") == "Camden market"
    assert [entry["place"] for entry in report.get("tracked_history")] == [None, "Camden market"]
    with pytest.raises(ValueError):
        await followup.add_tracked_location(filed.reference, seen_at=NOW)


async def test_withdraw_once(register: Register) -> None:
    filed = await file_report(register)
    assert await register.followup.withdraw(filed.reference) is Change.DONE
    assert await register.followup.withdraw(filed.reference) is Change.ENDED
    assert await register.followup.withdraw(str(Reference.generate())) is Change.NOT_FOUND
    report = await register.reports.get(filed.reference)
    assert report is not None and report.status is Status.WITHDRAWN


@pytest.mark.parametrize(("lat", "lon"), [(999, -999999), (51.5, 200), (0, 0), (float("nan"), 1)])
async def test_an_impossible_tracked_pin_is_refused_and_not_stored(
    register: Register, lat: float, lon: float
) -> None:
    filed = await file_report(register)
    with pytest.raises(BadCoordinates):
        await register.followup.add_tracked_location(
            filed.reference, seen_at=NOW, latitude=lat, longitude=lon
        )
    report = await register.reports.get(filed.reference)
    assert report is not None
    assert report.tracked_lat is None and report.tracked_at is None
    assert not report.get("tracked_history")
