"""Fewer new messages per report: a question answered by a button becomes the next question.

What the victim must be able to scroll back to (999 and the privacy notice, "Do this now", the
reference, the advice, a warning) always comes as a message of its own.
"""

from __future__ import annotations

import re

from bot.local_api import LocalBotApi
from handlers.conversation import states
from handlers.conversation.turn import Turn
from tests.handlers.conftest import Victim


def calls(api: LocalBotApi, since: int, method: str) -> list[dict]:
    return [call.params for call in api.calls[since:] if call.method == method]


async def test_the_answered_question_becomes_the_next_one(victim: Victim, api: LocalBotApi):
    await victim.walk(states.ACCOUNT)
    [account] = [m for m in victim.seen if "your own" in (m.text or "")][-1:]
    mark = len(api.calls)

    replies = await victim.press("Yes, it's my own account")

    [edit] = calls(api, mark, "editMessageText")
    assert int(edit["message_id"]) == account.message_id
    assert calls(api, mark, "sendMessage") == []
    assert [m.message_id for m in replies] == [account.message_id]
    assert "What make" in (account.text or "") and await victim.step() == states.MAKE
    assert "Apple (iPhone)" in [label for label, _ in account.buttons]


async def test_what_must_stay_on_screen_is_never_edited_away(victim: Victim, api: LocalBotApi):
    await victim.send("/start")
    [welcome] = victim.seen
    mark = len(api.calls)
    await victim.press("Yes, start my report")
    # The welcome (999, what is kept and why) keeps its text; only its buttons go.
    assert calls(api, mark, "editMessageText") == []
    assert [int(p["message_id"]) for p in calls(api, mark, "editMessageReplyMarkup")] == [
        welcome.message_id
    ]
    assert "999" in (welcome.text or "") and not welcome.buttons

    await victim.press("Yes, it's my own account")
    mark = len(api.calls)
    await victim.press("Apple (iPhone)")
    # "Do this now" comes first and is kept: the make question only loses its buttons.
    assert calls(api, mark, "editMessageText") == []
    sent = [p["text"] for p in calls(api, mark, "sendMessage")]
    assert len(sent) == 2 and "Which model" in sent[1]


async def test_the_reference_and_the_advice_are_messages_of_their_own(
    victim: Victim, api: LocalBotApi
):
    await victim.walk(states.REVIEW)
    summary = victim.seen[-1]
    shown = summary.text
    mark = len(api.calls)
    await victim.press("✅ Submit report")
    assert calls(api, mark, "editMessageText") == []
    assert summary.text == shown  # the summary stays, as the record of what was filed
    sent = [p["text"] for p in calls(api, mark, "sendMessage")]
    assert "Reference: <code>SPR-" in sent[0] and len(sent) >= 4


CODES = re.compile(r"SPR-\w{4}-\w{2}|[A-Z0-9]{4}-[A-Z0-9]{4}")  # references, access codes


def _said(api: LocalBotApi, chat_id: int, since: int) -> list[tuple[str, str]]:
    """(method, text) of every message sent or edited into a question in CHAT_ID, in order."""
    found = []
    for call in api.calls[since:]:
        if (
            call.method in ("sendMessage", "editMessageText")
            and int(call.params["chat_id"]) == chat_id
        ):
            found.append((call.method, CODES.sub("…", call.params["text"])))
    return found


async def test_a_report_takes_fewer_new_messages_with_the_same_words(
    victim: Victim, make_user, register, api: LocalBotApi, monkeypatch
):
    """The same report filed twice, with and without questions edited in place."""
    with monkeypatch.context() as patched:
        patched.setattr(Turn, "_may_replace_pressed", lambda self, out: False)
        before = Victim(make_user(user_id=8_123_456_789_099), register)
        mark = len(api.calls)
        await before.file()
        without = _said(api, before.chat_id, mark)
    mark = len(api.calls)
    await victim.file()
    with_edits = _said(api, victim.chat_id, mark)

    assert [words for _, words in with_edits] == [words for _, words in without]
    assert {method for method, _ in without} == {"sendMessage"}
    new = sum(1 for method, _ in with_edits if method == "sendMessage")
    edits = len(with_edits) - new
    # One new message less for every question edited in place: every button answer but the
    # welcome, the make (then "Do this now" comes first) and Submit.
    assert edits >= 9 and new + edits == len(without)
