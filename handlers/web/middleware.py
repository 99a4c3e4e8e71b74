"""ASGI middleware: security headers on every response, and one log line a request.

The log line names the route's pattern (`/report/{reference}`), never the path itself, so no
reference, token or query reaches the logs; 4xx are logged once here and nowhere else.
"""

from __future__ import annotations

import logging

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("reportbot.web.requests")


class ConsoleMiddleware:
    """Adds HEADERS (and no-store outside /static) and logs each request by its route."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        """Wrap APP."""
        self.app = app
        self.headers = headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status: dict[str, int] = {}
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                headers = MutableHeaders(scope=message)
                # A page may set its own policy (the sign-in page with Telegram's widget).
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if not static:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
        code = status.get("code", 500)
        if static and code < 400:
            return
        level = logging.INFO if code < 400 else logging.WARNING
        log.log(level, "web %s %s %d", scope["method"], _pattern(scope), code)


def _pattern(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "(no route)"
