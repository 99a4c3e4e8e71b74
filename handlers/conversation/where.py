"""Where it was taken, and where it shows now if the victim can track it (a pin or words)."""

from __future__ import annotations

from datetime import timedelta

from handlers.conversation import states
from handlers.conversation.inputs import clean_text
from handlers.conversation.turn import Turn, question
from handlers.conversation.when import read_moment
from handlers.engine import clock
from handlers.i18n.moments import Moment
from models.values.freetext import require_words

MAX_PLACE = 200
AN_HOUR = timedelta(hours=1)


def place_words(answer: str) -> str:
    """A typed place that says something: MeaninglessText (asked again) for emoji, digits or
    punctuation alone."""
    return require_words(clean_text(answer, max_length=MAX_PLACE), field="place")


def warn_if_far(turn: Turn, latitude: float, longitude: float) -> None:
    """A pin outside the service area (SERVICE_AREA) is kept, with a word that it is far."""
    area = turn.context.register.config.service_area
    if area is not None and not area.contains(latitude, longitude):
        turn.say("pin_outside_area")


def ask_where(turn: Turn) -> None:
    """A location pin, or the place in words."""
    turn.say("ask_where", turn.keyboard([]))


async def on_where_pin(turn: Turn, latitude: float, longitude: float) -> None:
    """Keep the coordinates, then offer to add words to them."""
    turn.set(incident_lat=latitude, incident_lon=longitude)
    turn.unset("place")
    warn_if_far(turn, latitude, longitude)
    turn.next("pin")


async def on_where_text(turn: Turn, answer: str) -> None:
    """Keep the place as typed (a typed place replaces an earlier pin)."""
    turn.set(place=place_words(answer))
    turn.unset("incident_lat", "incident_lon")
    turn.next()


def ask_where_note(turn: Turn) -> None:
    """A few words to go with the pin (optional)."""
    turn.say("ask_where_note", turn.keyboard([turn.button("skip", "skip")]))


async def on_where_note(turn: Turn, answer: str) -> None:
    """Keep the words with the pin."""
    turn.set(place=place_words(answer))
    turn.next()


async def on_where_note_skip(turn: Turn, value: str) -> bool:
    """The pin alone."""
    if value != "skip":
        return False
    turn.next()
    return True


async def on_where_note_pin(turn: Turn, latitude: float, longitude: float) -> None:
    """A second pin corrects the first."""
    turn.set(incident_lat=latitude, incident_lon=longitude)
    warn_if_far(turn, latitude, longitude)
    turn.next("pin")


def ask_tracked(turn: Turn) -> None:
    """Can they see the phone on a map right now?"""
    buttons = [turn.button("tracked_yes", "yes"), turn.button("tracked_no", "no")]
    turn.say("ask_tracked", turn.keyboard(buttons, per_row=1))


async def on_tracked(turn: Turn, value: str) -> bool:
    """Go on to where it shows, or past it."""
    if value == "yes":
        turn.next("yes")
        return True
    if value == "no":
        turn.unset("tracked_place", "tracked_lat", "tracked_lon", "tracked_at")
        turn.next()
        return True
    return False


def ask_tracked_where(turn: Turn) -> None:
    """Where the phone shows, with the warning not to go there."""
    turn.say("ask_tracked_where", turn.keyboard([]))


async def on_tracked_pin(turn: Turn, latitude: float, longitude: float) -> None:
    """Keep the tracked position."""
    turn.set(tracked_lat=latitude, tracked_lon=longitude)
    turn.unset("tracked_place")
    turn.next()


async def on_tracked_text(turn: Turn, answer: str) -> None:
    """Keep the tracked place as typed."""
    turn.set(tracked_place=place_words(answer))
    turn.unset("tracked_lat", "tracked_lon")
    turn.next()


def ask_tracked_when(turn: Turn) -> None:
    """When the phone showed there."""
    buttons = [turn.button("seen_now", "now"), turn.button("seen_hour", "hour")]
    turn.say("ask_tracked_when", turn.keyboard(buttons))


def _store_seen(turn: Turn, moment: Moment) -> None:
    turn.set(tracked_at=moment.at.isoformat())
    turn.say("tracked_thanks", keep=True)
    turn.next()


async def on_tracked_when(turn: Turn, value: str) -> bool:
    """Just now, or about an hour ago."""
    if value not in ("now", "hour"):
        return False
    now = clock.now()
    _store_seen(turn, Moment(now if value == "now" else now - AN_HOUR, approximate=value != "now"))
    return True


async def on_tracked_when_text(turn: Turn, answer: str) -> None:
    """A typed time (today unless a day is given)."""
    _store_seen(turn, read_moment(turn, answer))


question(states.WHERE, ask_where, on_text=on_where_text, on_location=on_where_pin)
question(
    states.WHERE_NOTE,
    ask_where_note,
    on_text=on_where_note,
    on_choice=on_where_note_skip,
    on_location=on_where_note_pin,
)
question(states.TRACKED, ask_tracked, on_choice=on_tracked)
question(
    states.TRACKED_WHERE, ask_tracked_where, on_text=on_tracked_text, on_location=on_tracked_pin
)
question(
    states.TRACKED_WHEN,
    ask_tracked_when,
    on_choice=on_tracked_when,
    on_text=on_tracked_when_text,
)
