"""When the phone was taken, as a window: quick choices, or typed in the victim's language.

Typed answers ("yesterday 18:30", "ayer entre las 18:00 y las 18:30", "gestern irgendwann") are
read by handlers/i18n/windows.py and shown back before they are kept; what is unclear, in the
future or reversed is asked again. The draft keeps the earliest and latest possible time
(`incident_from`, `incident_to`) and their middle (`incident_at`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from handlers.conversation import states
from handlers.conversation.turn import Turn, question
from handlers.engine import clock
from handlers.i18n.moments import Moment, parse_moment
from handlers.i18n.windows import Window, parse_window, show_window
from models.values.window import IncidentWindow

QUICK = ("now", "hour", "today", "yesterday", "other")
AN_HOUR = timedelta(hours=1)
PENDING = "pending_when"


def zone(turn: Turn) -> tzinfo:
    """The register's time zone (TIMEZONE), in which people type and read times."""
    return turn.context.config.zone


def read_moment(turn: Turn, typed: str, *, day: date | None = None) -> Moment:
    """When TYPED says, in the victim's language and the register's zone; UnclearMoment else."""
    return parse_moment(
        typed, turn.lang, now=clock.now(), zone=zone(turn), day=day, need_time=False
    )


def _as_answers(window: Window) -> dict[str, Any]:
    return {
        "from": window.earliest.isoformat(),
        "to": window.latest.isoformat(),
        "whole_day": window.whole_day,
        "approximate": window.approximate,
    }


def _from_answers(stored: dict[str, Any]) -> Window:
    return Window(
        datetime.fromisoformat(stored["from"]),
        datetime.fromisoformat(stored["to"]),
        whole_day=bool(stored.get("whole_day")),
        approximate=bool(stored.get("approximate")),
    )


def stored_window(answers: dict[str, Any]) -> Window | None:
    """The window the answers hold (a draft from before windows: its single moment)."""
    if answers.get("incident_from"):
        return _from_answers(
            {
                "from": answers["incident_from"],
                "to": answers.get("incident_to") or answers["incident_from"],
                "whole_day": answers.get("incident_whole_day"),
                "approximate": not answers.get("incident_exact", True),
            }
        )
    if answers.get("incident_at"):
        at = datetime.fromisoformat(answers["incident_at"])
        return Window(at, at, approximate=not answers.get("incident_exact", True))
    return None


def store_window(turn: Turn, window: Window) -> None:
    """Keep the window: both ends, the middle, and how exactly it is known."""
    turn.set(
        incident_from=window.earliest.isoformat(),
        incident_to=window.latest.isoformat(),
        incident_at=window.midpoint.isoformat(),
        incident_exact=window.is_moment,
        incident_time_known=not window.whole_day,
        incident_whole_day=window.whole_day,
    )
    turn.unset("when_day", PENDING)


def _read(turn: Turn, answer: str, day: date | None = None) -> Window:
    """The window ANSWER says; the router puts a refusal (UnclearMoment, BadWindow) into words."""
    return parse_window(answer, turn.lang, now=clock.now(), zone=zone(turn), day=day)


def _confirm(turn: Turn, window: Window) -> None:
    """Show the window back before keeping it."""
    turn.set(**{PENDING: _as_answers(window)})
    turn.next("typed")


def ask_when(turn: Turn) -> None:
    """Quick choices first; a typed day and time (or a window) also works."""
    buttons = [turn.button(f"when_{value}", value) for value in QUICK]
    turn.say("ask_when", turn.keyboard(buttons))


async def on_when_text(turn: Turn, answer: str) -> None:
    """A day and time, or a window, typed straight away."""
    _confirm(turn, _read(turn, answer))


async def on_when(turn: Turn, value: str) -> bool:
    """The quick choices; 'earlier today' and 'yesterday' then ask roughly what time."""
    now = clock.now()
    today = now.astimezone(zone(turn)).date()
    if value == "now":
        store_window(turn, Window(now, now))
    elif value == "hour":
        store_window(turn, Window(now - AN_HOUR, now, approximate=True))
    elif value in ("today", "yesterday"):
        day = today if value == "today" else today - timedelta(days=1)
        turn.set(when_day=day.isoformat())
        turn.next("day")
        return True
    elif value == "other":
        turn.next("other")
        return True
    else:
        return False
    turn.next()
    return True


def _day(turn: Turn) -> date:
    stored = turn.answers.get("when_day")
    return date.fromisoformat(stored) if stored else clock.now().astimezone(zone(turn)).date()


def ask_when_time(turn: Turn) -> None:
    """Roughly what time, on the day chosen (or between which times)."""
    turn.say("ask_when_time", turn.keyboard([turn.button("dont_know", "unknown")]))


async def on_when_time(turn: Turn, answer: str) -> None:
    """A time or two on the chosen day (a full date typed here is fine too)."""
    _confirm(turn, _read(turn, answer, day=_day(turn)))


async def on_when_time_unknown(turn: Turn, value: str) -> bool:
    """Time not known: the whole of that day (until now, if it is today)."""
    if value != "unknown":
        return False
    whole = IncidentWindow.day(_day(turn), zone(turn)).check_not_future(clock.now())
    earliest, latest = whole.earliest.astimezone(UTC), whole.latest.astimezone(UTC)
    store_window(turn, Window(earliest, latest, whole_day=True))
    turn.next()
    return True


def ask_when_date(turn: Turn) -> None:
    """A typed day and time, or the earliest and latest it could have been."""
    turn.send(f"{turn.t('ask_when_date')}\n\n{turn.t('when_range_hint')}", turn.keyboard([]))


def ask_when_ok(turn: Turn) -> None:
    """The window as read, to confirm (after /back: the one kept before)."""
    pending = turn.answers.get(PENDING)
    kept = stored_window(turn.answers)
    if not pending and kept is not None:
        pending = _as_answers(kept)
        turn.set(**{PENDING: pending})
    if not pending:
        ask_when_date(turn)
        return
    shown = show_window(_from_answers(pending), turn.lang, zone(turn))
    buttons = [turn.button("imei_right", "yes"), turn.button("imei_wrong", "no")]
    turn.say("ask_when_ok", turn.keyboard(buttons), when=shown)


async def on_when_ok(turn: Turn, value: str) -> bool:
    """Keep the window, or type it again."""
    pending = turn.answers.get(PENDING)
    if value == "yes" and pending:
        store_window(turn, _from_answers(pending))
        turn.next()
        return True
    if value == "no":
        turn.unset(PENDING)
        turn.next("wrong")
        return True
    return False


async def on_when_retyped(turn: Turn, answer: str) -> None:
    """While reading back: a new answer replaces the one shown."""
    _confirm(turn, _read(turn, answer))


question(states.WHEN, ask_when, on_choice=on_when, on_text=on_when_text)
question(states.WHEN_TIME, ask_when_time, on_text=on_when_time, on_choice=on_when_time_unknown)
question(states.WHEN_DATE, ask_when_date, on_text=on_when_text)
question(states.WHEN_OK, ask_when_ok, on_choice=on_when_ok, on_text=on_when_retyped)
