"""The stolen phone's number and network, so that the SIM can be blocked (both optional)."""

from __future__ import annotations

from handlers.conversation import states
from handlers.conversation.inputs import BadAnswer, clean_text
from handlers.conversation.optional import optional_text
from handlers.conversation.turn import Turn, question
from handlers.texts import Html, describe
from models.values.phone import InvalidPhone, PhoneNumber

NETWORKS = ("EE", "O2", "Vodafone", "Three", "giffgaff")
MAX_NETWORK = 40


def parse_phone(turn: Turn, answer: str, *, strict: bool) -> PhoneNumber:
    """The number typed, in the deployment's default region unless it has a country code."""
    try:
        return PhoneNumber.parse(answer, turn.context.config.default_region, strict=strict)
    except InvalidPhone as exc:
        raise BadAnswer("phone_invalid", reason=Html(describe(exc, turn.lang))) from None


def read_number(turn: Turn, answer: str) -> dict[str, str]:
    """The stolen phone's number; a possible number is enough, since it only helps blocking."""
    number = parse_phone(turn, answer, strict=False)
    return {"e164": number.e164, "region": number.region}


def ask_network(turn: Turn) -> None:
    """The network: a button for the big ones, or typed."""
    buttons = [turn.labelled(name, f"net:{name}") for name in NETWORKS]
    buttons.append(turn.button("dont_know", "skip"))
    turn.say("ask_network", turn.keyboard(buttons, per_row=3))


async def on_network(turn: Turn, answer: str) -> None:
    """Store the network as typed."""
    turn.set(network=clean_text(answer, max_length=MAX_NETWORK))
    turn.next()


async def on_network_choice(turn: Turn, value: str) -> bool:
    """Store the network tapped, or none."""
    name = value.removeprefix("net:")
    if value.startswith("net:") and name in NETWORKS:
        turn.set(network=name)
    elif value == "skip":
        turn.unset("network")
    else:
        return False
    turn.next()
    return True


optional_text(states.NUMBER, "number", read_number)
question(states.NETWORK, ask_network, on_text=on_network, on_choice=on_network_choice)
