"""The webhook server: Telegram's call is answered only once its update has been processed.

PTB's own webhook server answers 200 as soon as the update is queued, so an update queued but
not processed when the process dies is never sent again. Here the answer waits for the update
processor: a crash before then leaves the call unanswered, and Telegram retries it (the ones
whose effect was already stored are skipped by the processor's `processed_update` check).

A request is judged on its headers before any of its body is read: without the secret it gets
403, with a body larger than any update (`MAX_BODY_BYTES`) 413, and neither is read further.
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
from tornado.http1connection import HTTP1Connection
from tornado.iostream import StreamClosedError

from bot.logging_setup import WEBHOOK_LOGGER
from bot.processing import UpdateDeferred, finish_in_flight

log = logging.getLogger("reportbot.webhook")
# Refusals go to PTB's webhook logger, whose filter turns the first into one warning.
refusals = logging.getLogger(WEBHOOK_LOGGER)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)
# An update is a message of at most 4,096 characters with its entities, or a caption, a poll,
# a quoted message...: a few kilobytes, tens at most. A megabyte leaves room and bounds memory.
MAX_BODY_BYTES = 1 << 20
# What a refused request may announce without tornado answering it a second time (400).
UNREAD_BODY_BYTES = 1 << 62

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
        # Bodies are streamed to the handler, which lets them be read only from Telegram.
        self._server = tornado.httpserver.HTTPServer(app, max_body_size=MAX_BODY_BYTES)
        self._server.add_sockets(sockets)

    async def stop(self, deadline: float | None = None) -> int:
        """Take no new calls; let the updates in flight finish until DEADLINE (loop time).

        Updates still running then are cancelled and answered 503: Telegram delivers them
        again. Returns how many were cancelled.
        """
        self.stopping = True
        if self._server is None:
            return 0
        self._server.stop()
        cancelled = await finish_in_flight(self.in_flight, deadline)
        # Let the handlers write their answers before the connections close.
        await asyncio.sleep(0)
        await self._server.close_all_connections()
        self._server = None
        return cancelled

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


def parse_update(body: bytes, bot: Bot) -> Update | None:
    """The update in BODY, or None when it is not one (not JSON, not an object, no id)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError included; deeply nested lists
        return None
    if not isinstance(data, dict):
        return None
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    try:
        return Update.de_json(data, bot)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


@tornado.web.stream_request_body
class _UpdateHandler(tornado.web.RequestHandler):
    """POST <path>: one update from Telegram."""

    def initialize(self, server: WebhookServer) -> None:
        self.server = server
        self.body = bytearray()

    def log_exception(self, *args: Any) -> None:
        """Errors are logged by the server's own code, without request details."""

    async def prepare(self) -> None:
        """Judge the call on its headers alone, before any of its body is read."""
        if self.request.method != "POST":
            return  # tornado answers 405
        server = self.server
        if not server.accepts(self.request.headers.get(SECRET_HEADER)):
            await self._refuse(403)
            return
        length = self.request.headers.get("Content-Length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            log.warning(
                "webhook request larger than any update; answered 413",
                extra={"content_length": int(length), "limit": MAX_BODY_BYTES},
            )
            await self._refuse(413)

    def data_received(self, chunk: bytes) -> None:
        """Keep the body (the server refuses one larger than MAX_BODY_BYTES, chunked or not)."""
        self.body += chunk

    async def post(self) -> None:
        server = self.server
        if server.stopping:
            await self._answer(503)  # Telegram delivers it again later
            return
        update = parse_update(bytes(self.body), server.bot)
        if update is None:
            log.warning("webhook request with a body that is not an update; answered 400")
            await self._answer(400)
            return
        try:
            await server.handle(update)
        except (UpdateDeferred, asyncio.CancelledError):
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise
            # The bot is stopping: not processed, Telegram delivers it again.
            await self._answer(503)
            return
        except Exception:
            log.exception(
                "processing an update failed; Telegram will retry it",
                extra={"update_id": update.update_id},
            )
            await self._answer(500)
            return
        await self._answer(200)

    async def _refuse(self, status: int) -> None:
        """Answer STATUS and close the connection, leaving the body unread."""
        self.set_header("Connection", "close")
        await self._answer(status)
        connection = self.request.connection
        # Tornado's own server speaks HTTP/1 on every connection it hands a handler.
        assert isinstance(connection, HTTP1Connection)
        # Past the size check, a body is read from the stream, which is closed: nothing is.
        connection.set_max_body_size(UNREAD_BODY_BYTES)
        connection.stream.close()

    async def _answer(self, status: int) -> None:
        self.set_status(status)
        # Telegram may have given up waiting; nothing to do then, it delivers again.
        with contextlib.suppress(StreamClosedError):
            await self.finish()
