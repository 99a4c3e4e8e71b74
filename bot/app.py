"""Building the telegram Application: the same one for `run`, `console` and the tests."""

from __future__ import annotations

from typing import Any

from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    BaseUpdateProcessor,
    ContextTypes,
    Defaults,
)
from telegram.request import BaseRequest

import handlers
from bot import jobs
from bot.delivery import start_delivery, stop_delivery
from bot.ratelimit import DEFAULT_OVERALL_RATE, PacedRateLimiter
from bot.settings import Settings
from handlers.context import BotContext, HandlerConfig, install
from models.register import Register

CONSOLE_TOKEN = "1:local-console"  # noqa: S105 - a placeholder, not a secret


def handler_config(settings: Settings) -> HandlerConfig:
    """The part of the settings the handlers see."""
    return HandlerConfig(
        default_region=settings.default_region,
        draft_ttl_hours=settings.draft_ttl_hours,
        emergency_number=settings.emergency_number,
        non_emergency_number=settings.police_non_emergency,
        timezone=settings.timezone,
        web_base_url=settings.web_base_url,
    )


DELIVERY_RATE_KEY = "delivery_rate"


def default_rate_limiter(rate: float = DEFAULT_OVERALL_RATE, **options: Any) -> PacedRateLimiter:
    """RATE new messages a second in all (DELIVERY_RATE_PER_SECOND), and one a second a chat."""
    return PacedRateLimiter(overall_rate=rate, **options)


async def _post_init(application: Application) -> None:
    """Start the background work: delivering the outbox, within the process's rate."""
    await start_delivery(application, rate=application.bot_data.get(DELIVERY_RATE_KEY))


async def _post_stop(application: Application) -> None:
    """Stop the background work, after the messages in flight."""
    await stop_delivery(application)


def build_application(
    settings: Settings,
    register: Register,
    *,
    request: BaseRequest | None = None,
    token: str | None = None,
    rate_limiter: BaseRateLimiter | None = None,
    update_processor: BaseUpdateProcessor | None = None,
    with_updater: bool = True,
) -> Application:
    """The bot's Application with every handler, reaching the register through its context."""
    builder = (
        ApplicationBuilder()
        .token(token or settings.require_token())
        .context_types(ContextTypes(context=BotContext))
        .defaults(Defaults(parse_mode=ParseMode.HTML, disable_notification=False))
        .post_init(_post_init)
        .post_stop(_post_stop)
    )
    if settings.telegram_api_base_url:
        base = settings.telegram_api_base_url
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if rate_limiter is not None:
        builder = builder.rate_limiter(rate_limiter)
    if update_processor is not None:
        builder = builder.concurrent_updates(update_processor)
    if not with_updater:
        builder = builder.updater(None)
    application = builder.build()
    install(application, register, handler_config(settings))
    application.bot_data[DELIVERY_RATE_KEY] = settings.delivery_rate_per_second
    handlers.add_handlers(application)
    jobs.schedule(application)
    return application
