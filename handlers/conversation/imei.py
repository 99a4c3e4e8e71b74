"""The IMEI: typed in any form, read back digit-grouped, an optional second one."""

from __future__ import annotations

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


def _pending(turn: Turn, name: str, slot: int) -> str | None:
    """The IMEI waiting for confirmation; after /back, the one confirmed before."""
    kept = turn.answers.get("imeis") or []
    if not turn.answers.get(name) and len(kept) > slot:
        turn.set(**{name: kept[slot]})
    return turn.answers.get(name)


def ask_imei_ok(turn: Turn) -> None:
    """Read the IMEI back in groups of three: typos that pass the check digit show here."""
    pending = _pending(turn, "pending_imei", 0)
    if pending is None:
        ask_imei(turn)
        return
    grouped = Imei(pending).grouped
    buttons = [turn.button("imei_right", "yes"), turn.button("imei_wrong", "no")]
    turn.say("ask_imei_ok", turn.keyboard(buttons), imei=grouped)


async def on_imei_ok(turn: Turn, value: str) -> bool:
    """Keep the IMEI, or type it again."""
    if value == "yes" and turn.answers.get("pending_imei"):
        turn.set(imeis=[turn.answers.pop("pending_imei")])
        await tac.check(turn)
        return True
    if value == "no":
        turn.next("wrong")
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


def ask_imei2_ok(turn: Turn) -> None:
    """Read the second IMEI back."""
    pending = _pending(turn, "pending_imei2", 1)
    if pending is None:
        ask_imei2(turn)
        return
    grouped = Imei(pending).grouped
    buttons = [turn.button("imei_right", "yes"), turn.button("imei_wrong", "no")]
    turn.say("ask_imei_ok", turn.keyboard(buttons), imei=grouped)


async def on_imei2_ok(turn: Turn, value: str) -> bool:
    """Keep the second IMEI, or type it again."""
    if value == "yes" and turn.answers.get("pending_imei2"):
        first = turn.answers.get("imeis", [])[:1]
        turn.set(imeis=[*first, turn.answers.pop("pending_imei2")])
        turn.next()
        return True
    if value == "no":
        turn.next("wrong")
        return True
    return False


async def on_imei_retyped(turn: Turn, answer: str) -> None:
    """While reading back: digits are a corrected IMEI; words are a 'please tap'."""
    if not any(char.isdecimal() for char in answer):
        raise BadAnswer("tap_yes_or_no")
    await on_imei(turn, answer)


async def on_imei2_retyped(turn: Turn, answer: str) -> None:
    """While reading back the second IMEI: the same, for the second."""
    if not any(char.isdecimal() for char in answer):
        raise BadAnswer("tap_yes_or_no")
    await on_imei2(turn, answer)


question(states.IMEI, ask_imei, on_text=on_imei, on_choice=on_imei_choice)
question(states.IMEI_OK, ask_imei_ok, on_text=on_imei_retyped, on_choice=on_imei_ok)
question(states.IMEI2, ask_imei2, on_text=on_imei2, on_choice=on_imei2_skip)
question(states.IMEI2_OK, ask_imei2_ok, on_text=on_imei2_retyped, on_choice=on_imei2_ok)
