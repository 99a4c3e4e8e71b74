"""A chat's turns as the workers' logs show them, and the checks made on them.

A worker logs one line per update while it still holds the update's chat; the line's time is
when the turn ended, and `took_ms` how long it was held. The fake Telegram stamps each call of
the bot (`tests.e2e.driver.Stamped`) with the time it answered it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from tests.e2e.driver import Stamped

TOLERANCE = 0.001  # the log's times are whole milliseconds
_LINE = re.compile(
    r'^time=(?P<time>\S+) .*?msg="(?P<msg>update handled|update (?:already|cut)[^"]*)" '
    r"update_id=(?P<update_id>\d+) waited_ms=\S+ took_ms=(?P<took>[\d.]+)"
)


@dataclass(frozen=True)
class Turn:
    """An update as a worker's log shows it: held its chat from START to END (time.time())."""

    update_id: int
    start: float
    end: float
    handled: bool  # False: skipped, already processed


def turns_in(logs: list[str]) -> list[Turn]:
    """Every update the workers' logs show, with the time its chat's turn was held."""
    found = []
    for log in logs:
        for line in log.splitlines():
            match = _LINE.match(line)
            if match is None:
                continue
            end = datetime.fromisoformat(match["time"].replace("Z", "+00:00")).timestamp()
            took = float(match["took"]) / 1000
            handled = match["msg"] == "update handled"
            found.append(Turn(int(match["update_id"]), end - took, end, handled))
    return found


def overlaps(turns: list[Turn]) -> list[tuple[Turn, Turn]]:
    """Pairs of one chat's turns that overlapped in time (ordered by start)."""
    found = []
    latest: Turn | None = None  # the turn that ends last among those started so far
    for turn in sorted(turns, key=lambda turn: turn.start):
        if latest is not None and turn.start + TOLERANCE < latest.end:
            found.append((latest, turn))
        if latest is None or turn.end > latest.end:
            latest = turn
    return found


@dataclass(frozen=True)
class Kill:
    """A worker's SIGKILL: sent at SENT, the process seen ended at ENDED (time.time())."""

    sent: float
    ended: float


NO_KILL = Kill(0.0, 0.0)


def stray_replies(calls: list[Stamped], turns: list[Turn], kill: Kill) -> list[Stamped]:
    """Calls to a chat made outside every turn of that chat.

    A call is placed by the time the fake Telegram answered it: the bot had made it before and
    was still waiting then, so in a turn that time falls inside the turn. A call the bot had
    already hung up on (it timed out, or the worker was killed) is not placed by that time:
    it can have waited unread for any time (the fake's event loop busy under load), so it is
    left out; the fake knows which these are from the connection itself (closed before the call
    was answered), not from any clock.

    A worker killed in the middle of an update leaves no log line for it. A call answered
    before the process was seen ended may be one of its last: it is allowed when no other
    worker took the chat between the call and the SIGKILL. (The chat's lock goes with the dead
    process, so another worker may take the chat at once, before the kill is noted.)
    """
    stray = []
    for call in calls:
        if call.caller_gone:
            continue
        inside = any(t.start - TOLERANCE <= call.at <= t.end + TOLERANCE for t in turns)
        if inside:
            continue
        cut_short = call.at < kill.ended and not any(
            t.start < kill.sent and t.end > call.at for t in turns
        )
        if not cut_short:
            stray.append(call)
    return stray
