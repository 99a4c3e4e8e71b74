"""Tests for the register's core operations: file, find, verify, move, stream, match, delete."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.register import Register
from models.sealing.vault import KeyRing, Vault
from models.services.reports import (
    MATCH_CHUNK,
    InvalidTransition,
    NewReport,
    ReportNotFound,
    ReportStore,
)
from models.storage.database import Database
from models.storage.tables import (
    DeliveryAttempt,
    Notification,
    Report,
    ReportImei,
    StatusChange,
    Subscription,
)
from models.values.imei import Imei
from models.values.phone import PhoneNumber
from models.values.reference import Reference, normalise_access_code
from models.values.statuses import NOTIFY_VICTIM, TRANSITIONS, Status
from tests.factories import (
    audit_events,
    imei,
    new_report,
    rows,
    set_report_columns,
    subscribe,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


# --- filing and reading back -------------------------------------------------------------


async def test_file_stores_everything_and_get_returns_it(register: Register) -> None:
    first, second = imei(), imei()
    incident = datetime(2026, 2, 27, 18, 30, tzinfo=UTC)
    tracked = datetime(2026, 2, 27, 19, 5, tzinfo=UTC)
    new = new_report(
        make="samsung",
        model="Galaxy S24",
        colour="black",
        imeis=(first, second),
        incident_at=incident,
        tracked_place="Brick Lane, by the market",
        tracked_lat=51.5215,
        tracked_lon=-0.0717,
        tracked_at=tracked,
        own_account=True,
        language="fr",
    )

    filed = await register.reports.file(new, "key-everything")

    assert filed.created
    assert filed.duplicate_imei_references == ()
    Reference.parse(filed.reference)  # a well-formed reference with a valid check character
    assert normalise_access_code(filed.access_code) == filed.access_code
    view = await register.reports.get(filed.reference)
    assert view is not None
    assert view.id == filed.report_id
    assert view.reference == filed.reference
    assert view.status is Status.SUBMITTED
    assert view.make == "samsung"
    assert view.platform == "android"
    assert view.theft_method == "snatched_moped"
    assert view.imei_tac == first.tac
    assert view.imeis == [first.digits, second.digits]
    assert view.incident_at == incident
    assert (view.incident_lat, view.incident_lon) == (51.5142, -0.1494)
    assert (view.tracked_lat, view.tracked_lon, view.tracked_at) == (51.5215, -0.0717, tracked)
    assert view.own_account is True
    assert view.created_at.tzinfo is not None
    assert view.status_changed_at.tzinfo is not None
    assert view.get("model") == "Galaxy S24"
    assert view.get("colour") == "black"
    assert view.get("place") == "Oxford Street by Bond Street station"
    assert view.get("tracked_place") == "Brick Lane, by the market"
    assert view.get("stolen_number") == "+447400123456"
    assert view.get("network") == "Vodafone"
    assert view.get("contact_name") == "Alex Example"
    assert view.get("contact_phone") == "+447912345678"
    assert view.get("contact_region") == "GB"
    assert view.get("contact_email") == "alex@example.org"
    assert view.get("preferred_channel") == "email"
    assert view.get("language") == "fr"
    assert view.get("nothing such") is None
    assert [(entry.status, entry.actor, entry.note) for entry in view.history] == [
        (Status.SUBMITTED, "victim", None)
    ]
    (stored,) = await rows(register.db, Report)
    assert stored.imei_count == 2
    assert stored.contact_phone_hash == register.reports.phone_hash(new.contact_phone)
    assert stored.stolen_phone_hash == register.reports.phone_hash(new.stolen_number)
    slots = await rows(register.db, ReportImei)
    assert [(slot.slot, slot.imei_hash) for slot in slots] == [
        (1, register.reports.imei_hash(first)),
        (2, register.reports.imei_hash(second)),
    ]


async def test_file_minimal_report(register: Register) -> None:
    new = NewReport(
        make="other",
        contact_name="Sam",
        contact_phone=PhoneNumber.parse("+33 6 12 34 56 78"),
    )

    filed = await register.reports.file(new, "key-minimal")

    view = await register.reports.get(filed.reference)
    assert view is not None
    assert view.platform == "other"
    assert view.imeis == []
    assert view.imei_tac is None
    assert view.incident_at is None
    assert view.get("contact_region") == "FR"
    assert view.get("stolen_number") is None
    (stored,) = await rows(register.db, Report)
    assert stored.imei_count == 0
    assert stored.stolen_phone_hash is None


async def test_platform_follows_make_unless_given(register: Register) -> None:
    cases = [
        ("apple", None, "iphone"),
        ("google", None, "android"),
        ("samsung", None, "android"),
        ("nokia", None, "other"),
        ("other", "android", "android"),
    ]
    for make, platform, expected in cases:
        filed = await register.reports.file(new_report(make=make, platform=platform), make)

        view = await register.reports.get(filed.reference)
        assert view is not None
        assert (view.make, view.platform) == (make, expected)


async def test_get_unknown_reference_is_none(register: Register) -> None:
    assert await register.reports.get(Reference.generate()) is None
    assert await register.reports.get("not a reference") is None


async def test_get_accepts_a_reference_object(register: Register) -> None:
    filed = await register.reports.file(new_report(), "key")

    view = await register.reports.get(Reference.parse(filed.reference.lower()))

    assert view is not None
    assert view.id == filed.report_id


# --- idempotency -------------------------------------------------------------------------


async def test_same_key_filed_twice_gives_one_report(register: Register) -> None:
    new = new_report()

    first = await register.reports.file(new, "key-twice")
    again = await register.reports.file(new, "key-twice")

    assert first.created and not again.created
    assert (again.report_id, again.reference, again.access_code) == (
        first.report_id,
        first.reference,
        first.access_code,
    )
    assert await register.reports.count() == 1
    assert len(await rows(register.db, StatusChange)) == 1
    assert len(await rows(register.db, ReportImei)) == 1


async def test_same_key_filed_concurrently_gives_one_report(register: Register) -> None:
    new = new_report()

    outcomes = await asyncio.gather(
        *(register.reports.file(new, "key-concurrent") for _ in range(10))
    )

    assert {(o.report_id, o.reference, o.access_code) for o in outcomes} == {
        (outcomes[0].report_id, outcomes[0].reference, outcomes[0].access_code)
    }
    assert sum(outcome.created for outcome in outcomes) == 1
    assert await register.reports.count() == 1
    assert len(await rows(register.db, StatusChange)) == 1
    assert len(await rows(register.db, ReportImei)) == 1
    assert await register.reports.verify_access(outcomes[0].reference, outcomes[0].access_code)


async def test_different_keys_concurrently_give_distinct_reports(register: Register) -> None:
    outcomes = await asyncio.gather(
        *(register.reports.file(new_report(), f"key-{n}") for n in range(10))
    )

    assert all(outcome.created for outcome in outcomes)
    assert len({outcome.reference for outcome in outcomes}) == 10
    assert len({outcome.access_code for outcome in outcomes}) == 10
    assert await register.reports.count() == 10


# --- finding by IMEI and duplicates --------------------------------------------------------


async def test_find_by_imei_matches_either_slot(register: Register) -> None:
    shared, other, unrelated = imei(), imei(), imei()
    older = await register.reports.file(new_report(imeis=(shared,)), "key-older")
    newer = await register.reports.file(new_report(imeis=(other, shared)), "key-newer")
    await set_report_columns(register.db, older.reference, created_at=T0)
    await set_report_columns(register.db, newer.reference, created_at=T0 + timedelta(hours=1))
    await register.reports.file(new_report(imeis=(unrelated,)), "key-unrelated")

    by_shared = await register.reports.find_by_imei(shared)
    by_second_slot = await register.reports.find_by_imei(other)

    assert [view.reference for view in by_shared] == [newer.reference, older.reference]
    assert [view.reference for view in by_second_slot] == [newer.reference]
    assert by_shared[0].imeis == [other.digits, shared.digits]
    assert [entry.status for entry in by_shared[0].history] == [Status.SUBMITTED]
    assert await register.reports.find_by_imei(imei()) == []


async def test_find_by_imei_accepts_any_typed_form(register: Register) -> None:
    phone_imei = imei()
    filed = await register.reports.file(new_report(imeis=(phone_imei,)), "key")
    typed = Imei.parse(" ".join([phone_imei.digits[:6], phone_imei.digits[6:14]]))  # 14 digits

    assert [view.reference for view in await register.reports.find_by_imei(typed)] == [
        filed.reference
    ]


async def test_same_imei_in_open_report_is_flagged(register: Register) -> None:
    shared = imei()
    first = await register.reports.file(new_report(imeis=(shared,)), "key-first")
    second = await register.reports.file(new_report(imeis=(imei(), shared)), "key-second")

    assert first.duplicate_imei_references == ()
    assert second.duplicate_imei_references == (first.reference,)
    (event,) = await audit_events(register.db, "duplicate_imei")
    assert event.actor == "system"
    assert event.target == second.reference
    assert json.loads(event.details) == {"open": [first.reference]}
    assert shared.digits not in event.details


async def test_duplicate_lists_every_open_report_once(register: Register) -> None:
    a, b = imei(), imei()
    one = await register.reports.file(new_report(imeis=(a, b)), "key-1")
    two = await register.reports.file(new_report(imeis=(b,)), "key-2")

    three = await register.reports.file(new_report(imeis=(a, b)), "key-3")

    assert three.duplicate_imei_references == tuple(sorted([one.reference, two.reference]))


async def test_same_imei_in_ended_report_is_not_flagged(register: Register) -> None:
    shared = imei()
    ended = await register.reports.file(new_report(imeis=(shared,)), "key-ended")
    await register.reports.change_status(ended.reference, Status.WITHDRAWN, actor="victim")

    again = await register.reports.file(new_report(imeis=(shared,)), "key-again")

    assert again.duplicate_imei_references == ()
    assert await audit_events(register.db, "duplicate_imei") == []


async def test_refiling_the_same_key_does_not_flag_itself(register: Register) -> None:
    new = new_report()
    await register.reports.file(new, "key")

    again = await register.reports.file(new, "key")

    assert again.duplicate_imei_references == ()
    assert await audit_events(register.db, "duplicate_imei") == []


# --- access codes ------------------------------------------------------------------------


async def test_verify_access(register: Register) -> None:
    filed = await register.reports.file(new_report(), "key")
    other = await register.reports.file(new_report(), "key-other")
    code = filed.access_code
    loose = code.lower().replace("-", " ")

    right = await register.reports.verify_access(filed.reference, code)
    assert right is not None
    assert right.reference == filed.reference
    assert right.get("contact_name") == "Alex Example"
    assert await register.reports.verify_access(Reference.parse(filed.reference), loose)
    assert await register.reports.verify_access(filed.reference, other.access_code) is None
    assert await register.reports.verify_access(other.reference, code) is None
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    assert await register.reports.verify_access(filed.reference, wrong) is None
    for malformed in ("", "123", "IIII-OOOO", code + "X", "<b>code</b>", "Ｋ" * 40):
        assert await register.reports.verify_access(filed.reference, malformed) is None
    assert await register.reports.verify_access(Reference.generate(), code) is None
    assert await register.reports.verify_access("garbage", code) is None


async def test_access_code_is_not_stored_in_plain(register: Register) -> None:
    filed = await register.reports.file(new_report(), "key")

    (stored,) = await rows(register.db, Report)

    assert filed.access_code not in stored.access_code_hash
    assert filed.access_code.encode() not in stored.sealed


# --- status changes ----------------------------------------------------------------------


async def test_every_transition_allowed_or_refused_by_the_rules(register: Register) -> None:
    """All 49 (from, to) pairs on one database: the allowed ones move, the others change nothing."""
    allowed_moves = 0
    notified_moves = 0
    for current in Status:
        for wanted in Status:
            filed = await register.reports.file(new_report(), f"key-{current}-{wanted}")
            await set_report_columns(register.db, filed.reference, status=current.value)
            await subscribe(register.db, filed.report_id, 1000 + filed.report_id)
            case = f"{current} -> {wanted}"

            if wanted in TRANSITIONS[current]:
                changed = await register.reports.change_status(
                    filed.reference, wanted, actor="officer:42", actor_id=42
                )
                allowed_moves += 1
                notified_moves += wanted in NOTIFY_VICTIM
                assert (changed.reference, changed.previous, changed.status) == (
                    filed.reference,
                    current,
                    wanted,
                ), case
                assert changed.notifications == (1 if wanted in NOTIFY_VICTIM else 0), case
                expected_status, expected_history = wanted, 2
            else:
                with pytest.raises(InvalidTransition) as raised:
                    await register.reports.change_status(filed.reference, wanted, actor="o:42")
                assert raised.value.current is current, case
                assert raised.value.wanted is wanted, case
                assert raised.value.allowed == TRANSITIONS[current], case
                assert raised.value.code == "status_not_allowed", case
                assert raised.value.params["wanted"] == wanted.value, case
                expected_status, expected_history = current, 1

            view = await register.reports.get(filed.reference)
            assert view is not None
            assert view.status is expected_status, case
            assert len(view.history) == expected_history, case
            assert view.history[-1].actor == ("officer:42" if expected_history == 2 else "victim")

    assert allowed_moves == sum(len(moves) for moves in TRANSITIONS.values())
    assert len(await rows(register.db, Notification)) == notified_moves
    assert len(await audit_events(register.db, "status_change")) == allowed_moves


async def test_status_history_keeps_actor_time_and_sealed_note(register: Register) -> None:
    filed = await register.reports.file(new_report(), "key")
    before = datetime.now(UTC)
    note = "Handset seized at Tottenham Court Road, bag 17"

    await register.reports.change_status(
        filed.reference, Status.UNDER_REVIEW, actor="officer:7", actor_id=7_000_000_000_001
    )
    await register.reports.change_status(
        filed.reference, Status.LOCATED, actor="officer:8", actor_id=8, note=note
    )

    view = await register.reports.get(filed.reference)
    assert view is not None
    assert [(entry.status, entry.actor, entry.note) for entry in view.history] == [
        (Status.SUBMITTED, "victim", None),
        (Status.UNDER_REVIEW, "officer:7", None),
        (Status.LOCATED, "officer:8", note),
    ]
    assert all(entry.changed_at >= before - timedelta(seconds=5) for entry in view.history[1:])
    assert view.status_changed_at >= view.created_at
    changes = await rows(register.db, StatusChange)
    assert [change.actor_id for change in changes] == [None, 7_000_000_000_001, 8]
    assert changes[2].note_sealed is not None
    assert note.encode() not in changes[2].note_sealed


async def test_notifications_only_for_victim_statuses_and_active_chats(
    register: Register,
) -> None:
    filed = await register.reports.file(new_report(), "key")
    other = await register.reports.file(new_report(), "key-other")
    big_chat = 9_000_000_000_123
    await subscribe(register.db, filed.report_id, 501)
    await subscribe(register.db, filed.report_id, big_chat)
    await subscribe(register.db, filed.report_id, 502, active=False)
    await subscribe(register.db, other.report_id, 503)

    review = await register.reports.change_status(
        filed.reference, Status.UNDER_REVIEW, actor="officer:1"
    )
    assert review.notifications == 0
    assert await rows(register.db, Notification) == []

    located = await register.reports.change_status(
        filed.reference, Status.LOCATED, actor="officer:1"
    )
    recovered = await register.reports.change_status(
        filed.reference, Status.RECOVERED, actor="officer:1"
    )

    assert (located.notifications, recovered.notifications) == (2, 2)
    queued = await rows(register.db, Notification)
    assert sorted((n.chat_id, n.kind) for n in queued) == [
        (501, "status:located"),
        (501, "status:recovered"),
        (big_chat, "status:located"),
        (big_chat, "status:recovered"),
    ]
    assert {n.report_id for n in queued} == {filed.report_id}
    assert {n.state for n in queued} == {"pending"}
    assert len({n.event_key for n in queued}) == 4


async def test_no_subscribers_no_notifications(register: Register) -> None:
    filed = await register.reports.file(new_report(), "key")

    changed = await register.reports.change_status(filed.reference, Status.CLOSED, actor="a")

    assert changed.notifications == 0
    assert await rows(register.db, Notification) == []


async def test_status_change_is_audited(register: Register) -> None:
    filed = await register.reports.file(new_report(), "key")

    await register.reports.change_status(
        filed.reference, Status.UNDER_REVIEW, actor="officer:5", note="secret note"
    )

    (event,) = await audit_events(register.db, "status_change")
    assert (event.actor, event.target) == ("officer:5", filed.reference)
    assert json.loads(event.details) == {"from": "submitted", "to": "under_review"}


async def test_change_status_of_unknown_reference(register: Register) -> None:
    unknown = Reference.generate()

    with pytest.raises(ReportNotFound) as raised:
        await register.reports.change_status(unknown, Status.CLOSED, actor="a")

    assert (raised.value.code, raised.value.params) == (
        "report_not_found",
        {"reference": str(unknown)},
    )
    assert await audit_events(register.db, "status_change") == []


async def test_concurrent_status_changes_keep_one_consistent_history(register: Register) -> None:
    filed = await register.reports.file(new_report(), "key")
    await subscribe(register.db, filed.report_id, 77)

    results = await asyncio.gather(
        *(
            register.reports.change_status(filed.reference, Status.LOCATED, actor=f"o:{n}")
            for n in range(5)
        ),
        return_exceptions=True,
    )

    assert sum(not isinstance(result, BaseException) for result in results) == 1
    assert all(isinstance(r, InvalidTransition) for r in results if isinstance(r, BaseException))
    view = await register.reports.get(filed.reference)
    assert view is not None
    assert [entry.status for entry in view.history] == [Status.SUBMITTED, Status.LOCATED]
    assert len(await rows(register.db, Notification)) == 1


# --- streaming for export ----------------------------------------------------------------


async def _filed_at(register: Register, count: int) -> list[tuple[str, datetime, Status]]:
    """COUNT reports created an hour apart from T0, every third one under review."""
    made = []
    for n in range(count):
        filed = await register.reports.file(new_report(), f"key-{n}")
        status = Status.UNDER_REVIEW if n % 3 == 2 else Status.SUBMITTED
        created = T0 + timedelta(hours=n)
        await set_report_columns(
            register.db, filed.reference, created_at=created, status=status.value
        )
        made.append((filed.reference, created, status))
    return made


async def test_stream_returns_every_row_across_pages_in_id_order(register: Register) -> None:
    made = await _filed_at(register, 10)

    streamed = [view async for view in register.reports.stream(batch=3)]

    assert [view.reference for view in streamed] == [reference for reference, _, _ in made]
    assert [view.id for view in streamed] == sorted(view.id for view in streamed)
    assert [view.created_at for view in streamed] == [created for _, created, _ in made]
    assert all(view.get("contact_name") == "Alex Example" for view in streamed)


STREAM_FILTERS = [
    (3, None, None),
    (None, 7, None),
    (2, 8, None),
    (None, None, Status.UNDER_REVIEW),
    (1, 9, Status.SUBMITTED),
    (4, 4, None),
    (4, 5, None),
    (20, None, None),
    (None, None, Status.CLOSED),
]


async def test_stream_filters(register: Register) -> None:
    made = await _filed_at(register, 10)

    for since_hours, until_hours, status in STREAM_FILTERS:
        since = T0 + timedelta(hours=since_hours) if since_hours is not None else None
        until = T0 + timedelta(hours=until_hours) if until_hours is not None else None

        streamed = [
            view.reference
            async for view in register.reports.stream(
                since=since, until=until, status=status, batch=3
            )
        ]

        expected = [
            reference
            for reference, created, state in made
            if (since is None or created >= since)
            and (until is None or created < until)
            and (status is None or state is status)
        ]
        assert streamed == expected, (since_hours, until_hours, status)


async def test_stream_takes_since_in_any_time_zone(register: Register) -> None:
    made = await _filed_at(register, 4)
    plus_two = T0.astimezone(timezone(timedelta(hours=2)))

    streamed = [view.reference async for view in register.reports.stream(since=plus_two)]

    assert streamed == [reference for reference, _, _ in made]


async def test_stream_of_empty_register(register: Register) -> None:
    assert [view async for view in register.reports.stream()] == []


# --- matching seized handsets ------------------------------------------------------------


async def test_match_many_imeis(register: Register) -> None:
    first_slot = [imei() for _ in range(4)]
    second_slot = [imei() for _ in range(3)]
    reports = []
    for n, one in enumerate(first_slot):
        imeis = (one, second_slot[n]) if n < len(second_slot) else (one,)
        reports.append(await register.reports.file(new_report(imeis=imeis), f"key-{n}"))
    repeat = await register.reports.file(new_report(imeis=(first_slot[0],)), "key-repeat")
    await register.reports.change_status(repeat.reference, Status.WITHDRAWN, actor="victim")
    unknown = [imei() for _ in range(MATCH_CHUNK + 300)]
    seized = unknown[:300] + first_slot + unknown[300:] + second_slot

    found = await register.reports.match(seized)

    assert set(found) == {one.digits for one in first_slot + second_slot}
    for n, one in enumerate(first_slot[1:], start=1):
        assert [(m.report_id, m.reference, m.status) for m in found[one.digits]] == [
            (reports[n].report_id, reports[n].reference, Status.SUBMITTED)
        ]
    assert sorted((m.reference, m.status) for m in found[first_slot[0].digits]) == sorted(
        [(reports[0].reference, Status.SUBMITTED), (repeat.reference, Status.WITHDRAWN)]
    )
    for n, two in enumerate(second_slot):
        assert [m.reference for m in found[two.digits]] == [reports[n].reference]


async def test_match_of_nothing(register: Register) -> None:
    await register.reports.file(new_report(), "key")

    assert await register.reports.match([]) == {}
    assert await register.reports.match(imei() for _ in range(3)) == {}


async def test_match_repeated_imei_counts_once(register: Register) -> None:
    one = imei()
    filed = await register.reports.file(new_report(imeis=(one,)), "key")

    found = await register.reports.match([one, one, Imei.parse(one.digits[:14])])

    assert [m.reference for m in found[one.digits]] == [filed.reference]


# --- deleting ----------------------------------------------------------------------------


async def test_delete_cascades(register: Register) -> None:
    doomed = await register.reports.file(new_report(imeis=(imei(), imei())), "key-doomed")
    kept = await register.reports.file(new_report(), "key-kept")
    for filed in (doomed, kept):
        await subscribe(register.db, filed.report_id, 900 + filed.report_id)
        await register.reports.change_status(filed.reference, Status.LOCATED, actor="o")
    notifications = await rows(register.db, Notification)
    async with register.db.write() as session:
        for notification in notifications:
            session.add(DeliveryAttempt(notification_id=notification.id, outcome="sent"))

    deleted = await register.reports.delete([doomed.report_id, 999_999])

    assert deleted == 1
    assert await register.reports.get(doomed.reference) is None
    assert await register.reports.get(kept.reference) is not None
    for table in (ReportImei, StatusChange, Subscription, Notification):
        remaining = await rows(register.db, table)
        assert remaining, table
        assert {row.report_id for row in remaining} == {kept.report_id}, table
    assert len(await rows(register.db, DeliveryAttempt)) == 1
    assert await register.reports.delete([]) == 0
    assert await register.reports.count() == 1


# --- privacy at rest ---------------------------------------------------------------------


def _raw_sqlite(database: Database) -> tuple[bytes, str]:
    """The database file and its WAL as bytes, and the SQL dump as text."""
    path = Path(database.url.database or "")
    raw = b"".join(
        candidate.read_bytes()
        for candidate in (path, path.with_name(path.name + "-wal"))
        if candidate.exists()
    )
    connection = sqlite3.connect(path)
    try:
        dump = "\n".join(connection.iterdump())
    finally:
        connection.close()
    return raw, dump


async def test_nothing_personal_is_readable_in_the_sqlite_file(
    register: Register, database: Database
) -> None:
    if not database.is_sqlite:
        pytest.skip("reads the SQLite file")
    first, second = imei(), imei()
    new = new_report(
        imeis=(first, second),
        contact_name="Philippa Quartermaine",
        contact_phone=PhoneNumber.parse("07958 246810"),
        stolen_number=PhoneNumber.parse("07481 246810"),
        contact_email="philippa.q@example.net",
        place="Leicester Square tube, exit 3",
        tracked_place="Camden Lock market stall",
        model="Pixel 8 Pro",
        colour="mint green",
    )
    filed = await register.reports.file(new, "key-private")
    await register.reports.change_status(
        filed.reference, Status.UNDER_REVIEW, actor="o", note="seen with a courier on Wardour St"
    )

    raw, dump = _raw_sqlite(database)

    secrets_typed = [
        "Philippa Quartermaine",
        "Quartermaine",
        "+447958246810",
        "447958246810",
        "07958246810",
        "07958 246810",
        "7958246810",
        "7481246810",
        "philippa.q@example.net",
        "example.net",
        "Leicester Square",
        "Camden Lock",
        "Pixel 8 Pro",
        "mint green",
        "Wardour",
        first.digits,
        second.digits,
        first.digits[8:],
        filed.access_code,
    ]
    assert b"SPR-" in raw and filed.reference in dump  # the check reads the right file
    for secret in secrets_typed:
        assert secret.encode() not in raw, secret
        assert secret.encode("utf-16-le") not in raw, secret
        assert secret not in dump, secret


async def test_imei_and_phone_hashes_are_keyed(register: Register, database: Database) -> None:
    one = imei()
    new = new_report(imeis=(one,))
    await register.reports.file(new, "key")
    async with database.read() as session:
        stored = (await session.execute(select(ReportImei.imei_hash))).scalar_one()
        count = (await session.execute(select(func.count()).select_from(ReportImei))).scalar_one()
    other_keys = ReportStore(database, Vault(KeyRing.generate()))

    assert count == 1
    assert stored == register.reports.imei_hash(one)
    assert len(stored) == 32
    assert one.digits not in stored
    # Without the index key the hashes cannot be recomputed from a guessed IMEI or number.
    assert other_keys.imei_hash(one) != stored
    assert other_keys.phone_hash(new.contact_phone) != register.reports.phone_hash(
        new.contact_phone
    )
    assert await other_keys.find_by_imei(one) == []


@pytest.mark.parametrize(("lat", "lon"), [(999.0, -999999.0), (51.5, 200.0), (-91.0, 0.1)])
async def test_a_pin_off_the_map_is_never_stored_with_a_report(
    register: Register, lat: float, lon: float
) -> None:
    filed = await register.reports.file(
        new_report(incident_lat=lat, incident_lon=lon, tracked_lat=lat, tracked_lon=lon),
        f"off-{lat}-{lon}",
    )
    report = await register.reports.get(filed.reference)
    assert report is not None
    assert (report.incident_lat, report.incident_lon) == (None, None)
    assert (report.tracked_lat, report.tracked_lon) == (None, None)
