"""Declaring an exchange's steps: ask this, accept these kinds of answer, then go on.

A step is a name, how it is asked, and one handler per kind of answer it accepts: a button's
value (`on_choice`, False for a value it does not know: an old or forged button), typed text
(`on_text`), a location pin (`on_location`), a document (`on_document`). A handler validates
(raising `BadAnswer`, or a coded `RegisterError`), stores, and says where to go next. The kinds a
step does not accept get a polite re-ask from whoever runs the exchange. The steps are generic in
the exchange's turn (what one update may read, store and send), so that every exchange declares
its steps the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

Ask = Callable[[T], None]
OnChoice = Callable[[T, str], Awaitable[bool]]
OnText = Callable[[T, str], Awaitable[None]]
OnLocation = Callable[[T, float, float], Awaitable[None]]
OnDocument = Callable[[T, Any], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Step(Generic[T]):
    """One step: how it is asked and which kinds of answer it takes."""

    name: str
    ask: Ask[T]
    on_choice: OnChoice[T] | None = None
    on_text: OnText[T] | None = None
    on_location: OnLocation[T] | None = None
    on_document: OnDocument[T] | None = None

    @property
    def wrong_kind(self) -> str:
        """The re-ask for an answer of a kind this step does not take (a catalogue key's name)."""
        if self.on_location is not None:
            return "words_or_pin"
        if self.on_text is not None:
            return "words_only"
        return "tap_a_button"


V = TypeVar("V")


class Declared(Mapping[str, V]):
    """What an exchange declares (steps, actions) by name, each once, in the order declared."""

    def __init__(self) -> None:
        """Nothing declared yet."""
        self._declared: dict[str, V] = {}

    def _add(self, name: str, value: V, what: str) -> V:
        if name in self._declared:
            raise ValueError(f"{what} {name!r} declared twice")
        self._declared[name] = value
        return value

    def __getitem__(self, name: str) -> V:
        """The one declared as NAME."""
        return self._declared[name]

    def __iter__(self) -> Iterator[str]:
        """The names, in the order they were declared."""
        return iter(self._declared)

    def __len__(self) -> int:
        """How many were declared."""
        return len(self._declared)


class Steps(Declared[Step[T]]):
    """An exchange's steps by name, each declared once (by the module that asks it)."""

    def declare(
        self,
        name: str,
        ask: Ask[T],
        *,
        on_choice: OnChoice[T] | None = None,
        on_text: OnText[T] | None = None,
        on_location: OnLocation[T] | None = None,
        on_document: OnDocument[T] | None = None,
    ) -> Step[T]:
        """Declare the step NAME."""
        step = Step(name, ask, on_choice, on_text, on_location, on_document)
        return self._add(name, step, "step")
