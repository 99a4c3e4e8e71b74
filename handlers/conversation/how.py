"""How it was taken; force or threats make it a robbery, to report to the police too."""

from __future__ import annotations

from handlers.conversation import states
from handlers.conversation.turn import Turn, question

# The register's theft_method codes, in the order the buttons show them.
METHODS = ("snatched_foot", "snatched_bike", "snatched_moped", "pickpocket", "force", "lost")


def ask_how(turn: Turn) -> None:
    """One button per way phones are taken."""
    buttons = [turn.button(f"how_{method}", method) for method in METHODS]
    turn.say("ask_how", turn.keyboard(buttons))


async def on_how(turn: Turn, value: str) -> bool:
    """Keep the method; urge a robbery report when force or threats were used."""
    if value not in METHODS:
        return False
    turn.set(theft_method=value)
    if value == "force":
        config = turn.context.config
        turn.say(
            "robbery",
            emergency=config.emergency_number,
            non_emergency=config.non_emergency_number,
        )
    turn.next()
    return True


question(states.HOW, ask_how, on_choice=on_how)
