"""What staff type after a command, read once: a reference, or the polite refusal."""

from __future__ import annotations

from telegram import Message

from handlers.texts import Html, describe, text
from models.values.reference import InvalidReference, Reference


async def reference_in(message: Message, typed: str) -> Reference | None:
    """The reference TYPED, or None once MESSAGE was answered with what is wrong with it."""
    try:
        return Reference.parse(typed)
    except InvalidReference as exc:
        await message.reply_text(text("staff.bad_reference", reason=Html(describe(exc))))
        return None
