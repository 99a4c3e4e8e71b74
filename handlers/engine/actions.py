"""Declaring an exchange's buttons: a table from each action code to what it does, read top to
bottom.

An action is a code (what a button carries), the checks that must pass before it runs (`needs`:
the report is still open, the question this button answers is still waiting...), and the handler
that does it. A check looks only at what the turn has already loaded and never awaits, so that
between a check and the handler's first step no other update can slip in (a double tap finds the
wait already taken). A check that fails says why on the turn and returns False; the handler is
not run. `Confirmations` adds the one way to say "this button confirms that, once": the value
waits under a ticket, and pressing takes the ticket out before anything is applied.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from handlers.engine.callbacks import Tickets, pack, unpack
from handlers.engine.steps import Declared

T = TypeVar("T")

Run = Callable[[T], Awaitable[None]]
Need = Callable[[T], bool]
Apply = Callable[[T, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Action(Generic[T]):
    """One button's action: its code, what must hold first, and what it does."""

    code: str
    run: Run[T]
    needs: tuple[Need[T], ...] = ()


class Actions(Declared[Action[T]]):
    """An exchange's button actions by code, each declared once, in reading order."""

    def __init__(self, *actions: Action[T]) -> None:
        """The table of ACTIONS."""
        super().__init__()
        for action in actions:
            self._add(action.code, action, "action")

    async def dispatch(self, turn: T, code: str) -> bool:
        """Run CODE's action on TURN if its needs hold; False when CODE is unknown (stale)."""
        action = self.get(code)
        if action is None:
            return False
        if all(need(turn) for need in action.needs):
            await action.run(turn)
        return True


@dataclass(frozen=True, slots=True)
class Confirmations(Generic[T]):
    """Buttons that apply a held value once: `<prefix>:<answer>:<ticket>`.

    `hold` keeps the value under a ticket and gives the callback data of each answer's button;
    `take` takes the ticket out (before the first await: a second press finds nothing) and gives
    what to run: the answer's handler with the value, or `expired` when the ticket is gone or the
    data is not one of ours.
    """

    prefix: str
    tickets: Tickets
    answers: Mapping[str, Apply[T]]
    expired: Run[T]

    def hold(self, chat_data: MutableMapping[str, Any], value: Mapping[str, Any]) -> dict[str, str]:
        """Hold VALUE; the callback data of each answer's button, by answer."""
        token = self.tickets.issue(chat_data, value)
        return {answer: pack(self.prefix, answer, token) for answer in self.answers}

    def drop(self, chat_data: MutableMapping[str, Any] | None) -> None:
        """Forget whatever waits for an answer."""
        self.tickets.drop(chat_data)

    def take(self, chat_data: MutableMapping[str, Any] | None, data: str) -> Run[T]:
        """What pressing DATA does; its ticket is taken out now, so a second press gets
        `expired`. Call it before the first await of the press."""
        answer, token = unpack(data, self.prefix, 2) or ("", "")
        handler = self.answers.get(answer)
        held = self.tickets.take(chat_data, token) if handler is not None else None
        if handler is None or held is None:
            return self.expired
        confirmed = handler

        async def run(turn: T) -> None:
            assert held is not None
            await confirmed(turn, held)

        return run
