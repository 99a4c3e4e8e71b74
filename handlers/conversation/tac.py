"""The TAC check: when the IMEI's TAC names another brand than the make chosen, ask gently.

With a TAC table imported (`reportbot tac import`), "this IMEI belongs to a Samsung Galaxy S21:
is that your phone?" Yes corrects the make; No keeps it (the report is flagged to staff, and
its history says what the victim was shown); or the victim checks the IMEI again. Without a
table, or when the TAC is unknown or agrees, nothing is asked.
"""

from __future__ import annotations

from handlers.conversation import states
from handlers.conversation.turn import Turn, question
from models.values.imei import Imei

PENDING = "pending_tac"
# A TAC brand the make buttons know -> the make button's value.
MAKE_OF_BRAND = {"apple": "apple", "samsung": "samsung", "google": "google"}
PLATFORM_OF_CHOICE = {"apple": "iphone", "samsung": "android", "google": "android"}


async def check(turn: Turn) -> None:
    """After the first IMEI is kept: ask about a TAC that disagrees, else go on."""
    imeis = turn.answers.get("imeis") or []
    make = turn.answers.get("make")
    found = await turn.context.register.tac.check(Imei(imeis[0]), make) if imeis and make else None
    if found is None or not found.mismatch:
        turn.unset(PENDING, "tac_kept_against")
        turn.next()
        return
    phone = " ".join(part for part in (found.brand, found.model) if part)
    turn.set(**{PENDING: {"brand": found.brand, "key": found.brand_key, "phone": phone}})
    turn.next("tac")


def ask_tac(turn: Turn) -> None:
    """The brand and model the TAC names, and three ways on."""
    pending = turn.answers.get(PENDING)
    if not pending:
        turn.goto(states.IMEI2)
        return
    buttons = [
        turn.labelled(turn.t("button_tac_yes", brand=pending["brand"])[:40], "yes"),
        turn.button("tac_keep", "keep"),
        turn.button("tac_retype", "retype"),
    ]
    turn.say("ask_tac", turn.keyboard(buttons, per_row=1), phone=pending["phone"])


async def on_tac(turn: Turn, value: str) -> bool:
    """Yes: the make is the TAC's; keep: the victim's make stays (flagged); retype the IMEI."""
    pending = turn.answers.get(PENDING)
    if not pending:
        return False
    if value == "yes":
        choice = MAKE_OF_BRAND.get(pending["key"])
        if choice is None:
            turn.set(make_choice="other", make="other")
        else:
            turn.set(make_choice=choice, make=choice, platform=PLATFORM_OF_CHOICE[choice])
        turn.unset(PENDING, "tac_kept_against")
    elif value == "keep":
        turn.set(tac_kept_against=pending["phone"])
        turn.unset(PENDING)
    elif value == "retype":
        turn.unset(PENDING, "pending_imei")
        turn.next("wrong")
        return True
    else:
        return False
    turn.next()
    return True


question(states.TAC_OK, ask_tac, on_choice=on_tac)
