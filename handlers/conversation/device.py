"""The phone: make (which tells the platform), model, colour or marks."""

from __future__ import annotations

from handlers import advice
from handlers.conversation import states
from handlers.conversation.inputs import clean_text
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


def ask_model(turn: Turn) -> None:
    """Which model (optional)."""
    example = turn.t(f"model_example_{turn.answers.get('make_choice', 'other')}")
    turn.say("ask_model", turn.keyboard([turn.button("skip", "skip")]), example=example)


async def on_model(turn: Turn, answer: str) -> None:
    """Store the model as typed."""
    turn.set(model=require_words(clean_text(answer, max_length=MAX_MODEL), field="model"))
    turn.next()


async def on_model_skip(turn: Turn, value: str) -> bool:
    """No model given."""
    if value != "skip":
        return False
    turn.unset("model")
    turn.next()
    return True


def ask_colour(turn: Turn) -> None:
    """Colour, case or marks (optional): what tells this phone from others like it."""
    turn.say("ask_colour", turn.keyboard([turn.button("skip", "skip")]))


async def on_colour(turn: Turn, answer: str) -> None:
    """Store the description as typed."""
    turn.set(colour=clean_text(answer, max_length=MAX_COLOUR))
    turn.next()


async def on_colour_skip(turn: Turn, value: str) -> bool:
    """No description given."""
    if value != "skip":
        return False
    turn.unset("colour")
    turn.next()
    return True


question(states.MAKE, ask_make, on_choice=on_make)
question(states.MODEL, ask_model, on_text=on_model, on_choice=on_model_skip)
question(states.COLOUR, ask_colour, on_text=on_colour, on_choice=on_colour_skip)
