"""Conversation and follow-up buttons work in private chats only: a press anywhere else, forged
or copied, only stops the presser's spinner. Nothing is stored, sent or edited in the group."""

from __future__ import annotations

import pytest

from bot.local_api import ChatMessage
from handlers.conversation import states

GROUP_ID = -100_777
FORGED = [
    "c:-:*:new",  # a new report: the consent question
    "c:-:*:adv:iphone",  # the advice
    "c:-:*:language",  # the language menu
    "c:-:*:lang:fr",
    "c:-:*:clear_no",
    "f:ref:forged-token",  # follow-up: refresh a report's status
    "f:wdy:forged-token",  # follow-up: withdraw, confirmed
    "f:sub:forged-token",
]
PRESSED_ON = ChatMessage(message_id=1, from_bot=True, text="a message in the group")
SILENT = {"answerCallbackQuery"}


@pytest.mark.parametrize("chat_type", ["group", "supergroup", "channel"])
@pytest.mark.parametrize("data", FORGED)
async def test_a_button_pressed_outside_a_private_chat_does_nothing(
    make_user, register, api, data: str, chat_type: str
):
    member = make_user(user_id=4242, chat_id=GROUP_ID, chat_type=chat_type)
    calls_before = len(api.calls)

    replies = await member.press_data(data, PRESSED_ON)

    calls = api.calls[calls_before:]
    assert replies == []
    assert [call.method for call in calls] == ["answerCallbackQuery"]
    assert set(calls[0].params) <= {"callback_query_id"}  # no alert, no text
    assert await register.drafts.get(GROUP_ID) is None
    assert await register.drafts.get(member.user_id) is None


async def test_the_same_button_in_a_private_chat_works(make_user, register):
    """The control: the forged press above is a real button in a private chat."""
    person = make_user(user_id=4243)

    replies = await person.press_data("c:-:*:new", PRESSED_ON)

    assert replies and replies[-1].buttons
    draft = await register.drafts.get(person.chat_id)
    assert draft is not None and draft.step == states.CONSENT
