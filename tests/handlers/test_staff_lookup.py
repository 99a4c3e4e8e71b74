"""/lookup and the Reveal button: what staff see, what is hidden, and what is audited."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from models.register import Register
from models.services.staff import Role
from models.values.statuses import Status
from tests import staff_fixtures
from tests.factories import audit_events, imei, new_report

staff_member = staff_fixtures.staff_member
CONTACT_BITS = ("Alex Example", "+447912345678", "alex@example.org", "+447400123456")


async def test_officer_sees_the_report_but_not_the_contact(
    register: Register, staff_member
) -> None:
    first, second = imei(), imei()
    filed = await register.reports.file(
        new_report(
            imeis=(first, second),
            incident_at=datetime(2026, 3, 1, 18, 30, tzinfo=UTC),
            tracked_place="Brick Lane",
            tracked_lat=51.5215,
            tracked_lon=-0.0717,
            tracked_at=datetime(2026, 3, 1, 19, 5, tzinfo=UTC),
        ),
        "k-1",
    )
    await register.reports.change_status(
        filed.reference, Status.UNDER_REVIEW, actor="tg:1", note="checking CCTV"
    )
    officer = await staff_member(Role.OFFICER)

    (card,) = await officer.send(f"/lookup {filed.reference}")

    # The whole report sheet, the same as `reportbot lookup` prints.
    assert card.text.startswith(f"<b>{filed.reference}</b> · <b>under_review</b>")
    assert "Make and model: Apple iPhone 15 (blue, cracked corner)" in card.text
    assert f"IMEI: {first.digits}, {second.digits}" in card.text
    assert "Kind: theft from the person (snatched moped)" in card.text
    assert "When: 2026-03-01 18:30 UTC" in card.text
    assert (
        "Taken at: Oxford Street by Bond Street station — 51.51420, -0.14940 (shared pin, exact)"
        in card.text
    )
    tracked = "Tracked at: Brick Lane — 51.52150, -0.07170 (shared pin, exact) · 2026-03-01 19:05"
    assert tracked in card.text
    assert "· submitted · victim" in card.text
    assert "· under_review · tg:1 · “checking CCTV”" in card.text
    assert "<b>Contact</b>" not in card.text
    for bit in CONTACT_BITS:
        assert bit not in card.text
    assert card.buttons == [("Reveal contact", f"s:rv:{filed.reference}")]


async def test_admin_sees_the_contact_without_a_button(register: Register, staff_member) -> None:
    filed = await register.reports.file(new_report(), "k-1")
    admin = await staff_member(Role.ADMIN)

    (card,) = await admin.send(f"/lookup {filed.reference.lower().replace('-', ' ')}")

    for bit in CONTACT_BITS:
        assert bit in card.text
    assert card.buttons == []
    (event,) = await audit_events(register.db, "lookup")
    assert json.loads(event.details)["contact_shown"] is True


async def test_reveal_shows_the_contact_and_is_audited(register: Register, staff_member) -> None:
    filed = await register.reports.file(new_report(), "k-1")
    officer = await staff_member(Role.OFFICER)
    (card,) = await officer.send(f"/lookup {filed.reference}")

    (revealed,) = await officer.press("Reveal contact", card)

    for bit in CONTACT_BITS:
        assert bit in revealed.text
    assert "recorded" in revealed.text
    (event,) = await audit_events(register.db, "contact_reveal")
    assert (event.actor, event.target) == (f"tg:{officer.user_id}", filed.reference)
    lookup_event = (await audit_events(register.db, "lookup"))[0]
    assert json.loads(lookup_event.details)["contact_shown"] is False


@pytest.mark.parametrize(
    "form",
    [
        lambda d: d,
        lambda d: d[:14],
        lambda d: d[:14] + "99",
        lambda d: f"{d[:2]}-{d[2:8]}-{d[8:14]}-{d[14]}",
        lambda d: " ".join(d[i : i + 3] for i in range(0, 15, 3)),
    ],
    ids=["15", "14", "16", "dashes", "spaces"],
)
async def test_lookup_by_imei_in_any_form_and_either_slot(
    register: Register, staff_member, form
) -> None:
    first, second = imei(), imei()
    filed = await register.reports.file(new_report(imeis=(first, second)), "k-1")
    officer = await staff_member(Role.OFFICER)

    (card,) = await officer.send(f"/lookup {form(second.digits)}")

    assert filed.reference in card.text
    (event,) = await audit_events(register.db, "lookup")
    assert event.target == second.masked
    assert second.digits not in event.details + (event.target or "")
    assert json.loads(event.details) == {
        "channel": "telegram",
        "contact_shown": False,
        "found": 1,
        "kind": "imei",
    }


async def test_an_imei_in_several_reports(register: Register, staff_member) -> None:
    shared = imei()
    refs = [
        (await register.reports.file(new_report(imeis=(shared,)), f"k-{n}")).reference
        for n in range(2)
    ]
    officer = await staff_member(Role.OFFICER)

    replies = await officer.send(f"/lookup {shared.digits}")

    assert "2</b> reports" in replies[0].text
    titles = [reply.text.splitlines()[0] for reply in replies[1:]]
    assert sorted(ref for ref in refs for title in titles if ref in title) == sorted(refs)
    # Both were flagged at filing: each card names the other report holding the IMEI.
    for reply in replies[1:]:
        (mine,) = [ref for ref in refs if ref in reply.text.splitlines()[0]]
        (other,) = [ref for ref in refs if ref != mine]
        assert f"⚠️ Duplicate IMEI: also in {other} (" in reply.text


async def test_not_found_and_bad_input(register: Register, staff_member) -> None:
    officer = await staff_member(Role.OFFICER)
    unknown = imei()

    (missing,) = await officer.send(f"/lookup {unknown.digits}")
    (usage,) = await officer.send("/lookup")
    wrong_check = unknown.digits[:14] + str((int(unknown.digits[14]) + 1) % 10)
    (bad_imei,) = await officer.send(f"/lookup {wrong_check}")
    (short,) = await officer.send("/lookup 12345")  # digits alone: a crime reference, maybe
    (bad_ref,) = await officer.send("/lookup SPR-XXXX")

    assert "not in the register" in missing.text
    assert "/lookup</code> and what to look for" in usage.text
    assert "not a valid IMEI" in bad_imei.text and "check digit" in bad_imei.text
    assert short.text == "<code>12345</code>: not in the register."
    assert "not a valid reference" in bad_ref.text
    (bad_email,) = await officer.send("/lookup email nobody")
    assert bad_email.text == "That is not an e-mail address."
    events = await audit_events(register.db, "lookup")
    assert [(e.target, json.loads(e.details)["kind"]) for e in events] == [
        (unknown.masked, "imei"),
        (None, "crime_reference"),
    ]


async def test_victim_text_is_escaped(register: Register, staff_member) -> None:
    filed = await register.reports.file(
        new_report(place="<b>bold</b> & <script>", contact_name="<i>Eve</i>"), "k-1"
    )
    admin = await staff_member(Role.ADMIN)

    (card,) = await admin.send(f"/lookup {filed.reference}")

    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;" in card.text
    assert "&lt;i&gt;Eve&lt;/i&gt;" in card.text


async def test_a_long_history_is_shown_whole_in_messages_telegram_takes(
    register: Register, staff_member
) -> None:
    filed = await register.reports.file(new_report(place="x" * 2000), "k-1")
    for n in range(30):
        status = Status.UNDER_REVIEW if n % 2 == 0 else Status.LOCATED
        await register.reports.change_status(filed.reference, status, actor="t", note=f"{n}" * 100)
    officer = await staff_member(Role.OFFICER)

    parts = await officer.send(f"/lookup {filed.reference}")

    assert len(parts) > 1 and all(len(part.text) <= 4096 for part in parts)
    shown = "\n".join(part.text for part in parts)
    assert all(f"“{str(n) * 100}”" in shown for n in range(30))
    assert "29" * 100 in shown and "x" * 299 + "…" in shown  # free text capped at 300
    assert parts[-1].buttons == [("Reveal contact", f"s:rv:{filed.reference}")]


async def test_lookup_shows_delivery_state_without_chat_ids(
    register: Register, staff_member
) -> None:
    from datetime import timedelta

    from tests.factories import subscribe

    filed = await register.reports.file(new_report(), "k-delivery")
    await subscribe(register.db, filed.report_id, 5550001)
    await subscribe(register.db, filed.report_id, 5550002)
    await register.reports.change_status(filed.reference, Status.RECOVERED, actor="tg:1")
    now = datetime.now(UTC)
    claimed = await register.outbox.claim("w1", now, limit=10, lease=timedelta(minutes=2))
    assert len(claimed) == 2
    await register.outbox.delivered(claimed[0], "w1", at=now, message_id=77)
    await register.outbox.fail(
        claimed[1],
        "w1",
        at=now,
        outcome="forbidden",
        detail="Forbidden: bot was blocked by the user",
        end_chat="blocked the bot",
    )
    officer = await staff_member(Role.OFFICER)

    (card,) = await officer.send(f"/lookup {filed.reference}")

    assert "Chats (active / ended): 1 / 1" in card.text
    assert "Messages: delivered 1, failed 1" in card.text
    assert "⚠️ Problem: recovered · failed · 1 · Forbidden: bot was blocked by the user" in card.text
    assert "5550001" not in card.text and "5550002" not in card.text
