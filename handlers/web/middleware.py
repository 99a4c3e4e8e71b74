"""ASGI middleware: security headers on every response, and one log line a request.

The log line names the route's pattern (`/report/{reference}`), never the path itself, so no
reference, token or query reaches the logs; 4xx are logged once here and nowhere else.

An error that escapes a page is caught here, not by Starlette's ServerErrorMiddleware (whose 500
carries none of our headers, and whose server logs the exception's message, which may quote
personal data): it becomes our own 500 page, with the headers, and one log line naming the
route, the exception's type and where it was raised, never its message.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("reportbot.web.requests")


class ConsoleMiddleware:
    """Adds HEADERS (and no-store outside /static), logs each request by its route, and answers
    an escaped error with FAILED's page."""

    def __init__(
        self, app: ASGIApp, headers: dict[str, str], failed: Callable[[Scope], Response]
    ) -> None:
        """Wrap APP."""
        self.app = app
        self.headers = headers
        self.failed = failed

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

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception as exc:
            log.error("web %s %s failed: %s", scope["method"], _pattern(scope), _where(exc))
            if "code" not in status:
                await self.failed(scope)(scope, receive, send_with_headers)
            # Else the response was under way (a download): it ends cut short, not "complete".
            return
        code = status.get("code", 500)
        if static and code < 400:
            return
        level = logging.INFO if code < 400 else logging.WARNING
        log.log(level, "web %s %s %d", scope["method"], _pattern(scope), code)


def _pattern(scope: Scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "(no route)"


def _where(exc: BaseException) -> str:
    """The exception's type and the innermost frame of the project that raised it (no message:
    database errors quote the values they were given)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [frame for frame in frames if "/site-packages/" not in frame.filename] or frames
    if not ours:
        return type(exc).__name__
    frame = ours[-1]
    file = frame.filename.rsplit("/", 1)[-1]
    return f"{type(exc).__name__} at {file}:{frame.lineno} in {frame.name}"
