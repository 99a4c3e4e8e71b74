"""The phone: make (which tells the platform), model, colour or marks."""

from __future__ import annotations

from handlers import advice
from handlers.conversation import states
from handlers.conversation.inputs import clean_text
from handlers.conversation.optional import optional_text
from handlers.conversation.turn import Turn, question
from models.values.freetext import require_words

# The button's value: (make as the register stores it, platform).
MAKES = {
    "apple": ("apple", "iphone"),
    "samsung": ("samsung", "android"),
    "google": ("google", "android"),
    "android": ("other", "android"),
    "other": ("other", "other"),
}
MAX_MODEL = 60
MAX_COLOUR = 200


def ask_make(turn: Turn) -> None:
    """Which make: the answer tailors the advice."""
    buttons = [turn.button(f"make_{value}", value) for value in MAKES]
    turn.say("ask_make", turn.keyboard(buttons))


async def on_make(turn: Turn, value: str) -> bool:
    """Store make and platform; the first time, say what to do right now."""
    if value not in MAKES:
        return False
    make, platform = MAKES[value]
    turn.set(make_choice=value, make=make, platform=platform)
    if not turn.answers.get("_urgent_shown"):
        turn.set(_urgent_shown=True)
        turn.send(advice.urgent(turn.lang, platform), keep=True)
    turn.next()
    return True


def model_example(turn: Turn) -> dict[str, object]:
    """The model question's example, for the make chosen."""
    return {"example": turn.t(f"model_example_{turn.answers.get('make_choice', 'other')}")}


def read_model(turn: Turn, answer: str) -> str:
    """The model as typed (words, not just digits or signs)."""
    return require_words(clean_text(answer, max_length=MAX_MODEL), field="model")


def read_colour(turn: Turn, answer: str) -> str:
    """Colour, case or marks as typed: what tells this phone from others like it."""
    return clean_text(answer, max_length=MAX_COLOUR)


question(states.MAKE, ask_make, on_choice=on_make)
optional_text(states.MODEL, "model", read_model, details=model_example)
optional_text(states.COLOUR, "colour", read_colour)
