"""Staff search by phone, e-mail, name and crime reference; access codes reissued; police
references; the reindex of reports filed earlier; and the report sheet every face draws."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, select, update

from models.errors import RegisterError
from models.present.sheet import Term, render_text, report_sheet
from models.register import Register
from models.services.followup import Change, Granted
from models.services.search import BadQuery, SearchBy, guess_kind, parse_query
from models.storage.tables import AuditEvent, Report, ReportKey
from models.values.imei import Imei
from models.values.phone import PhoneNumber
from models.values.statuses import Status
from tests.factories import imei, new_report

ACTOR = "tg:1"


async def audit(register: Register, action: str) -> list[AuditEvent]:
    async with register.db.read() as session:
        rows = await session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
        return list(rows.scalars())


async def find(register: Register, text: str, by: SearchBy | None = None) -> list[str]:
    reports = await register.search.find(parse_query(text, by), actor=ACTOR, channel="test")
    return sorted(report.reference for report in reports)


@pytest.mark.parametrize(
    ("typed", "kind"),
    [
        ("SPR-7KQ4-M9", SearchBy.REFERENCE),
        ("35-209900-176148-1", SearchBy.IMEI),
        ("07912 345678", SearchBy.PHONE),
        ("+44 7912 345678", SearchBy.PHONE),
        ("Alex@Example.org", SearchBy.EMAIL),
        ("Zoë O'Brien", SearchBy.NAME),
        ("1234567/24", SearchBy.CRIME_REFERENCE),
        ("NFRC24010012345", SearchBy.CRIME_REFERENCE),
    ],
)
def test_the_kind_of_search_is_guessed(typed: str, kind: SearchBy) -> None:
    assert guess_kind(typed) is kind


@pytest.mark.parametrize(
    ("typed", "by", "code"),
    [
        ("", None, "lookup_empty"),
        ("12", SearchBy.PHONE, "lookup_phone_invalid"),
        ("no-at-sign", SearchBy.EMAIL, "lookup_email_invalid"),
        ("!!", SearchBy.NAME, "lookup_name_invalid"),
        ("x", SearchBy.CRIME_REFERENCE, "lookup_crime_reference_invalid"),
        ("12345", SearchBy.IMEI, "lookup_imei_invalid"),
    ],
)
def test_bad_searches_are_refused_with_codes(typed: str, by, code: str) -> None:
    with pytest.raises(BadQuery) as refused:
        parse_query(typed, by)
    assert refused.value.code == code


async def test_staff_find_a_report_by_the_victims_phone_email_and_name(
    register: Register,
) -> None:
    zoe = await register.reports.file(
        new_report(
            contact_name="Zoë  O'Brien-Smith",
            contact_email="Zoe.OBrien@Example.ORG",
            contact_phone=PhoneNumber.parse("07912 111222"),
        ),
        "k1",
    )
    other = await register.reports.file(new_report(contact_name="Alex Example"), "k2")

    assert await find(register, "07912111222") == [zoe.reference]
    assert await find(register, "+447912 111 222") == [zoe.reference]
    assert await find(register, "zoe.obrien@example.org") == [zoe.reference]
    assert await find(register, "zoe obrien-smith") == [zoe.reference]
    assert await find(register, "O'Brien") == [zoe.reference]
    assert await find(register, "smith zoe") == [zoe.reference]
    assert await find(register, "Zoe Example") == []
    assert await find(register, "example", SearchBy.NAME) == [other.reference]
    # The stolen phone's number finds it too (a seized SIM).
    assert await find(register, "07400 123456") == sorted([zoe.reference, other.reference])


async def test_no_plain_name_or_email_is_stored_for_searching(register: Register) -> None:
    await register.reports.file(new_report(contact_name="Zoë O'Brien"), "k1")

    async with register.db.read() as session:
        keys = list((await session.execute(select(ReportKey))).scalars())
    assert {key.kind for key in keys} == {"email", "name", "name_word"}
    stored = " ".join(key.key_hash for key in keys).casefold()
    for word in ("zoe", "zoë", "brien", "alex@example.org"):
        assert word not in stored


async def test_searches_are_audited_without_personal_data(register: Register) -> None:
    phone = imei()
    filed = await register.reports.file(
        new_report(imeis=(phone,), contact_name="Zoë O'Brien"), "k1"
    )
    await register.police.set_by_staff(
        filed.reference, crime_reference="1234567/24", actor=ACTOR, channel="test"
    )

    for typed in ("Zoë O'Brien", "alex@example.org", "07912 345678", "1234567/24"):
        await find(register, typed)
    await find(register, phone.digits)
    await find(register, filed.reference)

    events = await audit(register, "lookup")
    details = [json.loads(event.details) for event in events]
    assert [(d["kind"], d["found"]) for d in details] == [
        ("name", 1),
        ("email", 1),
        ("phone", 1),
        ("crime_reference", 1),
        ("imei", 1),
        ("reference", 1),
    ]
    assert [event.target for event in events] == [None] * 4 + [phone.masked, filed.reference]
    everything = " ".join(f"{event.target} {event.details}" for event in events).casefold()
    for secret in ("zo", "brien", "alex@", "7912", phone.digits):
        assert secret not in everything
    assert all(event.actor == ACTOR for event in events)


async def test_a_crime_reference_finds_its_report(register: Register) -> None:
    filed = await register.reports.file(new_report(), "k1")
    await register.police.set_by_staff(
        filed.reference, crime_reference=" 1234567/24", police_force="Met", actor=ACTOR,
        channel="test",
    )  # fmt: skip

    assert await find(register, "1234567/24") == [filed.reference]
    assert await find(register, "7654321/24") == []


# --- police references ------------------------------------------------------------------------


async def test_staff_and_victims_set_the_crime_reference_and_force(register: Register) -> None:
    filed = await register.reports.file(new_report(), "k1")

    by_victim = await register.police.set_by_victim(
        filed.reference, crime_reference="01/23456/26", police_force="BTP"
    )
    again = await register.police.set_by_victim(filed.reference, police_force="btp")
    by_staff = await register.police.set_by_staff(
        filed.reference, police_force="Metropolitan Police", actor=ACTOR, actor_id=1, channel="t"
    )

    assert (by_victim.change, by_victim.crime_reference, by_victim.police_force) == (
        Change.DONE,
        "01/23456/26",
        "btp",
    )
    assert again.change is Change.ALREADY
    assert (by_staff.change, by_staff.police_force) == (Change.DONE, "metropolitan")
    events = await register.search.events((await register.reports.get(filed.reference)).id)
    assert [(e.actor, e.kind, e.detail) for e in events] == [
        ("victim", "crime_reference", "01/23456/26"),
        ("victim", "police_force", "btp"),
        (ACTOR, "police_force", "metropolitan"),
    ]
    audited = await audit(register, "police_reference")
    assert [event.actor for event in audited] == ["victim", ACTOR]


async def test_a_victim_cannot_change_an_ended_report_but_staff_can(register: Register) -> None:
    filed = await register.reports.file(new_report(), "k1")
    await register.reports.change_status(filed.reference, Status.CLOSED, actor=ACTOR)

    refused = await register.police.set_by_victim(filed.reference, crime_reference="1234567/24")
    done = await register.police.set_by_staff(
        filed.reference, crime_reference="1234567/24", actor=ACTOR, channel="t"
    )
    missing = await register.police.set_by_staff(
        "SPR-7KQ4-M9", crime_reference="1234567/24", actor=ACTOR, channel="t"
    )

    assert refused.change is Change.ENDED
    assert done.change is Change.DONE
    assert missing.change is Change.NOT_FOUND


@pytest.mark.parametrize(
    ("crime", "force", "code"),
    [("12", None, "crime_reference_too_short"), (None, "Gotham PD", "police_force_unknown")],
)
async def test_bad_police_references_are_refused_and_nothing_changes(
    register: Register, crime, force, code: str
) -> None:
    filed = await register.reports.file(new_report(), "k1")

    with pytest.raises(RegisterError) as refused:
        await register.police.set_by_victim(
            filed.reference, crime_reference=crime, police_force=force
        )

    assert refused.value.code == code
    view = await register.reports.get(filed.reference)
    assert view is not None and (view.crime_reference, view.police_force) == (None, None)


# --- access codes ------------------------------------------------------------------------------


async def test_a_reissued_code_replaces_the_old_one(register: Register) -> None:
    filed = await register.reports.file(new_report(), "k1")

    code = await register.access.reissue(filed.reference, actor=ACTOR, channel="test")

    assert code is not None and code != filed.access_code
    assert await register.reports.verify_access(filed.reference, filed.access_code) is None
    assert await register.reports.verify_access(filed.reference, code) is not None
    assert isinstance(await register.followup.check_access(9, filed.reference, code), Granted)
    # A replay of the filing shows the code that works now.
    replay = await register.reports.file(new_report(), "k1")
    assert replay.access_code == code
    (event,) = await audit(register, "access_code_reissue")
    assert (event.actor, event.target) == (ACTOR, filed.reference)
    assert code not in event.details and code.replace("-", "") not in event.details
    assert await register.access.reissue("SPR-7KQ4-M9", actor=ACTOR, channel="t") is None


# --- reindex -----------------------------------------------------------------------------------


async def forget_search_keys(register: Register) -> None:
    """Make every report look as if filed before search keys existed."""
    async with register.db.write() as session:
        await session.execute(delete(ReportKey))
        await session.execute(update(Report).values(search_keys_version=0))


async def test_reindex_gives_earlier_reports_their_keys_and_can_resume(
    register: Register, tmp_path
) -> None:
    filed = [
        await register.reports.file(new_report(contact_name=f"Person Number{n}"), f"k{n}")
        for n in range(5)
    ]
    await forget_search_keys(register)
    assert await find(register, "person number3", SearchBy.NAME) == []
    assert await register.reindex.pending() == 5

    class Stop(Exception):
        pass

    def stop_after_first_batch(result) -> None:
        raise Stop

    with pytest.raises(Stop):
        await register.reindex.run(batch=2, progress=stop_after_first_batch)
    assert await register.reindex.pending() == 3

    result = await register.reindex.run(batch=2)

    assert result.search_keys == 3
    assert await register.reindex.pending() == 0
    assert await find(register, "person number3", SearchBy.NAME) == [filed[3].reference]
    assert (await register.reindex.run()).search_keys == 0
    async with register.db.read() as session:
        keys = (await session.execute(select(func.count()).select_from(ReportKey))).scalar_one()
    assert keys == 5 * 4  # e-mail, name, and the name's two words, once each


async def test_reindex_checks_the_tac_of_reports_filed_before_the_table(
    register: Register, tmp_path
) -> None:
    phone = Imei.parse("35-209900-176148-1")
    filed = await register.reports.file(new_report(make="samsung", imeis=(phone,)), "k1")
    table = tmp_path / "tac.csv"
    table.write_text("banner\ntac,name,name,contributor,comment,gsmarena,gsmarena,aka\n"
                     "35209900,Apple,iPhone 15 Pro,,,,,\n")  # fmt: skip
    await register.tac.import_file(table, actor="cli:t")

    result = await register.reindex.run()

    assert result.tac_checked == 1
    view = await register.reports.get(filed.reference)
    assert view is not None and (view.tac_make, view.tac_mismatch) == ("Apple", True)


# --- the report sheet --------------------------------------------------------------------------


def words(key: str) -> str:
    return f"<{key.removeprefix('staff.')}>"


async def test_the_sheet_holds_the_whole_report(register: Register) -> None:
    filed = await register.reports.file(
        new_report(
            incident_from=datetime(2026, 3, 1, 18, 0, tzinfo=UTC),
            incident_to=datetime(2026, 3, 1, 18, 30, tzinfo=UTC),
            theft_method="force",
            tracked_place="Brick Lane",
            tracked_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        ),
        "k1",
    )
    await register.police.set_by_staff(
        filed.reference, crime_reference="1234567/24", police_force="met", actor=ACTOR, channel="t"
    )
    await register.reports.change_status(
        filed.reference, Status.UNDER_REVIEW, actor=ACTOR, note="seen"
    )
    report = await register.reports.get(filed.reference)
    assert report is not None

    with_contact = report_sheet(
        report,
        events=await register.search.events(report.id),
        delivery=await register.outbox.delivery_summary(report.id),
        with_contact=True,
    )
    without = report_sheet(report, with_contact=False)
    text = render_text(with_contact, words)

    titles = [section.title for section in with_contact.sections]
    assert titles == [
        "staff.sheet_device",
        "staff.sheet_what",
        "staff.sheet_where",
        "staff.sheet_contact",
        "staff.sheet_history",
        "staff.sheet_delivery",
    ]
    assert "staff.sheet_contact" not in [section.title for section in without.sections]
    assert text.splitlines()[0] == f"{filed.reference}  under_review"
    assert report.imeis[0] in text
    assert "<sheet_loss_robbery> (force)" in text
    assert "2026-03-01 18:00 UTC <sheet_until> 2026-03-01 18:30 UTC" in text
    assert "1234567/24 (Metropolitan Police Service)" in text
    assert "51.51420, -0.14940 (<sheet_source_pin>, <sheet_precision_pin>)" in text
    assert "Brick Lane (<sheet_not_on_map>)" in text
    assert "Alex Example" in text and "Alex Example" not in render_text(without, words)
    history = [line.strip() for line in text.splitlines() if " · " in line and "UTC ·" in line]
    assert [line.split(" · ", 1)[1] for line in history] == [
        "submitted · victim",
        f"<sheet_event_crime_reference> 1234567/24 · {ACTOR}",
        f"<sheet_event_police_force> Metropolitan Police Service · {ACTOR}",
        f"under_review · {ACTOR} · “seen”",
    ]
    every_key = {
        part.key
        for section in with_contact.sections
        for field in section.fields
        for part in field.parts
        if isinstance(part, Term)
    } | {field.label for section in with_contact.sections for field in section.fields}
    from handlers.texts import has

    assert all(has(key) for key in every_key | set(titles)), every_key
