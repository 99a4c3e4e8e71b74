"""`reportbot web`: the staff web console."""

from __future__ import annotations

import argparse
import logging

from bot import runtime
from bot.logging_setup import configure_logging
from bot.settings import Settings
from bot.web import build_web_app, web_server

log = logging.getLogger("reportbot.web")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register `web`."""
    web = subparsers.add_parser(
        "web",
        help="serve the staff web console (sign in with `reportbot staff login-link` or /web)",
    )
    web.add_argument("--host", help="address to listen on (default: WEB_HOST, 127.0.0.1)")
    web.add_argument("--port", type=int, help="port to listen on (default: WEB_PORT, 8080)")
    web.set_defaults(func=web_command)


async def web_command(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the console until SIGTERM or SIGINT."""
    configure_logging(settings.log_level, secrets=settings.secret_values())
    register = await runtime.open_register(settings)
    try:
        host = args.host or settings.web_host
        port = args.port or settings.web_port
        server = web_server(build_web_app(settings, register), host, port)
        log.info("staff console on %s:%d, for %s", host, port, settings.web_base_url)
        await server.serve()
    finally:
        await register.close()
    return 0
