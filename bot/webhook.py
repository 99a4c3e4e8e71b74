"""The webhook server: Telegram's call is answered only once its update has been processed.

PTB's own webhook server answers 200 as soon as the update is queued, so an update queued but
not processed when the process dies is never sent again. Here the answer waits for the update
processor: a crash before then leaves the call unanswered, and Telegram retries it (the ones
whose effect was already stored are skipped by the processor's `processed_update` check).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import tornado.httpserver
import tornado.netutil
import tornado.web
from telegram import Bot, Update
from tornado.iostream import StreamClosedError

from bot.logging_setup import WEBHOOK_LOGGER

log = logging.getLogger("reportbot.webhook")
# Refusals go to PTB's webhook logger, whose filter turns the first into one warning.
refusals = logging.getLogger(WEBHOOK_LOGGER)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)

Processor = Callable[[Update], Awaitable[Any]]


class WebhookServer:
    """Serves PATH on LISTEN:PORT; each update is processed before Telegram gets its 200."""

    def __init__(
        self,
        bot: Bot,
        process: Processor,
        *,
        listen: str,
        port: int,
        path: str,
        secret: str,
    ) -> None:
        """Hand each update POSTed with SECRET to PROCESS (awaited before answering)."""
        self.bot = bot
        self.process = process
        self.listen = listen
        self.port = port
        self.path = path
        self.secret = secret
        self.in_flight: dict[int, asyncio.Task[None]] = {}
        self.stopping = False
        self.task: asyncio.Task[None] | None = None  # nothing runs beside the server
        self._server: tornado.httpserver.HTTPServer | None = None

    async def start(self) -> None:
        """Listen (raises OSError when the address is taken); the caller sets the webhook."""
        app = tornado.web.Application(
            [(re.escape(self.path), _UpdateHandler, {"server": self})],
            log_function=lambda handler: None,
        )
        sockets = tornado.netutil.bind_sockets(self.port, self.listen)
        self._server = tornado.httpserver.HTTPServer(app)
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        """Take no new calls, let the updates in flight finish (and be answered), then close."""
        self.stopping = True
        if self._server is None:
            return
        self._server.stop()
        while self.in_flight:
            tasks = list(self.in_flight.items())
            await asyncio.gather(*(task for _, task in tasks), return_exceptions=True)
            for update_id, task in tasks:
                if task.done():
                    self.in_flight.pop(update_id, None)
        # Let the handlers write their answers before the connections close.
        await asyncio.sleep(0)
        await self._server.close_all_connections()
        self._server = None

    def accepts(self, token: str | None) -> bool:
        """Whether TOKEN is the webhook secret (compared in constant time)."""
        if token is None:
            refusals.debug("Request did not include the secret token")
            return False
        if not hmac.compare_digest(token.encode(), self.secret.encode()):
            refusals.debug("Request had the wrong secret token: %s", token)
            return False
        return True

    async def handle(self, update: Update) -> None:
        """Process UPDATE (or wait for it, when Telegram retries one still in flight)."""
        task = self.in_flight.get(update.update_id)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._run(update))
            self.in_flight[update.update_id] = task
        # Shielded: the caller going away does not cut the update half-way.
        await asyncio.shield(task)

    async def _run(self, update: Update) -> None:
        try:
            await self.process(update)
        finally:
            self.in_flight.pop(update.update_id, None)


class _UpdateHandler(tornado.web.RequestHandler):
    """POST <path>: one update from Telegram."""

    def initialize(self, server: WebhookServer) -> None:
        self.server = server

    def log_exception(self, *args: Any) -> None:
        """Errors are logged by the server's own code, without request details."""

    async def post(self) -> None:
        server = self.server
        if not server.accepts(self.request.headers.get(SECRET_HEADER)):
            await self._answer(403)
            return
        if server.stopping:
            await self._answer(503)  # Telegram delivers it again later
            return
        try:
            update = Update.de_json(json.loads(self.request.body), server.bot)
        except (ValueError, TypeError, KeyError):
            log.warning("webhook request with a body that is not an update; answered 400")
            await self._answer(400)
            return
        try:
            await server.handle(update)
        except Exception:
            log.exception(
                "processing an update failed; Telegram will retry it",
                extra={"update_id": update.update_id},
            )
            await self._answer(500)
            return
        await self._answer(200)

    async def _answer(self, status: int) -> None:
        self.set_status(status)
        # Telegram may have given up waiting; nothing to do then, it delivers again.
        with contextlib.suppress(StreamClosedError):
            await self.finish()
