"""When the phone was taken: quick choices, or a typed day and time; never in the future."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo

from handlers.conversation import states
from handlers.conversation.turn import Turn, question
from handlers.engine import clock
from handlers.i18n.moments import Moment, parse_moment

QUICK = ("now", "hour", "today", "yesterday", "other")
WITHIN_THE_HOUR = timedelta(minutes=30)
MIDDAY = time(12, 0)


def zone(turn: Turn) -> tzinfo:
    """The register's time zone (TIMEZONE), in which people type and read times."""
    return turn.context.config.zone


def read_moment(turn: Turn, typed: str, *, day: date | None = None) -> Moment:
    """When TYPED says, in the victim's language and the register's zone; UnclearMoment else."""
    return parse_moment(
        typed, turn.lang, now=clock.now(), zone=zone(turn), day=day, need_time=False
    )


def store_incident(turn: Turn, moment: Moment) -> None:
    """Keep when it happened, and whether to the minute."""
    turn.set(
        incident_at=moment.at.isoformat(),
        incident_exact=not moment.approximate,
        incident_time_known=moment.time_known,
    )
    turn.unset("when_day")


def ask_when(turn: Turn) -> None:
    """Quick choices first; a typed day and time also works."""
    buttons = [turn.button(f"when_{value}", value) for value in QUICK]
    turn.say("ask_when", turn.keyboard(buttons))


async def on_when_text(turn: Turn, answer: str) -> None:
    """A day and time typed straight away."""
    store_incident(turn, read_moment(turn, answer))
    turn.next()


async def on_when(turn: Turn, value: str) -> bool:
    """The quick choices; 'earlier today' and 'yesterday' then ask roughly what time."""
    now = clock.now()
    today = now.astimezone(zone(turn)).date()
    if value == "now":
        store_incident(turn, Moment(now))
    elif value == "hour":
        store_incident(turn, Moment(now - WITHIN_THE_HOUR, approximate=True))
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
    """Roughly what time, on the day chosen."""
    turn.say("ask_when_time", turn.keyboard([turn.button("dont_know", "unknown")]))


async def on_when_time(turn: Turn, answer: str) -> None:
    """A time on the chosen day (a full date typed here is fine too)."""
    store_incident(turn, read_moment(turn, answer, day=_day(turn)))
    turn.next()


async def on_when_time_unknown(turn: Turn, value: str) -> bool:
    """Time not known: midday of that day (or now, if that is earlier), marked approximate."""
    if value != "unknown":
        return False
    now = clock.now()
    midday = datetime.combine(_day(turn), MIDDAY, zone(turn))
    store_incident(
        turn, Moment(min(midday, now).astimezone(UTC), approximate=True, time_known=False)
    )
    turn.next()
    return True


def ask_when_date(turn: Turn) -> None:
    """A typed day and time."""
    turn.say("ask_when_date", turn.keyboard([]))


question(states.WHEN, ask_when, on_choice=on_when, on_text=on_when_text)
question(states.WHEN_TIME, ask_when_time, on_text=on_when_time, on_choice=on_when_time_unknown)
question(states.WHEN_DATE, ask_when_date, on_text=on_when_text)
