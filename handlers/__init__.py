"""The Telegram face of the register: conversations, commands, buttons, texts."""

from __future__ import annotations

from telegram.ext import Application

from handlers import conversation, errors, followup, staff


def add_handlers(application: Application) -> None:
    """Install every handler, in the order in which they must be tried."""
    # Order matters within group 0: staff commands, then follow-up (/status, /start with a
    # payload), then the victim's conversation, whose fallback answers unknown commands.
    errors.add_handlers(application)
    staff.add_handlers(application)
    followup.add_handlers(application)
    conversation.add_handlers(application)
