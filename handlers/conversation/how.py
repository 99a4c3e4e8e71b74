"""How a theft from the person happened: snatched (on foot, bike, moped) or pickpocketed."""

from __future__ import annotations

from handlers.conversation import states
from handlers.conversation.losskinds import METHODS
from handlers.conversation.turn import Turn, question

NOT_SURE = "unknown"


def ask_how(turn: Turn) -> None:
    """One button per way phones are taken from people, and "I don't know"."""
    buttons = [turn.button(f"how_{method}", method) for method in METHODS]
    buttons.append(turn.button("dont_know", NOT_SURE))
    turn.say("ask_how", turn.keyboard(buttons))


async def on_how(turn: Turn, value: str) -> bool:
    """Keep the method (none when not sure), then on to the map."""
    if value == NOT_SURE:
        turn.unset("theft_method")
    elif value in METHODS:
        turn.set(theft_method=value)
    else:
        return False
    turn.next()
    return True


question(states.HOW, ask_how, on_choice=on_how)
