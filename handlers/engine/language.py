"""The one language resolver: which language a reader of this chat reads.

In order: the language of what the message is about (the draft's, the report's, the following
chat's) when the caller knows one; then the language this chat chose (/language, the first
screen); then the Telegram account's language_code, if we speak it; then English.
"""

from __future__ import annotations

from typing import Any

from telegram import Update

from handlers.i18n.languages import ENGLISH, available, resolve

CHOSEN = "language"  # user_data: the language this user chose


def chosen(context: Any) -> str | None:
    """The language this user chose in this bot, if any."""
    user_data = getattr(context, "user_data", None)
    found = user_data.get(CHOSEN) if user_data is not None else None
    return str(found) if found else None


def remember(context: Any, code: str) -> None:
    """Keep CODE as this user's choice."""
    if getattr(context, "user_data", None) is not None:
        context.user_data[CHOSEN] = code


def account(update: object) -> str | None:
    """The language the Telegram account is set to, if we speak it."""
    user = update.effective_user if isinstance(update, Update) else None
    return resolve(user.language_code) if user is not None else None


def pick(*candidates: str | None) -> str:
    """The first of CANDIDATES we speak, else English."""
    spoken = available()
    for code in candidates:
        if code and code in spoken:
            return code
    return ENGLISH


def of(update: object, context: Any, *about: str | None) -> str:
    """The language to write to this chat in: ABOUT first, then the choice, then the account."""
    return pick(*about, chosen(context), account(update))
