"""How to reach the victim: never taken from this Telegram account or a shared contact."""

from __future__ import annotations

from handlers.conversation import required, states
from handlers.conversation.inputs import BadAnswer, clean_email, clean_name
from handlers.conversation.number import parse_phone
from handlers.conversation.optional import optional_text
from handlers.conversation.turn import Turn, question
from models.values.phone import PhoneNumber, same_number

MAX_NAME = 100
CHANNELS = ("call", "sms", "email", "telegram")


def ask_name(turn: Turn) -> None:
    """The victim's name, typed (the account's name may be the lender's)."""
    turn.say("ask_contact_name", turn.keyboard([]))


async def on_name(turn: Turn, answer: str) -> None:
    """Keep the name as typed."""
    turn.set(contact_name=clean_name(answer, max_length=MAX_NAME))
    turn.next()


def ask_phone(turn: Turn) -> None:
    """A number to reach them on, which cannot be the stolen one."""
    turn.say("ask_contact_phone", turn.keyboard([]))


async def on_phone(turn: Turn, answer: str) -> None:
    """A valid number, and not the stolen phone's."""
    phone = parse_phone(turn, answer, strict=True)
    stolen = turn.answers.get("number")
    if stolen and same_number(phone, PhoneNumber(stolen["e164"], stolen["region"])):
        raise BadAnswer("contact_is_stolen")
    turn.set(contact_phone={"e164": phone.e164, "region": phone.region})
    turn.next()


def read_email(turn: Turn, answer: str) -> str:
    """An address that looks deliverable."""
    return clean_email(answer)


def forget_email_channel(turn: Turn) -> None:
    """Without an address, a channel that needed it is asked again."""
    if turn.answers.get("preferred_channel") == "email":
        turn.unset("preferred_channel")


def channels(turn: Turn) -> list[str]:
    """The channels on offer: e-mail only with an address, this chat only if it is theirs."""
    return required.channels(turn.answers)


def ask_channel(turn: Turn) -> None:
    """How they would like to be contacted."""
    buttons = [turn.button(f"channel_{value}", value) for value in channels(turn)]
    turn.say("ask_channel", turn.keyboard(buttons))


async def on_channel(turn: Turn, value: str) -> bool:
    """Keep a channel that is on offer."""
    if value not in channels(turn):
        return False
    turn.set(preferred_channel=value)
    turn.next()
    return True


question(states.CONTACT_NAME, ask_name, on_text=on_name)
question(states.CONTACT_PHONE, ask_phone, on_text=on_phone)
optional_text(states.CONTACT_EMAIL, "contact_email", read_email, on_skip=forget_email_channel)
question(states.CHANNEL, ask_channel, on_choice=on_channel)
