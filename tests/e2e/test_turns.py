"""Placing the bot's calls among a chat's turns: by causality, not by a late clock reading."""

from __future__ import annotations

from tests.e2e.driver import Stamped
from tests.e2e.turns import NO_KILL, Kill, Turn, stray_replies, turns_in

CHAT = 970_001
TURN = Turn(update_id=1001, start=100.0, end=101.0, handled=True)


def reply(at: float, *, caller_gone: bool = False) -> Stamped:
    """A sendMessage to CHAT that the fake Telegram answered at AT."""
    return Stamped(at, "sendMessage", {"chat_id": CHAT, "text": "next question"}, caller_gone)


def test_a_turn_is_read_from_the_workers_log_line():
    line = (
        'time=2026-12-04T13:00:01.000Z level=INFO logger=reportbot.processing msg="update handled"'
        " update_id=1001 waited_ms=0.4 took_ms=250.0"
    )
    [turn] = turns_in([line])
    assert (turn.update_id, turn.handled) == (1001, True)
    assert turn.end - turn.start == 0.25


def test_a_call_answered_inside_the_turn_is_in_it():
    assert stray_replies([reply(100.5)], [TURN], NO_KILL) == []


def test_a_call_the_worker_waited_for_after_its_turn_is_stray():
    late = reply(101.5)
    assert stray_replies([late], [TURN], NO_KILL) == [late]


def test_a_call_the_worker_had_hung_up_on_is_not_placed_by_its_late_reading():
    # Sent in the turn, timed out there; the fake, busy, read it after the turn had ended.
    assert stray_replies([reply(101.5, caller_gone=True)], [TURN], NO_KILL) == []


def test_a_killed_workers_last_calls_are_allowed_unless_another_worker_had_the_chat_before():
    kill = Kill(sent=103.0, ended=103.2)
    cut_short = reply(102.0)  # its update left no log line: the worker died in the middle
    # Answered while the process was dying: it had not hung up yet.
    dying = reply(103.1)
    # The chat's lock went with the dead process: another worker took it at once.
    next_turn = Turn(update_id=1002, start=103.05, end=104.0, handled=True)
    assert stray_replies([cut_short, dying], [TURN, next_turn], kill) == []
    # But a worker that had the chat between the call and the kill makes it stray.
    between = Turn(update_id=1002, start=102.5, end=104.0, handled=True)
    assert stray_replies([cut_short], [TURN, between], kill) == [cut_short]
    # And nothing answered after the process had ended is one of its calls.
    after = reply(103.3)
    assert stray_replies([after], [TURN], kill) == [after]
