"""A staff member's button press, as the staff's button tables run it."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import CallbackQuery, InlineKeyboardMarkup

from handlers.context import BotContext
from handlers.staff.access import StaffUser


@dataclass(frozen=True, slots=True)
class Press:
    """Who pressed (their role checked), in which chat, on which button; and what it is about."""

    context: BotContext
    staff: StaffUser
    chat_id: int
    query: CallbackQuery
    about: str = ""

    async def settle(self) -> None:
        """Stop the button's spinner and take the buttons off the message it was pressed on."""
        await self.query.answer()
        message = self.query.message
        if message is not None and getattr(message, "reply_markup", None) is not None:
            await self.query.edit_message_reply_markup(reply_markup=None)

    async def say(self, body: str, markup: InlineKeyboardMarkup | None = None) -> None:
        """Send BODY to the staff member's chat."""
        await self.context.bot.send_message(self.chat_id, body, reply_markup=markup)
