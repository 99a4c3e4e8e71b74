"""A staff member's message, as the staff's steps run it: the replies it earns, sent in order."""

from __future__ import annotations

from dataclasses import dataclass, field

from telegram import InlineKeyboardMarkup, Message

from handlers.context import BotContext
from handlers.staff.access import StaffUser


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file to send: its bytes, its name, its caption."""

    content: bytes
    filename: str
    caption: str


@dataclass(slots=True)
class StaffTurn:
    """Who wrote (their role checked), in which chat, which message; and what to answer.

    A step queues its replies (`say`, `attach`); `flush` sends them once it is done, messages as
    replies to the staff member's message, files to their chat, in the order queued.
    """

    context: BotContext
    staff: StaffUser
    chat_id: int
    message: Message
    out: list[tuple[str, InlineKeyboardMarkup | None] | Attachment] = field(default_factory=list)

    def say(self, body: str, markup: InlineKeyboardMarkup | None = None) -> None:
        """Queue BODY (with MARKUP's buttons)."""
        self.out.append((body, markup))

    def attach(self, content: bytes, filename: str, caption: str) -> None:
        """Queue a file."""
        self.out.append(Attachment(content, filename, caption))

    async def flush(self) -> None:
        """Send what was queued, in order."""
        for reply in self.out:
            if isinstance(reply, Attachment):
                await self.context.bot.send_document(
                    self.chat_id,
                    document=reply.content,
                    filename=reply.filename,
                    caption=reply.caption,
                )
            else:
                await self.message.reply_text(reply[0], reply_markup=reply[1])
        self.out.clear()
