"""Which language a follow-up chat reads in, and the status view as it reads it."""

from __future__ import annotations

from typing import Any

from handlers.common import chosen_language
from handlers.context import BotContext
from handlers.engine.language import of as reader_language
from handlers.engine.language import pick
from handlers.followup import views
from models.services.reports import ReportView
from models.services.subscriptions import ActiveSubscription


def user_language(update: object, context: BotContext) -> str:
    """The language to answer this chat in when no report is known yet."""
    return reader_language(update, context)


async def reading_language(
    context: BotContext,
    chat_id: int,
    report: ReportView,
    following: ActiveSubscription | None = None,
) -> str:
    """The language CHAT_ID reads REPORT in: picked, else its subscription's, else the report's.

    Never the account's language: on a borrowed phone it is the lender's.
    """
    picked = chosen_language(context)
    if picked is None:
        if following is None:
            following = await context.register.subscriptions.following(report.id, chat_id)
        picked = following.language if following is not None else None
    return pick(picked, report.get("language"))


async def view_parts(
    context: BotContext, chat_id: int, report: ReportView, token: str
) -> tuple[str, Any]:
    """The status view's text and keyboard for this chat."""
    following = await context.register.subscriptions.following(report.id, chat_id)
    language = await reading_language(context, chat_id, report, following)
    return shown(context, report, token, subscribed=following is not None, language=language)


def shown(
    context: BotContext, report: ReportView, token: str, *, subscribed: bool, language: str
) -> tuple[str, Any]:
    """The status view's text and keyboard, from what this update already knows."""
    body = views.status_text(
        report, subscribed=subscribed, language=language, config=context.config
    )
    keyboard = views.status_keyboard(report, subscribed=subscribed, token=token, language=language)
    return body, keyboard
