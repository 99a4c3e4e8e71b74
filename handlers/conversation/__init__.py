"""The victim's conversation: one router over the draft's step (see docs/conversation.md).

Where its handlers stand among the others: handlers/routing.py.
"""

from __future__ import annotations

from handlers.context import BotContext

# Each step module declares its questions on import.
from handlers.conversation import (  # noqa: F401
    commands,
    contact,
    device,
    fallback,
    how,
    imei,
    loss,
    number,
    review,
    router,
    submit,
    tac,
    welcome,
    when,
    where,
)
from handlers.engine import clock


async def expire_drafts(context: BotContext) -> None:
    """Delete drafts idle past their time (access also ignores them; purge deletes them too)."""
    await context.register.drafts.expire(now=clock.now())
