"""The IMEI: typed in any form, read back digit-grouped, an optional second one."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from handlers import advice
from handlers.conversation import states, tac
from handlers.conversation.inputs import BadAnswer
from handlers.conversation.turn import Turn, question
from handlers.texts import Html, describe
from models.values.imei import Imei, InvalidImei


def parse_imei(answer: str, language: str) -> Imei:
    """The IMEI typed, or BadAnswer carrying the value type's explanation in LANGUAGE."""
    try:
        return Imei.parse(answer)
    except InvalidImei as exc:
        raise BadAnswer("imei_invalid", reason=Html(describe(exc, language))) from None


def ask_imei(turn: Turn) -> None:
    """The IMEI, with a way to find it and a way to go on without it."""
    buttons = [turn.button("imei_help", "help"), turn.button("imei_unknown", "unknown")]
    turn.say("ask_imei", turn.keyboard(buttons, per_row=1))


async def on_imei(turn: Turn, answer: str) -> None:
    """Check the IMEI, then read it back before keeping it."""
    imei = parse_imei(answer, turn.lang)
    turn.set(pending_imei=imei.digits)
    turn.next("typed")


async def on_imei_choice(turn: Turn, value: str) -> bool:
    """Where to find the IMEI, or carry on without it."""
    if value == "help":
        platform = turn.answers.get("platform", "other")
        turn.send(
            advice.find_imei(turn.lang, platform),
            turn.keyboard([turn.button("imei_unknown", "unknown")]),
            keep=True,
        )
        return True
    if value == "unknown":
        turn.set(imeis=[])
        turn.unset("pending_imei", "pending_imei2")
        turn.say("imei_later")
        turn.next("unknown")
        return True
    return False


def ask_imei2(turn: Turn) -> None:
    """A dual-SIM phone's second IMEI (optional)."""
    turn.say("ask_imei2", turn.keyboard([turn.button("no_second_imei", "skip")]))


async def on_imei2(turn: Turn, answer: str) -> None:
    """Check the second IMEI (it must differ from the first), then read it back."""
    imei = parse_imei(answer, turn.lang)
    if imei.digits in turn.answers.get("imeis", [])[:1]:
        raise BadAnswer("imei_same")
    turn.set(pending_imei2=imei.digits)
    turn.next("typed")


async def on_imei2_skip(turn: Turn, value: str) -> bool:
    """Only one IMEI."""
    if value != "skip":
        return False
    turn.set(imeis=turn.answers.get("imeis", [])[:1])
    turn.next("skip")
    return True


async def keep_second(turn: Turn) -> None:
    """The second IMEI kept: go on."""
    turn.next()


@dataclass(frozen=True, slots=True)
class ReadBack:
    """Reading the IMEI of slot SLOT (0: the first, 1: the second) back before keeping it."""

    slot: int
    pending: str  # the answer holding the IMEI waiting for a Yes
    ask_again: Callable[[Turn], None]  # when no IMEI is waiting
    on_typed: Callable[[Turn, str], Awaitable[None]]
    kept: Callable[[Turn], Awaitable[None]]  # once kept: how to go on

    def ask(self, turn: Turn) -> None:
        """Read the IMEI back in groups of three: typos that pass the check digit show here."""
        kept = turn.answers.get("imeis") or []
        if not turn.answers.get(self.pending) and len(kept) > self.slot:
            # After /back: the one confirmed before.
            turn.set(**{self.pending: kept[self.slot]})
        pending = turn.answers.get(self.pending)
        if pending is None:
            self.ask_again(turn)
            return
        buttons = [turn.button("imei_right", "yes"), turn.button("imei_wrong", "no")]
        turn.say("ask_imei_ok", turn.keyboard(buttons), imei=Imei(pending).grouped)

    async def on_choice(self, turn: Turn, value: str) -> bool:
        """Keep the IMEI, or type it again."""
        if value == "yes" and turn.answers.get(self.pending):
            before = turn.answers.get("imeis", [])[: self.slot]
            turn.set(imeis=[*before, turn.answers.pop(self.pending)])
            await self.kept(turn)
            return True
        if value == "no":
            turn.next("wrong")
            return True
        return False

    async def on_text(self, turn: Turn, answer: str) -> None:
        """While reading back: digits are a corrected IMEI; words are a 'please tap'."""
        if not any(char.isdecimal() for char in answer):
            raise BadAnswer("tap_yes_or_no")
        await self.on_typed(turn, answer)


# The first IMEI kept, its TAC is checked against the make before going on.
FIRST = ReadBack(0, "pending_imei", ask_imei, on_imei, tac.check)
SECOND = ReadBack(1, "pending_imei2", ask_imei2, on_imei2, keep_second)


question(states.IMEI, ask_imei, on_text=on_imei, on_choice=on_imei_choice)
question(states.IMEI_OK, FIRST.ask, on_text=FIRST.on_text, on_choice=FIRST.on_choice)
question(states.IMEI2, ask_imei2, on_text=on_imei2, on_choice=on_imei2_skip)
question(states.IMEI2_OK, SECOND.ask, on_text=SECOND.on_text, on_choice=SECOND.on_choice)
