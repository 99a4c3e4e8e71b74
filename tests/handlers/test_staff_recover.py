"""/recover: a file of seized IMEIs, a dry-run summary, then Confirm applies exactly once."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

import handlers.staff.recover as recover_module
from handlers.engine import clock
from handlers.texts import text
from models.register import Register, RegisterConfig
from models.services.export import BOM
from models.services.staff import Role
from models.storage.tables import Notification
from models.values.statuses import Status
from tests import staff_fixtures
from tests.factories import audit_events, imei, new_report, rows, subscribe
from tests.staff_fixtures import bulk_imei, bulk_reports

staff_member = staff_fixtures.staff_member
CONFIRM = "Confirm: mark recovered"


@pytest.fixture
async def register_with_reports(register: Register):
    """Two open reports (one followed by a chat), one closed report, and their IMEIs."""
    values = [imei() for _ in range(3)]
    refs = []
    for n, value in enumerate(values):
        filed = await register.reports.file(new_report(imeis=(value,)), f"k-{n}")
        refs.append(filed.reference)
        if n == 0:
            await subscribe(register.db, filed.report_id, 9999)
    await register.reports.change_status(refs[2], Status.CLOSED, actor="t")
    return register, values, refs


def mixed_file(values) -> bytes:
    unknown = imei()
    lines = [
        "Exhibit,IMEI",
        f"A1,{values[0].digits}",
        f"A2,{values[1].digits[:14]}",
        f"A3,{values[2].digits}",
        f"A4,{unknown.digits}",
        "A5,123",
        f"A6,{values[0].grouped}",
    ]
    return "\n".join(lines).encode()


async def test_summary_then_confirm_applies_once(register_with_reports, staff_member, api):
    register, values, refs = register_with_reports
    admin = await staff_member(Role.ADMIN)

    (prompt,) = await admin.send("/recover")
    (summary,) = await admin.send_document("seized.csv", mixed_file(values))

    assert "Send me the file" in prompt.text
    assert "6</b> values read" not in summary.text  # counts are bold on their own
    assert "6 values read" in summary.text
    assert "Matched: <b>3</b>" in summary.text
    assert "not in the register: <b>1</b>" in summary.text
    assert "malformed: <b>1</b>" in summary.text
    assert "repeated in the file: <b>1</b>" in summary.text
    assert "line 6:" in summary.text and "that is 3 digits" in summary.text
    assert "line 7 repeats line 2" in summary.text
    assert f"recovered (2):</b> {', '.join(sorted(refs[:2]))}" in summary.text
    assert f"{refs[2]} (closed)" in summary.text
    assert [label for label, _ in summary.buttons] == [CONFIRM, "Cancel"]
    for ref in refs[:2]:
        view = await register.reports.get(ref)
        assert view is not None and view.status is Status.SUBMITTED

    confirm_data = summary.buttons[0][1]
    done = await admin.press(CONFIRM, summary)

    assert done[0].message_id == summary.message_id and done[0].buttons == []
    assert "2 reports marked recovered; victim notifications queued: 1" in done[-1].text
    for ref in refs[:2]:
        view = await register.reports.get(ref)
        assert view is not None and view.status is Status.RECOVERED
        assert view.history[-1].actor == f"tg:{admin.user_id}"
    assert len(await rows(register.db, Notification)) == 1

    again = await admin.press_data(confirm_data, summary)

    assert "already confirmed, cancelled or has expired" in again[-1].text
    assert len(await rows(register.db, Notification)) == 1
    events = [json.loads(e.details) for e in await audit_events(register.db, "recovery")]
    assert [(e["dry_run"], e["recovered"], e["channel"]) for e in events] == [
        (True, 2, "telegram"),
        (False, 2, "telegram"),
    ]


async def test_cancel_changes_nothing(register_with_reports, staff_member) -> None:
    register, values, refs = register_with_reports
    admin = await staff_member(Role.ADMIN)
    await admin.send("/recover")
    (summary,) = await admin.send_document("seized.csv", mixed_file(values))

    confirm_data = summary.buttons[0][1]
    cancelled = await admin.press("Cancel", summary)
    late = await admin.press_data(confirm_data, summary)

    assert "Cancelled" in cancelled[-1].text
    assert "expired" in late[-1].text
    view = await register.reports.get(refs[0])
    assert view is not None and view.status is Status.SUBMITTED
    events = await audit_events(register.db, "recovery")
    assert [json.loads(e.details)["dry_run"] for e in events] == [True]


async def test_caption_or_reply_instead_of_a_prompt(register_with_reports, staff_member, api):
    register, values, _ = register_with_reports
    admin = await staff_member(Role.ADMIN)

    (by_caption,) = await admin.send_document(
        "seized.txt", values[0].digits.encode(), caption="/recover"
    )
    assert "Matched: <b>1</b>" in by_caption.text

    # A file sent without /recover is not taken for one...
    plain = await admin.send_document("seized.txt", values[1].digits.encode())
    assert not any("Matched:" in (reply.text or "") for reply in plain)
    # ...until /recover answers it.
    document_message = api.chats[admin.chat_id][max(api.chats[admin.chat_id])]
    replied = admin.message(
        text="/recover",
        entities=[{"type": "bot_command", "offset": 0, "length": 8}],
        reply_to_message={
            "message_id": document_message.message_id,
            "date": 0,
            "chat": {"id": admin.chat_id, "type": "private", "first_name": "Sam"},
            "from": admin.user,
            "document": {
                "file_id": f"file-{len(api.files)}",
                "file_unique_id": "u",
                "file_name": "seized.txt",
                "file_size": 15,
            },
        },
    )
    before = len(api.bot_messages(admin.chat_id))
    await admin.deliver(replied)
    (by_reply,) = api.bot_messages(admin.chat_id)[before:]
    assert "Matched: <b>1</b>" in by_reply.text
    assert len(await audit_events(register.db, "recovery")) == 2


async def test_files_that_cannot_be_used(register: Register, staff_member, monkeypatch) -> None:
    admin = await staff_member(Role.ADMIN)

    await admin.send("/recover")
    (empty,) = await admin.send_document("seized.csv", b"IMEI\n\n")
    monkeypatch.setattr(recover_module, "MAX_FILE_MB", 0.00001)
    await admin.send("/recover")
    (big,) = await admin.send_document("seized.csv", b"x" * 100)

    assert "no IMEIs" in empty.text
    assert "too large" in big.text
    assert await audit_events(register.db, "recovery") == []


async def test_nothing_to_recover_offers_no_confirm(register: Register, staff_member) -> None:
    admin = await staff_member(Role.ADMIN)
    await admin.send("/recover")

    (summary,) = await admin.send_document("seized.csv", imei().digits.encode())

    assert "not in the register: <b>1</b>" in summary.text
    assert "nothing to mark" in summary.text
    assert summary.buttons == []


async def test_an_expired_confirmation_applies_nothing(
    register_with_reports, staff_member, monkeypatch
) -> None:
    register, values, refs = register_with_reports
    admin = await staff_member(Role.ADMIN)
    await admin.send("/recover")
    (summary,) = await admin.send_document("seized.csv", mixed_file(values))
    later = clock.now() + recover_module.PENDING_FILES.ttl + timedelta(seconds=1)
    monkeypatch.setattr(clock, "now", lambda: later)

    replies = await admin.press(CONFIRM, summary)

    assert "expired" in replies[-1].text
    view = await register.reports.get(refs[0])
    assert view is not None and view.status is Status.SUBMITTED


async def test_long_answers_come_with_a_results_file(register: Register, staff_member, api):
    made = await bulk_reports(register, 40)
    bad_lines = [f"bad-{n}" for n in range(14)] + ["=1+1"]
    content = "\n".join([r.imei.digits for r in made] + bad_lines + [bulk_imei(10**8).digits])
    admin = await staff_member(Role.ADMIN)
    await admin.send("/recover")

    summary, results = await admin.send_document("seized.txt", content.encode())

    assert len(summary.text) <= 4096
    assert "(+20)" in summary.text
    assert "… and 5 more" in summary.text
    assert results.document is not None
    table = api.files[results.document].decode().removeprefix(BOM)
    parsed = list(csv.DictReader(io.StringIO(table, newline="")))
    assert len(parsed) == 56
    assert parsed[0]["result"] == "matched" and parsed[0]["references"] == made[0].reference
    assert parsed[40]["value"] == "bad-0" and parsed[40]["result"] == "malformed"
    assert parsed[54]["value"] == "'=1+1"  # neutralised for spreadsheets
    assert parsed[-1]["result"] == "not in the register"

    done = await admin.press(CONFIRM, summary)
    assert "40 reports marked recovered" in done[-1].text


async def test_ambiguous_handsets_are_listed_and_left_for_a_person(
    register: Register, staff_member
) -> None:
    shared, own = imei(), imei()
    first = await register.reports.file(new_report(make="apple", imeis=(shared,)), "k-a")
    second = await register.reports.file(new_report(make="samsung", imeis=(shared,)), "k-b")
    alone = await register.reports.file(new_report(imeis=(own,)), "k-own")
    admin = await staff_member(Role.ADMIN)
    await admin.send("/recover")

    (summary,) = await admin.send_document(
        "seized.csv", f"IMEI\n{shared.digits}\n{own.digits}\n".encode()
    )

    assert "ambiguous: <b>1</b>" in summary.text
    assert "Ambiguous (1): one IMEI in several reports" in summary.text
    assert "<code>/setstatus REF recovered</code>" in summary.text
    day = f"{(await register.reports.get(first.reference)).created_at:%Y-%m-%d}"
    assert f"{first.reference} (submitted, apple, filed {day})" in summary.text
    assert f"{second.reference} (submitted, samsung, filed {day})" in summary.text
    assert f"recovered (1):</b> {alone.reference}" in summary.text

    done = await admin.press(CONFIRM, summary)

    assert "1 reports marked recovered" in done[-1].text
    for filed, status in ((first, Status.SUBMITTED), (second, Status.SUBMITTED)):
        view = await register.reports.get(filed.reference)
        assert view is not None and view.status is status
    view = await register.reports.get(alone.reference)
    assert view is not None and view.status is Status.RECOVERED


async def test_unmatched_lines_are_listed(register: Register, staff_member) -> None:
    unknown = imei()
    admin = await staff_member(Role.ADMIN)
    await admin.send("/recover")

    (summary,) = await admin.send_document("seized.txt", f"IMEI\n\n{unknown.digits}\n".encode())

    assert f"Not in the register (1)</b>\n• line 3: <code>{unknown.digits}</code>" in summary.text


async def test_hostile_files_get_a_clear_answer(register: Register, staff_member) -> None:
    known = imei()
    filed = await register.reports.file(new_report(imeis=(known,)), "k")
    admin = await staff_member(Role.ADMIN)

    answers = []
    for name, content in (
        ("seized.bin", known.digits.encode() + b"\n" + bytes(range(256)) * 50),
        ("seized.xlsx", b"PK\x03\x04" + bytes(100)),
        ("seized.csv", ("IMEI\n" + "x" * 200_000 + "\n").encode() + b"\n".join([b"?"] * 40)),
    ):
        await admin.send("/recover")
        (answer,) = await admin.send_document(name, content)
        answers.append(answer.text)
    await admin.send("/recover")
    content = f"IMEI\r\n{known.digits}\r\n".encode("utf-16")
    (utf16,) = await admin.send_document("seized.csv", content)

    assert answers[0] == (
        "I can't use that file: the file is not text (it holds NUL bytes): "
        "save it as CSV or as plain text, one IMEI a line"
    )
    assert "spreadsheet workbook, not CSV" in answers[1]
    assert "41 of the file's 41 values are not IMEIs (line 2: longer than 1,000" in answers[2]
    assert f"recovered (1):</b> {filed.reference}" in utf16.text
    events = [json.loads(e.details) for e in await audit_events(register.db, "recovery")]
    assert [e["dry_run"] for e in events] == [True]  # only the readable file was matched


async def test_a_file_over_the_recovery_setting_is_refused_before_download(
    register: Register, staff_member, application, monkeypatch
) -> None:
    small = Register(register.db, register.vault, RegisterConfig(recovery_max_file_mb=0.0001))
    monkeypatch.setitem(application.bot_data, "register", small)
    admin = await staff_member(Role.ADMIN)
    await admin.send("/recover")

    (answer,) = await admin.send_document("seized.txt", b"1" * 500)

    assert answer.text == "That file is too large (0.0 MB; at most 0.0001 MB)."


async def test_the_wait_for_the_file_runs_out_on_the_one_clock(
    register_with_reports, staff_member, monkeypatch
) -> None:
    _, values, _ = register_with_reports
    admin = await staff_member(Role.ADMIN)
    await admin.send("/recover")
    later = clock.now() + recover_module.WAIT_FOR_FILE
    monkeypatch.setattr(clock, "now", lambda: later)

    late = await admin.send_document("seized.txt", values[0].digits.encode())

    assert not any("Matched:" in (reply.text or "") for reply in late)
    (prompt,) = await admin.send("/recover")
    (summary,) = await admin.send_document("seized.txt", values[0].digits.encode())
    assert "Send me the file" in prompt.text and "Matched: <b>1</b>" in summary.text


async def test_the_wait_ends_with_the_file_it_takes(register_with_reports, staff_member) -> None:
    register, values, _ = register_with_reports
    admin = await staff_member(Role.ADMIN)
    await admin.send("/recover")
    (summary,) = await admin.send_document("seized.txt", values[0].digits.encode())

    second = await admin.send_document("seized.txt", values[1].digits.encode())

    assert "Matched: <b>1</b>" in summary.text
    assert not any("Matched:" in (reply.text or "") for reply in second)
    assert len(await audit_events(register.db, "recovery")) == 1


async def test_the_role_is_checked_again_when_the_file_comes(
    register_with_reports, staff_member
) -> None:
    """An admin who sent /recover and lost the role before sending the file gets the answer to
    an unknown command, and nothing is matched."""
    register, values, _ = register_with_reports
    admin = await staff_member(Role.ADMIN)
    await admin.send("/recover")
    await register.staff.add(admin.user_id, Role.OFFICER, added_by="test")

    (refused,) = await admin.send_document("seized.txt", values[0].digits.encode())

    assert refused.text == text("common.unknown_command", "en")
    assert await audit_events(register.db, "recovery") == []
