"""Safety first, privacy and consent, language, and whose Telegram account this is."""

from __future__ import annotations

from telegram import InlineKeyboardButton

from handlers.conversation import advice_menu, keyboards, states
from handlers.conversation.keyboards import ANY_STEP
from handlers.conversation.turn import Turn, question
from handlers.i18n.languages import offered
from handlers.texts import languages, text

LANGUAGES_PER_ROW = 3


def ask_consent(turn: Turn) -> None:
    """The first message: 999 if in danger, what we collect and why, consent, and the languages.

    On a borrowed phone the account's language is the lender's: every language is offered on
    this first screen (the account's first), so that the victim can switch before anything else.
    """
    buttons = [turn.button("agree", "yes"), turn.button("advice_only", "advice")]
    rows = keyboards.rows(buttons, 1) + keyboards.rows(language_buttons(turn), LANGUAGES_PER_ROW)
    turn.say(
        "welcome",
        keyboards.markup(rows),
        emergency=turn.context.config.emergency_number,
        retention_days=turn.context.register.config.report_retention_days,
        draft_hours=turn.context.config.draft_ttl_hours,
    )


async def on_consent(turn: Turn, value: str) -> bool:
    """Agreeing starts the questions; the advice alone is there for whoever wants only that."""
    if value == "yes":
        turn.set(consent=True)
        turn.next()
        return True
    if value == "advice":
        advice_menu.offer(turn)
        return True
    return False


def ask_account(turn: Turn) -> None:
    """Is this Telegram account the victim's own, or borrowed?"""
    buttons = [turn.button("account_own", "own"), turn.button("account_borrowed", "borrowed")]
    turn.say("ask_account", turn.keyboard(buttons, per_row=1))


async def on_account(turn: Turn, value: str) -> bool:
    """Remember whose account this is: only an own account is ever written to later."""
    if value not in ("own", "borrowed"):
        return False
    own = value == "own"
    turn.set(own_account=own)
    if not own and turn.answers.get("preferred_channel") == "telegram":
        turn.unset("preferred_channel")
    turn.next()
    return True


def offer_resume(turn: Turn) -> None:
    """After a restart (or a long pause), offer to continue the unfinished draft."""
    buttons = [turn.any_button("continue", "continue"), turn.any_button("restart", "restart")]
    turn.say("resume", turn.keyboard(buttons, per_row=1))
    turn.live_after = False


def language_buttons(turn: Turn) -> list[InlineKeyboardButton]:
    """A button for every language, named in itself; the account's language (if spoken) first."""
    if len(languages()) < 2:
        return []
    user = turn.update.effective_user
    return [
        turn.labelled(text("common.language_name", code), f"lang:{code}", step=ANY_STEP)
        for code in offered(user.language_code if user is not None else None)
    ]


def offer_languages(turn: Turn) -> None:
    """The languages there are, each named in itself (/language, at any step)."""
    buttons = language_buttons(turn)
    if not buttons:
        turn.say("one_language")
        return
    turn.say("choose_language", turn.keyboard(buttons, per_row=LANGUAGES_PER_ROW))


question(states.CONSENT, ask_consent, on_choice=on_consent)
question(states.ACCOUNT, ask_account, on_choice=on_account)
