"""The victim's conversation, read top to bottom: from each step, on each outcome, the next step.

A step's handler stores the answer and says what came of it: `turn.next()` for the usual way on,
`turn.next("skip")`, `turn.next("pin")`... for the others; this table says where that leads. The
Mermaid diagram in docs/conversation.md is drawn from it (`python -m
handlers.conversation.diagram --write`; a test fails when they differ).

While the review's Edit reopens a group of steps, leaving the group leads back to the review
instead (turn.py); the review first asks again what a report cannot do without (required.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.conversation.states import (
    ACCOUNT,
    CANCELLED,
    CHANNEL,
    COLOUR,
    CONSENT,
    CONTACT_EMAIL,
    CONTACT_NAME,
    CONTACT_PHONE,
    FILED,
    HOW,
    IMEI,
    IMEI2,
    IMEI2_OK,
    IMEI_OK,
    LOSS,
    MAKE,
    MODEL,
    NETWORK,
    NUMBER,
    REVIEW,
    TAC_OK,
    TRACKED,
    TRACKED_WHEN,
    TRACKED_WHERE,
    WHEN,
    WHEN_DATE,
    WHEN_OK,
    WHEN_TIME,
    WHERE,
    WHERE_NOTE,
)

NEXT = "next"  # the usual way on
OUTSIDE = "[*]"  # before the first question, after the last


@dataclass(frozen=True, slots=True)
class Move:
    """From SOURCE, on OUTCOME, to TARGET; LABEL says it in words (for the diagram)."""

    source: str
    outcome: str
    target: str
    label: str


def _move(source: str, outcome: str, target: str, label: str) -> Move:
    return Move(source, outcome, target, label)


FLOW: tuple[Move, ...] = (
    _move(OUTSIDE, "start", CONSENT, "/start or any message"),
    _move(CONSENT, NEXT, ACCOUNT, "agree (999 and privacy first)"),
    _move(ACCOUNT, NEXT, MAKE, "own or borrowed"),
    _move(MAKE, NEXT, MODEL, 'sends "Do this now", tailored'),
    _move(MODEL, NEXT, COLOUR, "typed or Skip"),
    _move(COLOUR, NEXT, IMEI, "typed or Skip"),
    _move(IMEI, "typed", IMEI_OK, "a valid IMEI"),
    _move(IMEI, "unknown", NUMBER, "I don't know it yet"),
    _move(IMEI_OK, "wrong", IMEI, "No, type it again"),
    _move(IMEI_OK, "typed", IMEI_OK, "another valid IMEI, read back"),
    _move(IMEI_OK, NEXT, IMEI2, "Yes, that's right"),
    _move(IMEI_OK, "tac", TAC_OK, "Yes, but the IMEI's TAC names another brand"),
    _move(TAC_OK, NEXT, IMEI2, "Yes, it's that brand (make corrected) or No (flagged to staff)"),
    _move(TAC_OK, "wrong", IMEI, "Let me check the IMEI"),
    _move(IMEI2, "typed", IMEI2_OK, "a valid, different IMEI"),
    _move(IMEI2, "skip", NUMBER, "No second IMEI"),
    _move(IMEI2_OK, "wrong", IMEI2, "No, type it again"),
    _move(IMEI2_OK, "typed", IMEI2_OK, "another valid IMEI, read back"),
    _move(IMEI2_OK, NEXT, NUMBER, "Yes, that's right"),
    _move(NUMBER, NEXT, NETWORK, "typed or Skip"),
    _move(NETWORK, NEXT, WHEN, "tapped, typed or I don't know"),
    _move(WHEN, "day", WHEN_TIME, "earlier today, yesterday"),
    _move(WHEN, "other", WHEN_DATE, "another day"),
    _move(WHEN, NEXT, WHERE, "just now, last hour"),
    _move(WHEN, "typed", WHEN_OK, "a typed day and time, or a window"),
    _move(WHEN_TIME, "typed", WHEN_OK, "typed"),
    _move(WHEN_TIME, NEXT, WHERE, "I don't know (the whole day)"),
    _move(WHEN_DATE, "typed", WHEN_OK, "typed"),
    _move(WHEN_OK, NEXT, WHERE, "Yes, that's right"),
    _move(WHEN_OK, "wrong", WHEN_DATE, "No, type it again"),
    _move(WHEN_OK, "typed", WHEN_OK, "another answer, read back"),
    _move(WHERE, "pin", WHERE_NOTE, "a location pin"),
    _move(WHERE, NEXT, LOSS, "a typed place"),
    _move(WHERE_NOTE, "pin", WHERE_NOTE, "another pin corrects the first"),
    _move(WHERE_NOTE, NEXT, LOSS, "typed or Skip"),
    _move(LOSS, "theft", HOW, "stolen without force"),
    _move(LOSS, NEXT, TRACKED, "lost (not a crime) or force or threats (urge 999 / 101)"),
    _move(HOW, NEXT, TRACKED, "snatched, pickpocketed or I don't know"),
    _move(TRACKED, "yes", TRACKED_WHERE, "yes"),
    _move(TRACKED, NEXT, CONTACT_NAME, "no"),
    _move(TRACKED_WHERE, NEXT, TRACKED_WHEN, "a pin or typed"),
    _move(TRACKED_WHEN, NEXT, CONTACT_NAME, "tapped or typed"),
    _move(CONTACT_NAME, NEXT, CONTACT_PHONE, "typed"),
    _move(CONTACT_PHONE, NEXT, CONTACT_EMAIL, "valid, not the stolen number"),
    _move(CONTACT_EMAIL, NEXT, CHANNEL, "typed or Skip"),
    _move(CHANNEL, NEXT, REVIEW, "tapped"),
    _move(REVIEW, "edit", MAKE, "Edit (any answer; then back to review)"),
    _move(REVIEW, "submit", FILED, "Submit (files once per draft)"),
    _move(FILED, "new", CONSENT, "Report a stolen phone"),
    _move(FILED, "clear", OUTSIDE, "Clear this chat"),
    _move(CONSENT, "cancel", CANCELLED, "/cancel, then Yes (from any question)"),
    _move(CANCELLED, "new", CONSENT, "Report a stolen phone"),
    _move(CANCELLED, "clear", OUTSIDE, "Clear this chat"),
)

_TARGETS = {(move.source, move.outcome): move.target for move in FLOW}
if len(_TARGETS) != len(FLOW):
    raise ValueError("a step has two moves for the same outcome")


def target(source: str, outcome: str = NEXT) -> str:
    """Where OUTCOME at step SOURCE leads; KeyError for a move the table does not have."""
    try:
        return _TARGETS[(source, outcome)]
    except KeyError:
        raise KeyError(f"no move from {source!r} on {outcome!r} in flow.FLOW") from None


FIRST = target(OUTSIDE, "start")
