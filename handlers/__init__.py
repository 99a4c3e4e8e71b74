"""The Telegram face of the register: conversations, commands, buttons, texts."""

from __future__ import annotations

from telegram.ext import Application

from handlers import routing


def add_handlers(application: Application) -> None:
    """Install every handler, in the one order in which they are tried (handlers/routing.py)."""
    routing.install(application)
