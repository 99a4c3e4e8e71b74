"""The engine every exchange shares: the callback codec, its tickets, the clock, the language,
the waits for a chat's next message."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from telegram import Chat, Document, Location, Message, Update

from handlers.engine import callbacks, clock, language
from handlers.engine.actions import Action, Actions, Confirmations
from handlers.engine.callbacks import CallbackTooLong, Tickets
from handlers.engine.steps import Steps
from handlers.engine.waits import Awaited, ChatWait
from tests.factories import text_update

# Telegram's callback data is UTF-8: no lone surrogates.
PART = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=":"),
    min_size=1,
    max_size=12,
)
LAST = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12)


@given(st.lists(PART, min_size=1, max_size=3), LAST)
def test_packed_data_unpacks_to_the_same_parts(parts, last):
    try:
        data = callbacks.pack("c", *parts, last)
    except CallbackTooLong:
        assert len(":".join(["c", *parts, last]).encode()) > 64
        return
    assert callbacks.unpack(data, "c", len(parts) + 1) == (*parts, last)


def test_data_over_64_bytes_is_refused_when_the_keyboard_is_built():
    assert len(callbacks.pack("c", "t" * 8, "x" * 53).encode()) == 64
    with pytest.raises(CallbackTooLong):
        callbacks.pack("c", "t" * 8, "x" * 54)
    with pytest.raises(CallbackTooLong):
        callbacks.pack("c", "é" * 32)  # 34 characters, but 66 bytes: bytes are what count


def test_only_the_last_part_may_hold_the_separator():
    with pytest.raises(ValueError, match="last part"):
        callbacks.pack("f", "a:b", "token")
    assert callbacks.unpack(callbacks.pack("c", "tok", "step", "lang:en"), "c", 3) == (
        "tok",
        "step",
        "lang:en",
    )


@pytest.mark.parametrize(
    "data",
    [None, "", "c", "c:", "c::x:y", "c:a:b", "f:a:b:c", "x:a:b:c", "cc:a:b:c", "s:st:REF"],
)
def test_what_is_not_ours_or_malformed_unpacks_to_nothing(data):
    assert callbacks.unpack(data, "c", 3) is None


def test_staff_prefixes_hold_a_separator_themselves():
    data = callbacks.pack("s:st", "SPR-7KQ4-M9", "located")
    assert data == "s:st:SPR-7KQ4-M9:located"
    assert callbacks.unpack(data, "s:st", 2) == ("SPR-7KQ4-M9", "located")
    assert callbacks.unpack(data, "s:rv", 1) is None


@pytest.fixture
def moved(monkeypatch):
    """A clock that a test moves forward."""
    start = clock.now()
    offset = [timedelta(0)]
    monkeypatch.setattr(clock, "now", lambda: start + offset[0])

    def forward(by: timedelta) -> None:
        offset[0] += by

    return forward


def test_a_ticket_stands_for_its_value_until_it_expires(moved):
    tickets = Tickets("held", timedelta(minutes=10))
    chat_data: dict = {}
    token = tickets.issue(chat_data, {"reference": "SPR-7KQ4-M9"})
    assert len(callbacks.pack("f", "act", token).encode()) < 20
    moved(timedelta(minutes=9))
    held = tickets.get(chat_data, token)
    assert held is not None and held["reference"] == "SPR-7KQ4-M9"
    moved(timedelta(minutes=2))
    assert tickets.get(chat_data, token) is None
    assert chat_data["held"] == {}  # expired tickets are pruned


def test_a_renewed_ticket_lives_on(moved):
    tickets = Tickets("held", timedelta(minutes=10))
    chat_data: dict = {}
    token = tickets.issue(chat_data, {})
    for _ in range(3):
        moved(timedelta(minutes=8))
        assert tickets.get(chat_data, token, renew=True) is not None


def test_a_taken_ticket_is_gone_for_the_second_press():
    tickets = Tickets("held", timedelta(minutes=10))
    chat_data: dict = {}
    token = tickets.issue(chat_data, {"file": 1})
    assert tickets.take(chat_data, token) is not None
    assert tickets.take(chat_data, token) is None
    assert tickets.get(chat_data, "forged") is None and tickets.get(None, token) is None


def test_the_oldest_ticket_goes_first_when_too_many_are_held(moved):
    tickets = Tickets("held", timedelta(minutes=10), most=2)
    chat_data: dict = {}
    first = tickets.issue(chat_data, {"n": 1})
    moved(timedelta(seconds=1))
    second = tickets.issue(chat_data, {"n": 2})
    moved(timedelta(seconds=1))
    third = tickets.issue(chat_data, {"n": 3})
    assert tickets.get(chat_data, first) is None
    assert tickets.get(chat_data, second) is not None and tickets.get(chat_data, third) is not None
    assert tickets.find(chat_data, n=3) == (third, chat_data["held"][third])


def test_deadlines_pass_on_the_one_clock(moved):
    until = clock.deadline(timedelta(minutes=1))
    assert not clock.passed(until)
    moved(timedelta(minutes=1))
    assert clock.passed(until) and clock.passed(None)


class _Context:
    def __init__(self, chosen: str | None = None) -> None:
        self.user_data = {"language": chosen} if chosen else {}


def _update(language_code: str | None) -> Update:
    return text_update("hi", language_code=language_code)


@pytest.mark.parametrize(
    ("about", "chosen", "account", "expected"),
    [
        ("de", "fr", "es", "de"),  # the draft's or report's language first
        (None, "fr", "es", "fr"),  # then what this chat chose
        (None, None, "pt-BR", "pt"),  # then the account's, if we speak it
        (None, None, "ja", "en"),  # else English
        ("xx", None, None, "en"),  # a language we do not speak is passed over
    ],
)
def test_one_language_resolver(about, chosen, account, expected):
    assert language.of(_update(account), _Context(chosen), about) == expected


def test_a_choice_is_remembered():
    context = _Context()
    language.remember(context, "ar")
    assert language.of(_update("en"), context) == "ar"


def test_only_a_language_picked_by_hand_counts_as_picked():
    context = _Context()
    language.remember(context, "es")
    assert language.picked(context) is None
    language.remember(context, "fr", by_hand=True)
    assert language.picked(context) == "fr" and language.of(_update("en"), context) == "fr"


async def test_an_action_runs_only_when_its_needs_hold() -> None:
    done: list[str] = []

    async def run(turn: list[str]) -> None:
        done.append("ran")

    def need(turn: list[str]) -> bool:
        if turn:
            return True
        done.append("refused")
        return False

    table = Actions(Action("go", run, (need,)))
    assert list(table) == ["go"]
    assert await table.dispatch([], "go") and done == ["refused"]
    assert await table.dispatch(["ready"], "go") and done == ["refused", "ran"]
    assert not await table.dispatch(["ready"], "other")  # stale: the caller says so
    with pytest.raises(ValueError, match="twice"):
        Actions(Action("go", run), Action("go", run))


async def test_a_confirmation_applies_its_held_value_once() -> None:
    seen: list[object] = []

    async def confirm(turn: str, held: dict) -> None:
        seen.append((turn, held["value"]))

    async def cancel(turn: str, held: dict) -> None:
        seen.append("cancelled")

    async def expired(turn: str) -> None:
        seen.append("expired")

    asking = Confirmations(
        "s:x", Tickets("held", timedelta(minutes=5)), {"ok": confirm, "no": cancel}, expired
    )
    chat_data: dict = {}
    data = asking.hold(chat_data, {"value": 7})
    assert set(data) == {"ok", "no"} and data["ok"].startswith("s:x:ok:")
    first, second = asking.take(chat_data, data["ok"]), asking.take(chat_data, data["ok"])
    await first("me")
    await second("me")
    await asking.take(chat_data, "s:x:ok")("me")
    assert seen == [("me", 7), "expired", "expired"]


def test_a_wait_lives_on_the_one_clock_and_is_taken_once(moved):
    wait = ChatWait("waiting", timedelta(minutes=15))
    chat_data: dict = {}
    assert wait.get(chat_data) is None and wait.get(None) is None
    wait.start(chat_data, "file", token="t")
    moved(timedelta(minutes=14))
    held = wait.get(chat_data)
    assert held is not None and (held["what"], held["token"]) == ("file", "t")
    moved(timedelta(minutes=1))
    assert wait.get(chat_data) is None  # run out
    wait.start(chat_data, "file")
    assert wait.take(chat_data) is not None
    assert wait.take(chat_data) is None and "waiting" not in chat_data


def _message(chat_id: int, **content: Any) -> Message:
    return Message(1, clock.now(), Chat(chat_id, Chat.PRIVATE), **content)


def test_a_waiting_step_takes_only_the_kinds_of_answer_it_has_handlers_for(moved):
    async def on_document(turn: object, document: object) -> None:
        """Unused: the filter only looks at which handlers there are."""

    async def on_text(turn: object, typed: str) -> None:
        """Unused."""

    steps: Steps[object] = Steps()
    steps.declare("file", lambda turn: None, on_document=on_document)
    steps.declare("name", lambda turn: None, on_text=on_text)
    wait = ChatWait("waiting", timedelta(minutes=15))
    chats: dict[int, dict] = {1: {}, 2: {}}
    awaited = Awaited(chats, wait, steps)
    document = Document("file-id", "unique")
    pin = Location(-0.1, 51.5)

    assert not awaited.filter(_message(1, document=document))  # nothing waits
    wait.start(chats[1], "file")
    wait.start(chats[2], "name")
    assert awaited.filter(_message(1, document=document))
    assert not awaited.filter(_message(1, text="a file, later"))
    assert not awaited.filter(_message(1, location=pin))
    assert awaited.filter(_message(2, text="Sam"))
    assert not awaited.filter(_message(2, text="/help"))  # a command answers nothing
    assert not awaited.filter(_message(2, document=document))
    assert not awaited.filter(_message(3, document=document))  # another chat
    moved(timedelta(minutes=15))
    assert not awaited.filter(_message(1, document=document))  # run out
