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

from handlers.conversation import states

NEXT = "next"  # the usual way on
OUTSIDE = "[*]"  # before the first question, after the last


@dataclass(frozen=True, slots=True)
class Move:
    """From SOURCE, on OUTCOME, to TARGET; LABEL says it in words (for the diagram)."""

    source: str
    outcome: str
    target: str
    label: str


# One move a line: the step (as stored in the draft), the outcome, the next step, then in words.
_TABLE = """
[*]           start   consent       /start or any message
consent       next    account       agree (999 and privacy first)
account       next    make          own or borrowed
make          next    model         sends "Do this now", tailored
model         next    colour        typed or Skip
colour        next    imei          typed or Skip
imei          typed   imei_ok       a valid IMEI
imei          unknown number        I don't know it yet
imei_ok       wrong   imei          No, type it again
imei_ok       typed   imei_ok       another valid IMEI, read back
imei_ok       next    imei2         Yes, that's right
imei_ok       tac     tac_ok        Yes, but the IMEI's TAC names another brand
tac_ok        next    imei2         Yes, it's that brand (make corrected) or No (flagged to staff)
tac_ok        wrong   imei          Let me check the IMEI
imei2         typed   imei2_ok      a valid, different IMEI
imei2         skip    number        No second IMEI
imei2_ok      wrong   imei2         No, type it again
imei2_ok      typed   imei2_ok      another valid IMEI, read back
imei2_ok      next    number        Yes, that's right
number        next    network       typed or Skip
network       next    when          tapped, typed or I don't know
when          day     when_time     earlier today, yesterday
when          other   when_date     another day
when          next    where         just now, last hour
when          typed   when_ok       a typed day and time, or a window
when_time     typed   when_ok       typed
when_time     next    where         I don't know (the whole day)
when_date     typed   when_ok       typed
when_ok       next    where         Yes, that's right
when_ok       wrong   when_date     No, type it again
when_ok       typed   when_ok       another answer, read back
where         pin     where_note    a location pin
where         next    loss          a typed place
where_note    pin     where_note    another pin corrects the first
where_note    next    loss          typed or Skip
loss          theft   how           stolen without force
loss          next    tracked       lost (not a crime) or force or threats (urge 999 / 101)
how           next    tracked       snatched, pickpocketed or I don't know
tracked       yes     tracked_where yes
tracked       next    contact_name  no
tracked_where next    tracked_when  a pin or typed
tracked_when  next    contact_name  tapped or typed
contact_name  next    contact_phone typed
contact_phone next    contact_email valid, not the stolen number
contact_email next    channel       typed or Skip
channel       next    review        tapped
review        edit    make          Edit (any answer; then back to review)
review        submit  filed         Submit (files once per draft)
filed         new     consent       Report a stolen phone
filed         clear   [*]           Clear this chat
consent       cancel  cancelled     /cancel, then Yes (from any question)
cancelled     new     consent       Report a stolen phone
cancelled     clear   [*]           Clear this chat
"""


def _read(table: str) -> tuple[Move, ...]:
    """The moves of TABLE; ValueError for a line naming a step that states.py does not declare."""
    declared = vars(states).items()
    known = {value for name, value in declared if name.isupper() and isinstance(value, str)}
    known.add(OUTSIDE)
    moves = []
    for line in table.strip().splitlines():
        source, outcome, next_step, label = line.split(maxsplit=3)
        unknown = {source, next_step} - known
        if unknown:
            raise ValueError(f"flow table: unknown step(s) {sorted(unknown)} in {line!r}")
        moves.append(Move(source, outcome, next_step, label))
    return tuple(moves)


FLOW = _read(_TABLE)
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
