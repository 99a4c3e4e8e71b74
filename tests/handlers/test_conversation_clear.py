"""Clear this chat: a borrowed phone keeps nothing of the conversation that can be deleted."""

from __future__ import annotations

from bot.local_api import ApiError
from handlers.conversation import states
from tests.handlers.conftest import press

BORROWED = {states.ACCOUNT: press("No, I borrowed this phone"), states.CHANNEL: press("Phone call")}


async def test_clear_this_chat_deletes_every_message_of_the_conversation(victim, api, register):
    await victim.file(**BORROWED)
    shown = api.visible(victim.chat_id)
    assert any(not m.from_bot for m in shown) and any(m.from_bot for m in shown)

    confirm = await victim.press("🧹 Clear this chat")
    assert "including your reference and access code" in confirm[0].text
    done = await victim.press("Yes, delete our conversation")

    deleted = [m for m in api.chats[victim.chat_id].values() if m.deleted]
    assert {m.message_id for m in deleted} >= {m.message_id for m in shown}
    assert {m.message_id for m in confirm} <= {m.message_id for m in deleted}
    assert [m.text for m in api.visible(victim.chat_id)] == [done[0].text]
    assert f"({len(deleted)} messages)" in done[0].text
    assert "SPR-" not in done[0].text
    assert await victim.draft() is None
    assert await register.reports.count() == 1  # the report itself stays


async def test_messages_telegram_refuses_to_delete_are_reported(victim, api):
    await victim.file(**BORROWED)
    await victim.press("🧹 Clear this chat")
    refused = {1, 2, 3}

    def too_old(call):
        if call.method == "deleteMessage" and int(call.params["message_id"]) in refused:
            raise ApiError(400, "Bad Request: message can't be deleted for everyone")

    api.on_call = too_old
    done = await victim.press("Yes, delete our conversation")
    assert "3 could not be deleted" in done[0].text
    assert "Please delete them by hand" in done[0].text
    assert {m.message_id for m in api.visible(victim.chat_id)} == refused | {done[0].message_id}


async def test_keeping_the_chat_deletes_nothing(victim, api):
    await victim.file(**BORROWED)
    visible = len(api.visible(victim.chat_id))
    await victim.press("🧹 Clear this chat")
    kept = await victim.press("No, keep it")
    assert kept[0].text == "OK, nothing was deleted."
    assert len(api.visible(victim.chat_id)) == visible + 2
    assert (await victim.draft()).step == states.FILED


async def test_clearing_after_cancel_removes_the_unsent_answers(victim, api):
    await victim.walk(states.CONTACT_EMAIL, **BORROWED)
    await victim.send("/cancel")
    await victim.press("Yes, cancel the report")
    await victim.press("🧹 Clear this chat")
    done = await victim.press("Yes, delete our conversation")
    assert [m.text for m in api.visible(victim.chat_id)] == [done[0].text]


async def test_a_clear_button_from_an_earlier_report_is_refused(victim, api):
    await victim.file(**BORROWED)
    old_clear = victim.seen[-1]
    await victim.press("🧹 Clear this chat", old_clear)
    await victim.press("No, keep it")
    await victim.send("/start")  # a new report on the same phone
    await victim.press("Yes, start my report")
    visible = len(api.visible(victim.chat_id))
    data = next(d for label, d in old_clear.buttons if label == "🧹 Clear this chat")
    replies = await victim.user.press_data(data, old_clear)
    assert "earlier report" in replies[0].text
    assert len(api.visible(victim.chat_id)) == visible + len(replies)
