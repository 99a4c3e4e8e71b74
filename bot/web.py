"""Running the staff web console: its settings from ours, and the uvicorn server."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from bot.settings import Settings
from handlers.web.app import create_app
from handlers.web.config import WebConfig
from handlers.web.telegram_login import widget_key
from models.register import Register

# The cookie key derived from INDEX_KEY when WEB_SECRET is unset: every console process of one
# register derives the same, so sessions survive a restart and work behind a load balancer.
COOKIE_KEY_NAMESPACE = "web_console_cookie_key"


def web_config(settings: Settings, register: Register) -> WebConfig:
    """The console's settings."""
    secret = settings.web_secret_value or register.vault.blind_index(COOKIE_KEY_NAMESPACE, "v1")
    # The widget's answers are checked with the bot's token: WEB_LOGIN_BOT needs it.
    key = widget_key(settings.require_token()) if settings.web_login_bot else None
    return WebConfig(
        secret=secret.encode(),
        base_url=settings.web_base_url,
        timezone=settings.timezone,
        default_region=settings.default_region,
        tile_url=settings.web_tile_url,
        login_widget_bot=settings.web_login_bot,
        login_widget_key=key,
    )


def build_web_app(settings: Settings, register: Register) -> FastAPI:
    """The console's ASGI application for REGISTER."""
    return create_app(web_config(settings, register), register)


def web_server(app: FastAPI, host: str, port: int) -> uvicorn.Server:
    """A uvicorn server for APP (no access log: the console logs route patterns, not paths)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        access_log=False,
        log_config=None,
        server_header=False,
        proxy_headers=True,
        lifespan="off",
    )
    return uvicorn.Server(config)
