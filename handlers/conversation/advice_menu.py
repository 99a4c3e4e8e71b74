"""/advice inside the conversation: tailored when the platform is known, else asked first."""

from __future__ import annotations

from handlers import advice
from handlers.conversation import keyboards
from handlers.conversation.turn import Turn
from handlers.texts import text


def platform_keyboard(turn: Turn) -> keyboards.InlineKeyboardMarkup | None:
    """iPhone / Android / other: buttons that work with or without a draft."""
    buttons = [
        keyboards.button(
            text(f"advice.button_{platform}", turn.lang),
            keyboards.NO_DRAFT,
            keyboards.ANY_STEP,
            f"adv:{platform}",
        )
        for platform in advice.PLATFORMS
    ]
    return keyboards.markup(keyboards.rows(buttons, 3))


def offer(turn: Turn) -> None:
    """The advice for the draft's platform, or the question which platform it is."""
    platform = turn.draft.answers.get("platform") if turn.draft is not None else None
    if platform:
        show(turn, platform)
    else:
        turn.send(advice.choose_platform_text(turn.lang), platform_keyboard(turn))


def show(turn: Turn, platform: str) -> None:
    """The advice messages for PLATFORM (for the draft's make, when it is that platform's)."""
    answers = turn.draft.answers if turn.draft is not None else {}
    make = answers.get("make") if answers.get("platform") == platform else None
    for message in advice.full(turn.lang, platform, make):
        turn.send(message)
