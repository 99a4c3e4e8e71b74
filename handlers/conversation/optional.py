"""Optional typed answers, asked with a Skip button: typed text kept in one field, Skip clears it.

`optional_text(step, field, read)` declares such a step. It is asked with the catalogue text
`ask_<step>`; READ turns what was typed into the value to store (raising `BadAnswer` for what it
cannot take); Skip unsets FIELD, then ON_SKIP clears what only made sense with it. Both go on with
`turn.next()`.
"""

from __future__ import annotations

from collections.abc import Callable

from handlers.conversation.turn import Turn, question
from handlers.engine.steps import Step

SKIP = "skip"

Read = Callable[[Turn, str], object]
Details = Callable[[Turn], dict[str, object]]


def optional_text(
    step: str,
    field: str,
    read: Read,
    *,
    details: Details | None = None,
    on_skip: Callable[[Turn], None] | None = None,
) -> Step[Turn]:
    """Declare STEP: typed text READ into FIELD, or Skip (DETAILS: the question's placeholders)."""

    def ask(turn: Turn) -> None:
        """The question, with its Skip button."""
        params = details(turn) if details is not None else {}
        turn.send(turn.t(f"ask_{step}", **params), turn.keyboard([turn.button("skip", SKIP)]))

    async def on_text(turn: Turn, answer: str) -> None:
        """Store what was typed, once READ has accepted it."""
        turn.set(**{field: read(turn, answer)})
        turn.next()

    async def on_choice(turn: Turn, value: str) -> bool:
        """Skip: nothing given (False for any other button)."""
        if value != SKIP:
            return False
        turn.unset(field)
        if on_skip is not None:
            on_skip(turn)
        turn.next()
        return True

    return question(step, ask, on_text=on_text, on_choice=on_choice)
