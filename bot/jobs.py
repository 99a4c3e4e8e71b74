"""Background work of a running bot that is not about Telegram: the daily retention purge."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta

from telegram.ext import Application

from handlers.context import BotContext
from models.storage.columns import utcnow

PURGE_INTERVAL = timedelta(days=1)
# The first purge waits a little, so that starting the bot stays quick.
PURGE_FIRST = timedelta(minutes=5)

log = logging.getLogger("reportbot.jobs")


async def purge(context: BotContext) -> None:
    """Delete what is past its retention (ended reports, expired drafts, working data)."""
    result = await context.register.retention.purge(utcnow(), actor="system")
    log.info("retention purge done %s", " ".join(f"{k}={v}" for k, v in asdict(result).items()))


def schedule(application: Application) -> None:
    """Run the retention purge once a day while the bot runs."""
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            purge, interval=PURGE_INTERVAL, first=PURGE_FIRST, name="retention-purge"
        )
