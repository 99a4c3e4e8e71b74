"""Lost or stolen, asked plainly: lost (not a crime), theft from the person, or robbery.

Police count these apart, and only a crime is worth a call to the police: a lost phone gets no
robbery warning and no push to report it, a robbery is urged to 101 (999 in danger) at once.
A theft from the person goes on to how it was taken (snatched, pickpocketed).
"""

from __future__ import annotations

from handlers.conversation import states
from handlers.conversation.losskinds import CHOICES
from handlers.conversation.turn import Turn, question
from models.values.loss import LossKind


def ask_loss(turn: Turn) -> None:
    """Stolen (without force, or with force or threats), or lost."""
    buttons = [turn.button(f"loss_{value}", value) for value in CHOICES]
    turn.say("ask_loss", turn.keyboard(buttons, per_row=1))


async def on_loss(turn: Turn, value: str) -> bool:
    """Keep the kind; a theft goes on to how, a robbery is urged to the police, lost is told
    it is not a crime."""
    if value not in CHOICES:
        return False
    kind, method = CHOICES[value]
    turn.set(loss_kind=kind.value)
    if method is None:
        if turn.answers.get("theft_method") in ("force", "lost"):
            turn.unset("theft_method")
        turn.next("theft")
        return True
    turn.set(theft_method=method)
    if kind is LossKind.ROBBERY:
        config = turn.context.config
        turn.say(
            "robbery",
            emergency=config.emergency_number,
            non_emergency=config.non_emergency_number,
        )
    else:
        turn.say("lost_note")
    turn.next()
    return True


question(states.LOSS, ask_loss, on_choice=on_loss)
