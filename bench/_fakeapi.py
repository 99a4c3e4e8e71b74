"""An in-process Bot API with Telegram's limits and latency, on real time.

`LimitedBotApi` is the project's `LocalBotApi` (bot/local_api.py) with three additions:

- **limits**, like Telegram's: at most `overall` new messages in any `window` seconds, and at most
  `per_chat` in any `window` seconds to one chat; beyond that it answers 429 with `retry_after`
  (whole seconds, at least 1, as Telegram does) and counts the refusal. Only calls that make a
  new message count (`sendMessage`, `sendDocument`, ...); edits, deletions and
  `answerCallbackQuery` are answered and counted but not limited;
- **latency**: every call takes `latency` seconds: half on the way there (the limits are checked
  on arrival, and that is when a message counts as sent and the person sees it), half back;
- **accounting**: when each message was accepted and for which chat (the listeners hear of it at
  once), and the CPU time the fake itself spends (`cpu_s`), so that a benchmark can subtract it.

`TelegramThread` runs the Telegram side (this API, and the simulated people) on a thread of its
own with its own event loop, and `RemoteRequest` is the bot's request class that carries each call
there and back, as a socket would: the bot's event loop then runs only the bot, and the Telegram
side's CPU time is that thread's, measured exactly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import math
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from telegram.request import BaseRequest, RequestData

from bot.local_api import LocalBotApi
from bot.ratelimit import NEW_MESSAGE_METHODS

Listener = Callable[[int, float], None]
T = TypeVar("T")


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

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
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
                body = {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {seconds}",
                    "parameters": {"retry_after": seconds},
                }
                answer = (429, json.dumps(body).encode())
        if answer is None:
            # LocalBotApi answers without awaiting anything when it has no on_call hook.
            answer = await super().do_request(url, method, request_data)
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


class TelegramThread:
    """The Telegram side on its own thread and event loop; its CPU time is measured apart."""

    def __init__(self) -> None:
        """Prepare the loop; start() runs it."""
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="telegram-side", daemon=True)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def __enter__(self) -> TelegramThread:
        """Start the thread."""
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop the loop and the thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()

    def cpu_s(self) -> float:
        """CPU time the thread has used so far."""
        assert self._thread.ident is not None
        return time.clock_gettime(time.pthread_getcpuclockid(self._thread.ident))

    def run(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run COROUTINE on the Telegram side."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)


class RemoteRequest(BaseRequest):
    """The bot's request class: each call goes to the API on the Telegram thread and back."""

    def __init__(self, api: LimitedBotApi, side: TelegramThread) -> None:
        """Talk to API, served on SIDE."""
        self.api = api
        self.side = side

    @property
    def read_timeout(self) -> float | None:
        """No timeout, as for LocalBotApi."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """Hand the call to the Telegram thread and wait for its answer."""
        answer = self.side.run(self.api.do_request(url, method, request_data))
        return await asyncio.wrap_future(answer)
