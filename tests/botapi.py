"""The fake Bot API of the tests and the benchmarks: one model of Telegram, three ways to reach it.

The model is `bot.local_api.LocalBotApi` (it ships, for the console mode): it answers the bot's
calls as Telegram would and keeps what every chat shows. Here, for tests and benchmarks:

- `LimitedBotApi`: the same in process, with Telegram's limits and latency on real time (for
  the in-process benchmarks): at most `overall` new messages in any `window` seconds, and at
  most `per_chat` in any `window` seconds to one chat; beyond that it answers 429 with
  `retry_after` (whole seconds, at least 1, as Telegram does) and counts the refusal. Only calls
  that make a new message count; edits, deletions and `answerCallbackQuery` are answered and
  counted but not limited. Every call takes `latency` seconds: half on the way there (the limits
  are checked on arrival, and that is when a message counts as sent), half back. It notes when
  each message was accepted and for which chat, and the CPU time it spends itself (`cpu_s`).
- `FakeTelegram`: the same model behind HTTP on 127.0.0.1, for real bot processes (end-to-end
  tests, `bench/http.py`, `bench/startup.py`, `bench/workers.py`); it also plays Telegram's side
  of receiving updates: `getUpdates` long polls with offsets
(an update stays pending until a later offset confirms it), or, once `setWebhook` was called,
it POSTs each pending update to the bot's URL with the secret header, in order, retrying until
the bot answers 200. Tests wait on its state (`wait_until`) instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import socket
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import tornado.httpserver
import tornado.httputil
import tornado.netutil
import tornado.web
from telegram.request import RequestData
from tornado.http1connection import HTTP1Connection
from tornado.iostream import StreamClosedError

from bot.local_api import ANSWERED_WITH_TRUE, ApiCall, LocalBotApi, error_body
from bot.ratelimit import NEW_MESSAGE_METHODS

T = TypeVar("T")
Listener = Callable[[int, float], None]

EXTRA_TRUE_METHODS = frozenset(
    {
        "setMyDescription",
        "setMyShortDescription",
        "setMyName",
        "setMessageReaction",
        "pinChatMessage",
        "unpinChatMessage",
    }
)
# Parameters sent as plain strings that must not be read as JSON even when they look like it.
STRING_PARAMS = {"text", "caption", "url", "secret_token", "callback_query_id", "file_id"}
WEBHOOK_RETRY_SECONDS = (0.05, 0.1, 0.2, 0.4)
WEBHOOK_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Limits:
    """What the fake Telegram allows (None: no limit) and how long each call takes."""

    overall: int | None = 30
    per_chat: int | None = 1
    window: float = 1.0
    latency: float = 0.05

    @classmethod
    def lifted(cls) -> Limits:
        """No limit and no latency: what the bot itself can do."""
        return cls(overall=None, per_chat=None, latency=0.0)

    def describe(self) -> dict[str, Any]:
        """The limits as plain values for a JSON line."""
        return {
            "api_overall_per_s": self.overall,
            "api_per_chat_per_s": self.per_chat,
            "api_latency_ms": self.latency * 1000,
        }


class SlidingWindow:
    """At most LIMIT events in any WINDOW seconds."""

    def __init__(self, limit: int, window: float) -> None:
        """Start empty."""
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more event fits (0: it fits now)."""
        times = self._times
        while times and times[0] <= now - self.window:
            times.popleft()
        if len(times) < self.limit:
            return 0.0
        return times[len(times) - self.limit] + self.window - now

    def add(self, now: float) -> None:
        """Count an event at NOW."""
        self._times.append(now)


class LimitedBotApi(LocalBotApi):
    """LocalBotApi that enforces Telegram's message limits on real time and takes its time."""

    def __init__(self, limits: Limits) -> None:
        """Serve with LIMITS; nothing accepted yet."""
        super().__init__()
        self.limits = limits
        self.cpu_s = 0.0
        self.methods: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()  # "overall" / "per_chat"
        self.accepted: list[tuple[float, int]] = []  # (perf_counter, chat_id) of new messages
        self.listeners: dict[int, Listener] = {}
        self.any_listener: Listener | None = None
        self._overall = SlidingWindow(limits.overall, limits.window) if limits.overall else None
        self._chats: dict[int, SlidingWindow] = {}

    @property
    def refusals(self) -> int:
        """Every 429 answered."""
        return sum(self.refused.values())

    def _refusal(self, chat_id: int, now: float) -> tuple[str, float] | None:
        """Why and how long a new message to CHAT_ID must wait, or None if it may go now."""
        limits = self.limits
        chat_window = None
        if limits.per_chat:
            chat_window = self._chats.get(chat_id)
            if chat_window is None:
                chat_window = self._chats[chat_id] = SlidingWindow(limits.per_chat, limits.window)
            wait = chat_window.wait(now)
            if wait > 0:
                return "per_chat", wait
        if self._overall is not None:
            wait = self._overall.wait(now)
            if wait > 0:
                return "overall", wait
            self._overall.add(now)
        if chat_window is not None:
            chat_window.add(now)
        return None

    async def answer(
        self, url: str, method: str, request_data: RequestData | None
    ) -> tuple[int, bytes]:
        """Travel half the latency, decide (limits), answer as LocalBotApi does, travel back."""
        half = self.limits.latency / 2
        if half > 0:
            await asyncio.sleep(half)
        started_cpu = time.thread_time()
        now = time.perf_counter()
        api_method = url.rsplit("/", 1)[-1]
        self.methods[api_method] += 1
        chat_id: int | None = None
        answer: tuple[int, bytes] | None = None
        if method != "GET" and api_method in NEW_MESSAGE_METHODS and request_data is not None:
            chat_id = int(request_data.parameters["chat_id"])
            refusal = self._refusal(chat_id, now)
            if refusal is not None:
                why, wait = refusal
                self.refused[why] += 1
                seconds = max(1, math.ceil(wait))
                body = error_body(429, f"Too Many Requests: retry after {seconds}", seconds)
                answer = (429, json.dumps(body).encode())
        if answer is None:
            # LocalBotApi answers without awaiting anything when it has no on_call hook.
            answer = await super().answer(url, method, request_data)
            if chat_id is not None and answer[0] == 200:
                self.accepted.append((now, chat_id))
                listener = self.listeners.get(chat_id)
                if listener is not None:
                    listener(chat_id, now)
                if self.any_listener is not None:
                    self.any_listener(chat_id, now)
        self.cpu_s += time.thread_time() - started_cpu
        if half > 0:
            await asyncio.sleep(half)
        return answer


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most events in any WINDOW seconds (times in any order)."""
    ordered = sorted(times)
    best = start = 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - window:
            start += 1
        best = max(best, end - start + 1)
    return best


@dataclass
class WebhookDelivery:
    """One POST of an update to the bot's webhook, and how the bot answered."""

    update_id: int
    status: int | None
    error: str | None = None


class FakeTelegram(LocalBotApi):
    """Telegram's side of one bot: its chats, its pending updates, polling and webhook."""

    answered_with_true = ANSWERED_WITH_TRUE | EXTRA_TRUE_METHODS

    def __init__(self, token: str) -> None:
        """Serve the bot with TOKEN (other tokens get 401)."""
        super().__init__()
        self.token = token
        self.pending: list[dict[str, Any]] = []
        self.history: dict[int, dict[str, Any]] = {}  # every update ever queued, by id
        self.confirmed_below = 0
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.deliveries: list[WebhookDelivery] = []
        self.activity: dict[int, int] = {}
        # Which bot process (the harness counts them) took each update.
        self.generation = 0
        self.taken_by: dict[int, int] = {}
        self._update_ids = itertools.count(1001)
        self._changed = asyncio.Event()
        self._poll_round = 0
        self._pusher: asyncio.Task | None = None
        self._server: tornado.httpserver.HTTPServer | None = None
        self.port = 0

    # -- the server ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What TELEGRAM_API_BASE_URL must be for the bot to talk to this server."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        app = tornado.web.Application(
            [
                (r"/bot([^/]+)/([A-Za-z]+)", _MethodHandler, {"api": self}),
                (r"/file/bot([^/]+)/(.+)", _FileHandler, {"api": self}),
            ],
            log_function=lambda handler: None,
        )
        sockets = tornado.netutil.bind_sockets(0, "127.0.0.1")
        self.port = sockets[0].getsockname()[1]
        self._server = tornado.httpserver.HTTPServer(app)
        self._server.add_sockets(sockets)

    async def stop(self) -> None:
        """Stop serving and pushing."""
        self.webhook_url = None
        self.notify()
        if self._pusher is not None:
            self._pusher.cancel()
            await asyncio.gather(self._pusher, return_exceptions=True)
        if self._server is not None:
            self._server.stop()
            await self._server.close_all_connections()

    # -- waiting on state -------------------------------------------------------------------

    def notify(self) -> None:
        """Wake everything waiting on this server's state (it may have changed)."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_until(self, condition: Callable[[], T], within: float, what: str) -> T:
        """Wait (at most WITHIN seconds) until CONDITION returns something true; return it."""
        deadline = time.monotonic() + within
        while True:
            result = condition()
            if result:
                return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"waited {within:g} s for {what}")
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    def calls_of(self, method: str, since: int = 0) -> list[ApiCall]:
        """The bot's calls of METHOD, from position SINCE in the call list."""
        return [call for call in self.calls[since:] if call.method == method]

    # -- the user's side -----------------------------------------------------------------------

    def queue_update(self, payload: dict[str, Any], update_id: int | None = None) -> int:
        """Queue an update for the bot (PAYLOAD without update_id); returns its update_id."""
        if update_id is None:
            update_id = next(self._update_ids)
        update = {"update_id": update_id, **payload}
        self.history[update_id] = update
        self.pending.append(update)
        self.notify()
        return update_id

    def redeliver(self, update_id: int) -> None:
        """Hand UPDATE_ID to the bot again, as Telegram does after an unconfirmed offset."""
        self.pending.append(self.history[update_id])
        self.notify()

    def is_confirmed(self, update_id: int) -> bool:
        """Whether the bot has taken UPDATE_ID for good (a later offset, or a webhook 200)."""
        return all(update["update_id"] != update_id for update in self.pending)

    def is_lost(self, update_id: int) -> bool:
        """Whether UPDATE_ID went for good to a bot process that has since been replaced.

        Telegram will not deliver it again: the process confirmed it (its next long poll, or
        its webhook's 200 came before the work was done) and then died.
        """
        taken = self.taken_by.get(update_id)
        return taken is not None and taken < self.generation and self.is_confirmed(update_id)

    # -- answering the bot -------------------------------------------------------------------

    def received(
        self, method: str, params: dict[str, Any], *, at: float, caller_gone: bool
    ) -> None:
        """A call came over HTTP at AT (time.time()), about to be answered.

        CALLER_GONE: the bot had already closed that connection (its call timed out, or the
        process died), so AT says nothing of when the call was sent.
        """

    async def call(
        self, method: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call: (HTTP status, JSON body)."""
        if method == "getUpdates":
            return await self._get_updates(params)
        try:
            return await self.handle(method, params, files)
        finally:
            chat_id = params.get("chat_id")
            if chat_id is not None:
                key = int(chat_id)
                self.activity[key] = self.activity.get(key, 0) + 1
            self.notify()

    async def _get_updates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.calls.append(ApiCall("getUpdates", params))
        self.notify()
        if self.webhook_url:
            return 409, error_body(
                409, "Conflict: can't use getUpdates method while webhook is active"
            )
        offset = int(params.get("offset") or 0)
        if offset > self.confirmed_below:
            self.confirmed_below = offset
            self.pending = [u for u in self.pending if u["update_id"] >= offset]
            self.notify()
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        # A newer long poll ends the older one, as on Telegram.
        self._poll_round += 1
        poll_round = self._poll_round
        deadline = time.monotonic() + timeout
        while True:
            if poll_round != self._poll_round:
                return 409, error_body(409, "Conflict: terminated by other getUpdates request")
            ready = [u for u in self.pending if u["update_id"] >= offset][:limit]
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0:
                for update in ready:
                    self.taken_by[update["update_id"]] = self.generation
                return 200, {"ok": True, "result": ready}
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    def _api_setWebhook(self, params: dict, files: dict) -> bool:
        self.webhook_url = str(params["url"]) or None
        self.webhook_secret = params.get("secret_token")
        if params.get("drop_pending_updates"):
            self.pending.clear()
        if self.webhook_url and (self._pusher is None or self._pusher.done()):
            self._pusher = asyncio.get_running_loop().create_task(self._push())
        return True

    def _api_deleteWebhook(self, params: dict, files: dict) -> bool:
        self.webhook_url = None
        if params.get("drop_pending_updates"):
            self.pending.clear()
        return True

    def _api_getWebhookInfo(self, params: dict, files: dict) -> dict:
        return {"url": self.webhook_url or "", "pending_update_count": len(self.pending)}

    def _push(self) -> Coroutine[Any, Any, None]:
        """What pushes the pending updates to the webhook (one at a time, here)."""
        return self._push_updates()

    async def _push_updates(self) -> None:
        retry = 0
        async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT_SECONDS) as client:
            while True:
                await self.wait_until(
                    lambda: self.webhook_url is None or self.pending, 3600, "an update to push"
                )
                if self.webhook_url is None:
                    return
                update = self.pending[0]
                headers = {"X-Telegram-Bot-Api-Secret-Token": self.webhook_secret or ""}
                try:
                    response = await client.post(self.webhook_url, json=update, headers=headers)
                    delivery = WebhookDelivery(update["update_id"], response.status_code)
                except httpx.HTTPError as exc:
                    delivery = WebhookDelivery(update["update_id"], None, type(exc).__name__)
                self.deliveries.append(delivery)
                if delivery.status == 200:
                    self.taken_by[update["update_id"]] = self.generation
                    if self.pending and self.pending[0] is update:
                        self.pending.pop(0)
                    retry = 0
                else:
                    # Telegram retries a failed delivery later; a short pause keeps tests quick.
                    await asyncio.sleep(WEBHOOK_RETRY_SECONDS[min(retry, 3)])
                    retry += 1
                self.notify()


def _decode(name: str, raw: bytes) -> Any:
    value = raw.decode("utf-8")
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _hung_up(request: tornado.httputil.HTTPServerRequest) -> bool:
    """Whether the client had closed the connection REQUEST came on: it gave up on the answer.

    A timed-out or killed bot closes its connection after sending the call, so the close is
    read after the call, on the same connection: a call read late is known to be late.
    """
    connection = request.connection
    assert isinstance(connection, HTTP1Connection)  # tornado's own server speaks HTTP/1
    stream = connection.stream
    if stream.closed():
        return True
    try:
        return stream.socket.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False  # open, nothing more sent yet
    except OSError:
        return True  # reset


class _MethodHandler(tornado.web.RequestHandler):
    """POST (or GET) /bot<token>/<method>."""

    def initialize(self, api: FakeTelegram) -> None:
        self.api = api

    def log_exception(self, *args: Any) -> None:
        """Keep test output quiet; failures show in the test's own assertions."""

    async def get(self, token: str, method: str) -> None:
        await self.post(token, method)

    async def post(self, token: str, method: str) -> None:
        if token != self.api.token:
            await self._reply(401, error_body(401, "Unauthorized"))
            return
        arguments = {**self.request.query_arguments, **self.request.body_arguments}
        params = {name: _decode(name, values[0]) for name, values in arguments.items()}
        if self.request.headers.get("Content-Type", "").startswith("application/json"):
            params.update(json.loads(self.request.body or b"{}"))
        files = {name: parts[0].body for name, parts in self.request.files.items()}
        at = time.time()
        # Looked at after the time is taken: a connection still open now was open at AT.
        self.api.received(method, params, at=at, caller_gone=_hung_up(self.request))
        status, body = await self.api.call(method, params, files)
        await self._reply(status, body)

    async def _reply(self, status: int, body: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        # The bot process may have been killed while waiting for this answer.
        with contextlib.suppress(StreamClosedError):
            await self.finish(json.dumps(body))


class _FileHandler(tornado.web.RequestHandler):
    """GET /file/bot<token>/<file_path>: a file the user uploaded or the bot sent."""

    def initialize(self, api: FakeTelegram) -> None:
        self.api = api

    async def get(self, token: str, file_path: str) -> None:
        if token != self.api.token or file_path not in self.api.files:
            self.set_status(404)
            await self.finish(b"Not Found")
            return
        await self.finish(self.api.files[file_path])
