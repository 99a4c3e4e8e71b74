"""Role checks: every staff command and button, for nobody, an officer and an admin, in a
private chat and in a group. Anyone refused gets exactly the unknown-command answer."""

from __future__ import annotations

import pytest

from bot.local_api import BOT_USER, ChatMessage
from handlers.texts import text
from models.register import Register
from models.services.staff import Role
from models.values.statuses import Status
from tests import staff_fixtures
from tests.factories import audit_events, imei, new_report
from tests.staff_fixtures import ADMIN_ID

staff_member = staff_fixtures.staff_member

OFFICER, ADMIN = Role.OFFICER, Role.ADMIN
ROLES = [None, OFFICER, ADMIN]
CHATS = ["private", "group"]
# command -> the least role that may use it
COMMANDS = {
    "/lookup {ref}": OFFICER,
    "/setstatus {ref} under_review": OFFICER,
    "/stats": OFFICER,
    "/hotspots": OFFICER,
    "/staffhelp": OFFICER,
    "/web": OFFICER,
    "/reissue {ref}": OFFICER,
    "/police {ref} 1234567/24 Met": OFFICER,
    "/alerts on": OFFICER,
    "/export": ADMIN,
    "/recover": ADMIN,
}
BUTTONS = {
    "s:st:{ref}:under_review": OFFICER,
    "s:rv:{ref}": OFFICER,
    "s:zz:stale": OFFICER,
    "s:rc:ok:{token}": ADMIN,
    "s:rc:no:{token}": ADMIN,
}


def unknown_command_answer(chat_type: str) -> str:
    """What `answer_unknown_command` says in that kind of chat."""
    if chat_type == "private":
        return text("common.unknown_command")
    return text("common.private_only", link=f"https://t.me/{BOT_USER['username']}")


def allowed(role: Role | None, needed: Role, chat_type: str) -> bool:
    return chat_type == "private" and (role is ADMIN or (role is OFFICER and needed is OFFICER))


COMBINATIONS = [(role, chat) for role in ROLES for chat in CHATS]


@pytest.fixture
async def filed(register: Register) -> str:
    return (await register.reports.file(new_report(imeis=(imei(),)), "k-access")).reference


async def staff_events(register: Register) -> list[str]:
    events = await audit_events(register.db)
    return [event.action for event in events if event.action not in {"staff_add"}]


@pytest.mark.parametrize("command", list(COMMANDS))
async def test_every_command_checks_the_role(register: Register, staff_member, command: str):
    """For nobody, an officer and an admin, each in a private chat and in a group."""
    for n, (role, chat_type) in enumerate(COMBINATIONS):
        reference = (await register.reports.file(new_report(), f"k-{n}")).reference
        user = await staff_member(role, chat_type=chat_type)
        before = await staff_events(register)

        replies = await user.send(command.format(ref=reference))

        case = f"{role} in {chat_type}"
        if allowed(role, COMMANDS[command], chat_type):
            assert replies, case
            assert all(r.text != unknown_command_answer(chat_type) for r in replies), case
        else:
            assert [r.text for r in replies] == [unknown_command_answer(chat_type)], case
            assert [r.buttons for r in replies] == [[]], case
            assert await staff_events(register) == before, case
            report = await register.reports.get(reference)
            assert report is not None and report.status is Status.SUBMITTED, case


@pytest.mark.parametrize("data", list(BUTTONS))
async def test_every_button_checks_the_role(register: Register, staff_member, api, data: str):
    """For nobody, an officer and an admin, each in a private chat and in a group."""
    admin = await staff_member(ADMIN)
    for n, (role, chat_type) in enumerate(COMBINATIONS):
        # An admin's pending recovery in their own chat: its token is what others press.
        filed = await register.reports.file(new_report(imeis=(imei(),)), f"k-{n}")
        report = await register.reports.get(filed.reference)
        assert report is not None
        await admin.send("/recover")
        summary = await admin.send_document("seized.txt", report.imeis[0].encode())
        token = summary[-1].buttons[0][1].rsplit(":", 1)[1]
        other_admin = ADMIN_ID + 1000 if role is ADMIN else None
        user = await staff_member(role, user_id=other_admin, chat_type=chat_type)
        before = await staff_events(register)
        pressed_on = ChatMessage(message_id=1, from_bot=True, text="staff message")
        answered_before = sum(1 for call in api.calls if call.method == "answerCallbackQuery")

        replies = await user.press_data(data.format(ref=filed.reference, token=token), pressed_on)

        case = f"{role} in {chat_type}"
        answered = sum(1 for call in api.calls if call.method == "answerCallbackQuery")
        assert answered == answered_before + 1, case
        if allowed(role, BUTTONS[data], chat_type):
            assert all(r.text != unknown_command_answer(chat_type) for r in replies), case
        else:
            assert [r.text for r in replies] == [unknown_command_answer(chat_type)], case
            assert await staff_events(register) == before, case
            after = await register.reports.get(filed.reference)
            assert after is not None and after.status is Status.SUBMITTED, case
        # The admin's own pending recovery is untouched by anyone else, and still works.
        done = await admin.press("Confirm: mark recovered")
        assert "1 reports marked recovered" in done[-1].text, case


async def test_the_role_is_checked_again_on_every_press(
    register: Register, staff_member, filed: str
) -> None:
    officer = await staff_member(OFFICER)
    (card,) = await officer.send(f"/lookup {filed}")
    await register.staff.remove(officer.user_id, removed_by="test")

    replies = await officer.press("Reveal contact", card)

    assert [reply.text for reply in replies] == [unknown_command_answer("private")]
    assert "contact_reveal" not in await staff_events(register)


async def test_an_officer_made_admin_gets_admin_commands_at_once(
    register: Register, staff_member
) -> None:
    officer = await staff_member(OFFICER)
    assert [r.text for r in await officer.send("/export")] == [unknown_command_answer("private")]

    await register.staff.add(officer.user_id, ADMIN, added_by="test")

    replies = await officer.send("/export")
    assert replies and replies[0].text != unknown_command_answer("private")
