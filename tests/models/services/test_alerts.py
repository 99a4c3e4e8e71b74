"""Staff alerts: duplicate IMEIs flagged on both reports, tracked clusters, and their delivery."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from models.errors import RegisterError
from models.register import Register, RegisterConfig
from models.services.alerts import (
    CLUSTER,
    CLUSTER_GREW,
    DUPLICATE_IMEI,
    ClusterRule,
    NotStaff,
    alert_context,
)
from models.services.staff import Role
from models.storage.columns import utcnow
from models.storage.tables import Notification, Report, TrackedCluster
from models.values.earth import METRES_PER_DEGREE
from models.values.statuses import Status
from tests.factories import audit_events, imei, new_report, rows, set_report_columns
from tests.followup_fixtures import FakeClock, TelegramScript, dispatcher

OFFICER, ADMIN, QUIET = 7001, 7002, 7003
# A stash in north London, and a point 150 m north of it.
STASH = (51.54420, -0.10260)


def north(metres: float, of: tuple[float, float] = STASH) -> tuple[float, float]:
    """The point METRES north of OF."""
    return of[0] + metres / METRES_PER_DEGREE, of[1]


@pytest.fixture
async def staff(register: Register) -> Register:
    """Three staff members; the officer and the admin get alerts, the third does not."""
    for user_id, role in ((OFFICER, Role.OFFICER), (ADMIN, Role.ADMIN), (QUIET, Role.OFFICER)):
        await register.staff.add(user_id, role, added_by="test")
    await register.alerts.subscribe(OFFICER, True, actor="test")
    await register.alerts.subscribe(ADMIN, True, actor="test")
    return register


async def alerts(register: Register, kind: str | None = None) -> list[Notification]:
    """The alert rows of the outbox (of one KIND), oldest first."""
    found = await rows(register.db, Notification)
    return [row for row in found if row.kind.startswith("alert:") and kind in (None, row.kind)]


def params(register: Register, row: Notification) -> dict:
    """An alert's sealed parameters."""
    assert row.payload is not None
    return register.vault.open_json(row.payload, context=alert_context(row.event_key))


# --- subscribing ----------------------------------------------------------------------


async def test_subscribe_on_and_off_is_stored_and_audited(register: Register) -> None:
    await register.staff.add(OFFICER, Role.OFFICER, added_by="test")
    assert await register.alerts.subscribed(OFFICER) is False

    first = await register.alerts.subscribe(OFFICER, True, actor="tg:7001")
    again = await register.alerts.subscribe(OFFICER, True, actor="tg:7001")
    assert (first.on, first.changed, again.changed) == (True, True, False)
    assert await register.alerts.subscribed(OFFICER) is True
    off = await register.alerts.subscribe(OFFICER, False, actor="cli:ops")
    assert (off.on, off.changed) == (False, True)
    assert await register.alerts.subscribed(OFFICER) is False

    events = await audit_events(register.db, "staff_alerts")
    assert [(e.actor, e.target, json.loads(e.details)) for e in events] == [
        ("tg:7001", "7001", {"alerts": True}),
        ("tg:7001", "7001", {"alerts": True}),
        ("cli:ops", "7001", {"alerts": False}),
    ]


async def test_only_staff_can_subscribe(register: Register) -> None:
    with pytest.raises(NotStaff) as caught:
        await register.alerts.subscribe(999, True, actor="test")
    assert isinstance(caught.value, RegisterError)
    assert (caught.value.code, caught.value.params) == ("not_staff", {"user_id": 999})
    assert await register.alerts.subscribed(999) is None


# --- duplicate IMEIs --------------------------------------------------------------------


async def test_duplicate_imei_flags_both_reports_and_alerts_subscribed_staff(
    staff: Register,
) -> None:
    register = staff
    shared = imei()
    first = await register.reports.file(new_report(imeis=(shared,)), "first")
    assert await alerts(register) == []
    second = await register.reports.file(
        new_report(imeis=(imei(), shared), place="Leicester Square"), "second"
    )

    both = {row.reference: row for row in await rows(register.db, Report)}
    assert both[first.reference].duplicate_imei_at is not None
    assert both[second.reference].duplicate_imei_at is not None
    queued = await alerts(register, DUPLICATE_IMEI)
    assert sorted(row.chat_id for row in queued) == [OFFICER, ADMIN]
    assert {row.report_id for row in queued} == {second.report_id}
    assert all(row.state == "pending" for row in queued)
    assert params(register, queued[0]) == {
        "reference": second.reference,
        "imei": shared.masked,
        "others": first.reference,
        "place": "Leicester Square",
    }
    # Sealed: neither the IMEI nor the place is readable in the row.
    assert shared.tac.encode() not in queued[0].payload
    assert b"Leicester" not in queued[0].payload

    first_view = await register.reports.get(first.reference)
    second_view = await register.reports.get(second.reference)
    assert first_view is not None and second_view is not None
    assert first_view.duplicates == [second.reference]
    assert second_view.duplicates == [first.reference]


async def test_an_imei_only_in_ended_reports_is_no_duplicate(staff: Register) -> None:
    register = staff
    shared = imei()
    old = await register.reports.file(new_report(imeis=(shared,)), "old")
    await register.reports.change_status(old.reference, Status.CLOSED, actor="test")
    again = await register.reports.file(new_report(imeis=(shared,)), "again")

    assert await alerts(register) == []
    view = await register.reports.get(again.reference)
    assert view is not None and view.duplicate_imei_at is None and view.duplicates == []


async def test_a_duplicate_added_later_through_status_is_flagged_too(staff: Register) -> None:
    register = staff
    shared = imei()
    first = await register.reports.file(new_report(imeis=(shared,)), "first")
    later = await register.reports.file(
        new_report(imeis=(), place=None, incident_lat=51.5, incident_lon=-0.1), "later"
    )

    added = await register.followup.add_imei(later.reference, shared)

    assert added.duplicate_references == (first.reference,)
    queued = await alerts(register, DUPLICATE_IMEI)
    assert len(queued) == 2
    assert params(register, queued[0]) == {
        "reference": later.reference,
        "imei": shared.masked,
        "others": first.reference,
        "place": "51.50000, -0.10000",
    }
    views = [await register.reports.get(ref) for ref in (first.reference, later.reference)]
    assert all(view is not None and view.duplicate_imei_at for view in views)


async def test_no_subscriber_still_flags_the_reports(register: Register) -> None:
    shared = imei()
    await register.reports.file(new_report(imeis=(shared,)), "a")
    await register.reports.file(new_report(imeis=(shared,)), "b")
    flagged = [row.duplicate_imei_at for row in await rows(register.db, Report)]
    assert all(flagged) and len(flagged) == 2
    assert await alerts(register) == []


# --- tracked clusters -------------------------------------------------------------------


async def file_tracked(
    register: Register, key: str, where: tuple[float, float], hours_ago: float = 1
) -> str:
    """File a report whose phone was tracked at WHERE, HOURS_AGO."""
    report = new_report(
        tracked_lat=where[0], tracked_lon=where[1], tracked_at=utcnow() - timedelta(hours=hours_ago)
    )
    return (await register.reports.file(report, key)).reference


async def test_a_cluster_alerts_once_then_again_when_it_doubles(staff: Register) -> None:
    register = staff
    refs = [await file_tracked(register, "t0", STASH)]
    refs.append(await file_tracked(register, "t1", north(150)))
    assert await alerts(register) == []

    refs.append(await file_tracked(register, "t2", north(60)))
    (first, _) = queued = await alerts(register, CLUSTER)
    assert sorted(row.chat_id for row in queued) == [OFFICER, ADMIN]
    sent = params(register, first)
    assert sent["reports"] == 3 and sent["radius"] == "200" and sent["hours"] == "72"
    assert sent["references"] == ", ".join(sorted(refs))
    assert sent["reference"] == refs[2]
    lat, lon = (float(part) for part in sent["place"].split(","))
    assert lat == pytest.approx(north(70)[0], abs=1e-5) and lon == pytest.approx(STASH[1])

    # The fourth and fifth phones at the stash grow the cluster without a new alert.
    for n in (3, 4):
        refs.append(await file_tracked(register, f"t{n}", north(10 * n)))
    assert len(await alerts(register)) == 2
    (cluster,) = await rows(register.db, TrackedCluster)
    assert (cluster.reports, cluster.alerted_reports) == (5, 3)

    # The sixth doubles it: staff hear that it grew.
    refs.append(await file_tracked(register, "t5", north(20)))
    grew = await alerts(register, CLUSTER_GREW)
    assert len(grew) == 2 and params(register, grew[0])["reports"] == 6
    (cluster,) = await rows(register.db, TrackedCluster)
    assert (cluster.reports, cluster.alerted_reports) == (6, 6)
    events = await audit_events(register.db, "tracked_cluster")
    assert [json.loads(e.details)["kind"] for e in events] == [CLUSTER, CLUSTER_GREW]


async def test_far_old_or_withdrawn_sightings_do_not_make_a_cluster(staff: Register) -> None:
    register = staff
    await file_tracked(register, "near", STASH)
    await file_tracked(register, "too-far", north(450))  # beyond 200 m of the third
    await file_tracked(register, "too-old", north(10), hours_ago=100)  # outside 72 h
    withdrawn = await file_tracked(register, "withdrawn", north(20))
    await register.reports.change_status(withdrawn, Status.WITHDRAWN, actor="victim")

    await file_tracked(register, "third", north(30))

    assert await alerts(register) == []
    assert await rows(register.db, TrackedCluster) == []


async def test_a_tracked_location_added_later_can_complete_a_cluster(staff: Register) -> None:
    register = staff
    await file_tracked(register, "a", STASH)
    await file_tracked(register, "b", north(50))
    later = (await register.reports.file(new_report(), "c")).reference

    await register.followup.add_tracked_location(
        later, seen_at=utcnow(), latitude=north(100)[0], longitude=STASH[1]
    )

    (row, _) = await alerts(register, CLUSTER)
    assert params(register, row)["reference"] == later


async def test_the_rule_comes_from_the_register_config(register: Register) -> None:
    strict = Register(
        register.db,
        register.vault,
        RegisterConfig(cluster_rule=ClusterRule(min_reports=2, radius_metres=50)),
    )
    await strict.staff.add(OFFICER, Role.OFFICER, added_by="test")
    await strict.alerts.subscribe(OFFICER, True, actor="test")
    await file_tracked(strict, "a", STASH)
    await file_tracked(strict, "b", north(80))  # 80 m: beyond this rule's 50 m
    assert await alerts(strict) == []
    await file_tracked(strict, "c", north(40))  # 40 m from each: both are near it
    (row,) = await alerts(strict, CLUSTER)
    assert params(strict, row)["reports"] == 3 and params(strict, row)["radius"] == "50"


def test_rules_that_would_alert_on_everything_are_refused() -> None:
    for bad in (
        {"min_reports": 1},
        {"radius_metres": 0},
        {"window": timedelta(0)},
    ):
        with pytest.raises(ValueError):
            ClusterRule(**bad)  # type: ignore[arg-type]


# --- delivery ---------------------------------------------------------------------------


async def test_alerts_reach_staff_in_english_without_personal_data(
    staff: Register, application, api
) -> None:
    register = staff
    clock = FakeClock()
    script = TelegramScript(clock)
    api.on_call = script
    shared = imei()
    first = await register.reports.file(new_report(imeis=(shared,), language="es"), "a")
    second = await register.reports.file(
        new_report(imeis=(shared,), place="Oxford Circus <north exit>", language="es"), "b"
    )
    # The admin turns alerts off before delivery: theirs is not sent.
    await register.alerts.subscribe(ADMIN, False, actor="test")

    await dispatcher(register, application, clock).drain()

    (message,) = script.sent
    assert message.chat_id == OFFICER
    assert "Duplicate IMEI" in message.text
    assert second.reference in message.text and first.reference in message.text
    assert shared.masked in message.text and shared.digits not in message.text
    assert "Oxford Circus &lt;north exit&gt;" in message.text
    for personal in ("Alex Example", "+447912345678", "alex@example.org", "07400"):
        assert personal not in message.text
    states = {row.chat_id: (row.state, row.last_error) for row in await alerts(register)}
    assert states[OFFICER] == ("delivered", None)
    assert states[ADMIN] == ("cancelled", "not sent: subscription ended (staff alerts off)")


async def test_removed_staff_get_no_alert(staff: Register, application, api) -> None:
    register = staff
    clock = FakeClock()
    script = TelegramScript(clock)
    api.on_call = script
    shared = imei()
    await register.reports.file(new_report(imeis=(shared,)), "a")
    await register.reports.file(new_report(imeis=(shared,)), "b")
    await register.staff.remove(OFFICER, removed_by="test")

    await dispatcher(register, application, clock).drain()

    assert [message.chat_id for message in script.sent] == [ADMIN]


async def test_cluster_alert_text(staff: Register, application, api) -> None:
    register = staff
    clock = FakeClock()
    script = TelegramScript(clock)
    api.on_call = script
    refs = [await file_tracked(register, f"t{n}", north(30 * n)) for n in range(3)]
    await set_report_columns(register.db, refs[0], status=Status.LOCATED.value)

    await dispatcher(register, application, clock).drain()

    texts = {message.chat_id: message.text for message in script.sent}
    assert set(texts) == {OFFICER, ADMIN}
    assert "Tracked cluster" in texts[OFFICER]
    assert "3 reports' phones were tracked within 200 m" in texts[OFFICER]
    assert all(ref in texts[OFFICER] for ref in refs)
