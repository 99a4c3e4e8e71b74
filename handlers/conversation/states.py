"""The conversation's steps: their names (stored in the draft), groups and handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from handlers.conversation.turn import Turn

CONSENT = "consent"
ACCOUNT = "account"
MAKE = "make"
MODEL = "model"
COLOUR = "colour"
IMEI = "imei"
IMEI_OK = "imei_ok"
TAC_OK = "tac_ok"
IMEI2 = "imei2"
IMEI2_OK = "imei2_ok"
NUMBER = "number"
NETWORK = "network"
WHEN = "when"
WHEN_TIME = "when_time"
WHEN_DATE = "when_date"
WHEN_OK = "when_ok"
WHERE = "where"
WHERE_NOTE = "where_note"
LOSS = "loss"
HOW = "how"
TRACKED = "tracked"
TRACKED_WHERE = "tracked_where"
TRACKED_WHEN = "tracked_when"
CONTACT_NAME = "contact_name"
CONTACT_PHONE = "contact_phone"
CONTACT_EMAIL = "contact_email"
CHANNEL = "channel"
REVIEW = "review"
FILED = "filed"
CANCELLED = "cancelled"

# Steps after which there is no question left to answer.
FINISHED = frozenset({FILED, CANCELLED})

# What the review's Edit buttons reopen: editing a group walks its steps, then returns to review.
EDIT_GROUPS: dict[str, tuple[str, ...]] = {
    "device": (MAKE, MODEL, COLOUR),
    "imei": (IMEI, IMEI_OK, TAC_OK, IMEI2, IMEI2_OK),
    "number": (NUMBER, NETWORK),
    "when": (WHEN, WHEN_TIME, WHEN_DATE, WHEN_OK),
    "where": (WHERE, WHERE_NOTE),
    "how": (LOSS, HOW),
    "tracked": (TRACKED, TRACKED_WHERE, TRACKED_WHEN),
    "name": (CONTACT_NAME,),
    "phone": (CONTACT_PHONE,),
    "email": (CONTACT_EMAIL,),
    "channel": (CHANNEL,),
    "account": (ACCOUNT,),
}

TextHandler = Callable[["Turn", str], Awaitable[None]]
ChoiceHandler = Callable[["Turn", str], Awaitable[bool]]
LocationHandler = Callable[["Turn", float, float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Question:
    """One step: how it is asked and which kinds of answer it takes.

    `on_choice` returns False for a button value it does not know (an old or forged button).
    """

    name: str
    ask: Callable[[Turn], None]
    on_choice: ChoiceHandler | None = None
    on_text: TextHandler | None = None
    on_location: LocationHandler | None = None


QUESTIONS: dict[str, Question] = {}


def question(
    name: str,
    ask: Callable[[Turn], None],
    *,
    on_choice: ChoiceHandler | None = None,
    on_text: TextHandler | None = None,
    on_location: LocationHandler | None = None,
) -> Question:
    """Declare the step NAME (each step module declares its own)."""
    if name in QUESTIONS:
        raise ValueError(f"step {name!r} declared twice")
    step = Question(name, ask, on_choice, on_text, on_location)
    QUESTIONS[name] = step
    return step
